"""The standalone server: signaling, the browser client and the demo page in one ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from .asgi import SignalingEndpoint, webrtc
from .backends.base import Backend
from .hub import DEFAULT_MAX_PEERS

DEFAULT_PATH = "/api/call/signal"

_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".ts": "text/plain; charset=utf-8",
}


def web_asset(name: str) -> bytes:
    """A file shipped in ``rtcroom/web`` (the browser client and the demo page)."""
    return resources.files("rtcroom").joinpath("web", name).read_bytes()


def _asset_route(url: str, name: str) -> Route:
    suffix = name[name.rfind(".") :]
    media_type = _MEDIA_TYPES.get(suffix, "application/octet-stream")

    async def serve(request: Request) -> Response:
        return Response(
            web_asset(name), media_type=media_type, headers={"cache-control": "no-cache"}
        )

    return Route(url, serve, methods=["GET", "HEAD"])


def create_app(
    *,
    max_peers: int = DEFAULT_MAX_PEERS,
    path: str = DEFAULT_PATH,
    backend: Backend | None = None,
) -> Starlette:
    """``rtcroom serve`` as an app: mount it, or hand it to any ASGI server."""
    endpoint: SignalingEndpoint = webrtc(max_peers=max_peers, backend=backend)

    async def health(request: Request) -> JSONResponse:
        stats = await endpoint.hub.get_room_stats()
        return JSONResponse(
            {
                "status": "ok",
                "signal_path": path,
                "rooms": stats.room_count,
                "peers": stats.total_peers,
            }
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await endpoint.hub.close()

    routes = [
        WebSocketRoute(path, endpoint),
        Route(path, endpoint, methods=["GET"]),  # a plain GET learns it needs a WebSocket
        Route("/healthz", health),
        _asset_route("/", "index.html"),
    ]
    for name in sorted(p.name for p in resources.files("rtcroom").joinpath("web").iterdir()):
        if name != "index.html" and not name.startswith("."):
            routes.append(_asset_route(f"/{name}", name))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.signaling = endpoint
    return app
