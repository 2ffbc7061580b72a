"""The standalone server: signaling, the browser client and the demo page in one ASGI app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from .asgi import SignalingEndpoint, WebFileApp, webrtc
from .backends.base import Backend, BackendUnavailable
from .hub import DEFAULT_MAX_PEERS
from .webfiles import web_asset, web_asset_names

DEFAULT_PATH = "/api/call/signal"

__all__ = ["DEFAULT_PATH", "create_app", "reserved_paths", "web_asset"]

log = logging.getLogger("rtcroom.app")

HEALTH_PATH = "/healthz"


def reserved_paths() -> set[str]:
    """Paths the standalone server answers itself, so the signaling path cannot be one."""
    return {HEALTH_PATH, "/"} | {f"/{name}" for name in web_asset_names()}


def _asset_route(url: str, name: str) -> Route:
    # The same file server as browser_client(): one set of headers, ETag revalidation (304).
    return Route(url, WebFileApp(name), methods=["GET", "HEAD"])


def create_app(
    *,
    max_peers: int = DEFAULT_MAX_PEERS,
    path: str = DEFAULT_PATH,
    backend: Backend | None = None,
) -> Starlette:
    """``rtcroom serve`` as an app: mount it, or hand it to any ASGI server."""
    endpoint: SignalingEndpoint = webrtc(max_peers=max_peers, backend=backend)

    async def health(request: Request) -> JSONResponse:
        try:
            stats = await endpoint.hub.get_room_stats()
        except BackendUnavailable as exc:  # a load balancer should route around this process
            return JSONResponse({"status": "unavailable", "error": str(exc)}, status_code=503)
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
        await endpoint.hub.open()  # a shared backend connects (and reports trouble) at start
        yield
        await endpoint.hub.close()

    routes = [
        WebSocketRoute(path, endpoint),
        Route(path, endpoint, methods=["GET"]),  # a plain GET learns it needs a WebSocket
        Route(HEALTH_PATH, health),
        _asset_route("/", "index.html"),
    ]
    for name in web_asset_names():
        if name != "index.html":
            routes.append(_asset_route(f"/{name}", name))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.router.default = _WrongWebSocketPath(path, otherwise=app.router.default)
    app.state.signaling = endpoint
    return app


class _WrongWebSocketPath:
    """A WebSocket to any other path is refused with a 404 naming the signaling path, where
    Starlette sends a bare 403. Browsers show only the status, so the log says it too."""

    def __init__(self, signal_path: str, *, otherwise: ASGIApp) -> None:
        self.signal_path = signal_path
        self.otherwise = otherwise

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.otherwise(scope, receive, send)
            return
        asked = scope.get("path", "")
        text = f"no WebSocket endpoint at {asked}; the signaling endpoint is {self.signal_path}"
        log.warning(
            "refused a WebSocket to %r: the signaling endpoint is %s", asked, self.signal_path
        )
        websocket = WebSocket(scope, receive, send)
        if "websocket.http.response" in scope.get("extensions", {}):
            await websocket.send_denial_response(PlainTextResponse(text + "\n", status_code=404))
        else:  # a server without the denial extension can only refuse with a bare 403
            await websocket.close(code=1008)
