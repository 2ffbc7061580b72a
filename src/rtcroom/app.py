"""The standalone server: signaling, the browser client and the demo page in one ASGI app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from . import admin, logs
from .asgi import SignalingEndpoint, WebFileApp, webrtc
from .auth import Auth
from .backends.base import Backend, BackendUnavailable
from .gate import ICE_SERVERS_SUFFIX
from .hub import DEFAULT_MAX_PEERS, DuplicateIdentity
from .limits import Limits
from .metrics import metrics_endpoint
from .resume import Resume
from .turn import IceServers
from .webfiles import web_asset, web_asset_names
from .webhooks import Webhooks

DEFAULT_PATH = "/api/call/signal"

__all__ = ["DEFAULT_PATH", "create_app", "reserved_paths", "web_asset"]

log = logging.getLogger("rtcroom.app")

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
ADMIN_PATH = admin.DEFAULT_PREFIX


def reserved_paths() -> set[str]:
    """Paths the standalone server answers itself, so the signaling path cannot be one."""
    return {HEALTH_PATH, METRICS_PATH, ADMIN_PATH, "/"} | {f"/{n}" for n in web_asset_names()}


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
    admin_secret: str | None = None,
    metrics: bool = False,
    webhooks: Webhooks | None = None,
    log_events: bool = False,
    resume: Resume | None = None,
) -> Starlette:
    """``rtcroom serve`` as an app: mount it, or hand it to any ASGI server.

    The admin API is at ``/admin`` (``admin_secret``, else loopback clients only); ``metrics``
    adds ``GET /metrics``; ``webhooks`` sends the hub's events; ``log_events`` logs each join
    and leave to ``rtcroom.events``; ``resume`` sets how opted-in peers survive a dropped socket.
    """
    endpoint: SignalingEndpoint = webrtc(
        max_peers=max_peers,
        backend=backend,
        auth=auth,
        limits=limits,
        ice_servers=ice_servers,
        on_duplicate_identity=on_duplicate_identity,
        resume=resume,
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
        Route(HEALTH_PATH, health),
        Mount(ADMIN_PATH, admin.admin_api(endpoint.hub, admin_secret)),
        _asset_route("/", "index.html"),
    ]
    if metrics:
        routes.append(Route(METRICS_PATH, metrics_endpoint(endpoint.hub, webhooks)))
    if webhooks is not None:
        webhooks.attach(endpoint.hub)
    if log_events:
        logs.log_events(endpoint.hub)
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
