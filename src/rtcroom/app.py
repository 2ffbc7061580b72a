"""The standalone server: signaling, the browser client and the demo page in one ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from .asgi import SignalingEndpoint, WebFileApp, webrtc
from .auth import Auth
from .backends.base import Backend, BackendUnavailable
from .gate import ICE_SERVERS_SUFFIX
from .hub import DEFAULT_MAX_PEERS, DuplicateIdentity
from .limits import Limits
from .turn import IceServers
from .webfiles import web_asset, web_asset_names

DEFAULT_PATH = "/api/call/signal"

__all__ = ["DEFAULT_PATH", "create_app", "web_asset"]


def _asset_route(url: str, name: str) -> Route:
    # The same file server as browser_client(): one set of headers, ETag revalidation (304).
    return Route(url, WebFileApp(name), methods=["GET", "HEAD"])


def create_app(
    *,
    max_peers: int = DEFAULT_MAX_PEERS,
    path: str = DEFAULT_PATH,
    backend: Backend | None = None,
    auth: Auth | None = None,
    limits: Limits | None = None,
    ice_servers: IceServers | None = None,
    on_duplicate_identity: DuplicateIdentity = "allow",
) -> Starlette:
    """``rtcroom serve`` as an app: mount it, or hand it to any ASGI server."""
    endpoint: SignalingEndpoint = webrtc(
        max_peers=max_peers,
        backend=backend,
        auth=auth,
        limits=limits,
        ice_servers=ice_servers,
        on_duplicate_identity=on_duplicate_identity,
    )

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
        Route(path.rstrip("/") + ICE_SERVERS_SUFFIX, endpoint.ice_servers, methods=["GET", "HEAD"]),
        Route("/healthz", health),
        _asset_route("/", "index.html"),
    ]
    for name in web_asset_names():
        if name != "index.html":
            routes.append(_asset_route(f"/{name}", name))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.signaling = endpoint
    return app
