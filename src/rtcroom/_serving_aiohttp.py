"""``rtcroom serve`` on aiohttp: the same server as :func:`rtcroom.app.create_app`, on aiohttp's
C WebSocket reader, which costs markedly less CPU and memory per peer than uvicorn's
(docs/benchmarks.md). Chosen when aiohttp is installed (``pip install 'rtcroom[fast]'``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from . import logs
from .aiohttp import WebFileHandler, webrtc
from .aiohttp_ops import admin_handler, metrics_handler
from .app import ADMIN_PATH, HEALTH_PATH, METRICS_PATH
from .backends.base import BackendUnavailable
from .gate import ICE_SERVERS_SUFFIX
from .webfiles import web_asset_names
from .webhooks import Webhooks

log = logging.getLogger("rtcroom.app")

BACKLOG = 2048
"""Handshakes waiting to be accepted (uvicorn's default; aiohttp's 128 drops a burst of
connecting clients into TCP's one-second SYN retry)."""
SHUTDOWN_SECONDS = 5.0
"""How long a stop waits for sockets to finish closing (every one was sent a close at once)."""


def create_app(
    *,
    path: str,
    admin_secret: str | None = None,
    metrics: bool = False,
    webhooks: Webhooks | None = None,
    log_events: bool = False,
    **options: Any,
) -> web.Application:
    """The routes of :func:`rtcroom.app.create_app`, with its options; the others are
    :func:`rtcroom.aiohttp.webrtc`'s."""
    handler = webrtc(**options)
    hub = handler.hub

    async def health(request: web.Request) -> web.Response:
        try:
            stats = await hub.get_room_stats()
        except BackendUnavailable as exc:  # a load balancer should route around this process
            return web.json_response({"status": "unavailable", "error": str(exc)}, status=503)
        body = {
            "status": "ok",
            "signal_path": path,
            "rooms": stats.room_count,
            "peers": stats.total_peers,
        }
        return web.json_response(body)

    app = web.Application()
    app.router.add_get(path, handler)
    app.router.add_get(path.rstrip("/") + ICE_SERVERS_SUFFIX, handler.ice_servers)
    app.router.add_get(HEALTH_PATH, health)
    admin_api = admin_handler(hub, admin_secret, ADMIN_PATH)
    app.router.add_route("*", ADMIN_PATH, admin_api)
    app.router.add_route("*", ADMIN_PATH + "/{rest:.*}", admin_api)
    if metrics:
        app.router.add_get(METRICS_PATH, metrics_handler(hub, webhooks))
    if webhooks is not None:
        webhooks.attach(hub)
    if log_events:
        logs.log_events(hub)
    for name in web_asset_names():
        app.router.add_get("/" if name == "index.html" else f"/{name}", WebFileHandler(name))
    app.router.add_get("/{anything:.*}", _wrong_websocket_path(path))  # last: what is left

    async def open_hub(app: web.Application) -> None:
        await hub.open()  # a shared backend connects (and reports trouble) at start

    async def close_hub(app: web.Application) -> None:
        await hub.close()  # every socket hears 1001 before the server waits for them

    app.on_startup.append(open_hub)
    app.on_shutdown.append(close_hub)
    app["signaling"] = handler
    return app


def _wrong_websocket_path(signal_path: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A WebSocket to any other path gets a 404 naming the signaling path (the log says it too:
    browsers show only the status). A route, not a middleware: a middleware's frame would stay
    alive beside every open socket."""

    async def refuse(request: web.Request) -> web.Response:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            raise web.HTTPNotFound()
        asked = request.path
        log.warning("refused a WebSocket to %r: the signaling endpoint is %s", asked, signal_path)
        text = f"no WebSocket endpoint at {asked}; the signaling endpoint is {signal_path}\n"
        return web.Response(status=404, text=text)

    return refuse


class _AccessLog(AbstractAccessLogger):
    """One line per request or socket, shaped like uvicorn's, for ``--log-level debug``."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        client = request.remote or "-"
        if response.status == 101:
            self.logger.info('%s - "WebSocket %s" %d', client, request.path_qs, 101)
        else:
            version = f"{request.version.major}.{request.version.minor}"
            self.logger.info(
                '%s - "%s %s HTTP/%s" %d',
                client,
                request.method,
                request.path_qs,
                version,
                response.status,
            )


def serve(app: web.Application, sock: socket.socket, announcement: str, log_level: str) -> int:
    """Serve on the bound ``sock`` until SIGINT/SIGTERM; prints ``announcement`` once listening
    and ``rtcroom: stopped`` after a stop (exit status 0, no traceback)."""
    try:
        import uvloop

        runner: Callable[..., Any] = uvloop.run
    except ImportError:  # uvloop has no Windows build
        runner = asyncio.run
    stopped: int | None = runner(_serve(app, sock, announcement, log_level))
    if stopped is None:
        return 1
    print("rtcroom: stopped", flush=True)
    return 0


async def _serve(
    app: web.Application, sock: socket.socket, announcement: str, log_level: str
) -> int | None:
    access = log_level == "debug"  # a line per connection halves the join rate: debug only
    runner = web.AppRunner(
        app,
        access_log_class=_AccessLog,
        access_log=logging.getLogger("aiohttp.access") if access else None,
        handle_signals=False,
        shutdown_timeout=SHUTDOWN_SECONDS,
    )
    try:
        await runner.setup()
    except Exception as exc:
        logging.getLogger("rtcroom").error("cannot start: %s", exc)
        await runner.cleanup()
        return None
    gc.freeze()  # what start-up built lives as long as the process: no collection rescans it
    stop = asyncio.Event()
    stopped_by: list[int] = []
    loop = asyncio.get_running_loop()

    def on_signal(sig: int) -> None:
        stopped_by.append(sig)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
        except NotImplementedError:  # Windows: Ctrl-C arrives as KeyboardInterrupt instead
            pass
    try:
        site = web.SockSite(runner, sock, backlog=BACKLOG)
        await site.start()
        print(announcement, flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()
    return stopped_by[0] if stopped_by else signal.SIGINT
