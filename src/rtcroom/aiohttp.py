"""``webrtc(...)`` for aiohttp apps::

from rtcroom.aiohttp import webrtc
app.router.add_get("/api/call/signal", webrtc(max_peers=4))
app.router.add_get("/rtcroom.js", browser_client())
"""

from __future__ import annotations

from ._extras import require

require("aiohttp", __name__, "aiohttp")

import asyncio
import inspect
import logging

from aiohttp import WebSocketError, WSCloseCode, WSMsgType, web

from . import asgi
from .asgi import DEFAULT_MAX_MESSAGE_BYTES
from .backends.base import Backend
from .hub import DEFAULT_MAX_PEERS, DEFAULT_MAX_ROOM_ID_LENGTH, SignalingCallbacks, SignalingHub
from .webfiles import WebFile

log = logging.getLogger("rtcroom.aiohttp")

_TOO_BIG = WSCloseCode.MESSAGE_TOO_BIG

HEARTBEAT_SECONDS = 30.0
"""Protocol-level pings, so dead sockets (and their room slots) are found without traffic."""


def _mark_async(handler: object) -> None:
    """aiohttp warns about handler objects it cannot see are async; say this one is."""
    if hasattr(inspect, "markcoroutinefunction"):  # Python 3.12+
        inspect.markcoroutinefunction(handler)
    else:
        handler._is_coroutine = getattr(asyncio.coroutines, "_is_coroutine", None)  # type: ignore[attr-defined]


class _AiohttpConnection:
    __slots__ = ("_ws",)

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws

    async def send(self, text: str) -> None:
        if not self._ws.closed:
            await self._ws.send_str(text)

    async def close(self, code: int, reason: str) -> None:
        await self._ws.close(code=code, message=reason.encode())


class AiohttpSignalingHandler:
    """An aiohttp request handler serving one signaling route; ``hub`` for rooms and kick."""

    def __init__(self, hub: SignalingHub, *, max_message_bytes: int) -> None:
        self.hub = hub
        self.max_message_bytes = max_message_bytes
        _mark_async(self)

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        # aiohttp refuses a message of max_msg_size bytes or more (with 1009): one more byte
        # than ours makes its rule the ASGI endpoint's, max_message_bytes inclusive.
        ws = web.WebSocketResponse(
            heartbeat=HEARTBEAT_SECONDS, max_msg_size=self.max_message_bytes + 1, compress=False
        )
        if not ws.can_prepare(request).ok:
            return web.Response(
                status=426,
                text=asgi.NOT_WEBSOCKET,
                headers={"Upgrade": "websocket"},
            )
        await ws.prepare(request)
        session = await self.hub.session(_AiohttpConnection(ws))
        limit = self.max_message_bytes
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await session.receive(msg.data)
                elif msg.type is WSMsgType.BINARY:
                    await session.receive_binary()
                elif msg.type is WSMsgType.ERROR:
                    error = msg.data
                    if isinstance(error, WebSocketError) and error.code == _TOO_BIG:
                        log.warning("closed a socket that sent a frame over %d bytes", limit)
                    else:
                        log.debug("socket error: %r", ws.exception())
        finally:
            await session.close()
        return ws


def webrtc(
    max_peers: int = DEFAULT_MAX_PEERS,
    callbacks: SignalingCallbacks | None = None,
    *,
    backend: Backend | None = None,
    hub: SignalingHub | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    max_room_id_length: int = DEFAULT_MAX_ROOM_ID_LENGTH,
) -> AiohttpSignalingHandler:
    """A signaling handler with its own rooms (or those of ``hub``, to share them)."""
    endpoint = asgi.webrtc(
        max_peers,
        callbacks,
        backend=backend,
        hub=hub,
        max_message_bytes=max_message_bytes,
        max_room_id_length=max_room_id_length,
    )
    return AiohttpSignalingHandler(endpoint.hub, max_message_bytes=max_message_bytes)


class WebFileHandler:
    """An aiohttp handler answering with one shipped file (``rtcroom.js`` by default)."""

    def __init__(self, name: str) -> None:
        self.file = WebFile.load(name)
        _mark_async(self)

    async def __call__(self, request: web.Request) -> web.Response:
        if self.file.not_modified(request.headers.get("If-None-Match")):
            return web.Response(status=304, headers=self.file.headers())
        return web.Response(body=self.file.body, headers=self.file.headers())


def browser_client(name: str = "rtcroom.js") -> WebFileHandler:
    """Serve rtcroom's browser client (or another shipped file: ``rtcroom.d.ts``,
    ``index.html``) from your aiohttp app; raises ``ValueError`` for an unknown name."""
    return WebFileHandler(name)
