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
import struct

from aiohttp import WebSocketError, WSCloseCode, WSMsgType, web

from . import asgi
from .asgi import DEFAULT_MAX_MESSAGE_BYTES
from .auth import Auth, RequestInfo
from .backends.base import Backend
from .gate import Gate
from .hub import (
    DEFAULT_MAX_PEERS,
    DEFAULT_MAX_ROOM_ID_LENGTH,
    DuplicateIdentity,
    SignalingCallbacks,
    SignalingHub,
)
from .limits import Limits
from .resume import Resume
from .turn import IceServers
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


_FRAME_HEADER = struct.Struct("!BB")
_FRAME_HEADER_16 = struct.Struct("!BBH")
_FRAME_HEADER_64 = struct.Struct("!BBQ")

COALESCE_BYTES = 64 * 1024
"""Frames to one socket are gathered and written once per event-loop turn (one system call
where there were as many as frames: most of the CPU a relay costs), while the socket's send
buffer holds less than this; past it, each frame goes through aiohttp's writer and waits for
the client to read (backpressure on the sender)."""


def _text_frame(text: str) -> bytes:
    """One unmasked, unfragmented text frame (RFC 6455 5.2), as a server sends it."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        return _FRAME_HEADER.pack(0x81, size) + payload
    if size < 65536:
        return _FRAME_HEADER_16.pack(0x81, 126, size) + payload
    return _FRAME_HEADER_64.pack(0x81, 127, size) + payload


class _AiohttpConnection:
    __slots__ = ("_pending", "_request", "_ws")

    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self._ws = ws
        self._request = request
        self._pending: list[bytes] | None = None

    async def send(self, text: str) -> None:
        ws = self._ws
        if ws.closed:
            return
        transport = self._request.transport
        if transport is None or transport.get_write_buffer_size() > COALESCE_BYTES:
            self._flush()
            await ws.send_str(text)
            return
        pending = self._pending
        if pending is None:
            self._pending = [_text_frame(text)]
            asyncio.get_running_loop().call_soon(self._flush)
        else:
            pending.append(_text_frame(text))

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        transport = self._request.transport
        if pending and transport is not None and not self._ws.closed:
            transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    async def close(self, code: int, reason: str) -> None:
        self._flush()  # what the hub sent before the close goes out before it
        await self._ws.close(code=code, message=reason.encode())


class AiohttpSignalingHandler:
    """An aiohttp request handler serving one signaling route; ``hub`` for rooms and kick."""

    def __init__(
        self, hub: SignalingHub, *, max_message_bytes: int, auth: Auth | None = None
    ) -> None:
        self.hub = hub
        self.max_message_bytes = max_message_bytes
        self.gate = Gate(hub, auth)
        self.ice_servers = IceServersHandler(self.gate)
        """Route ``GET <signal path>/ice-servers`` to it for apps that fetch before connecting."""
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
        info = request_info(request)
        refusal = self.gate.check_handshake(info)
        if refusal is not None:  # before the upgrade: a status and a one-line body
            return web.Response(
                status=refusal.http_status, text=refusal.message + "\n", headers=refusal.headers
            )
        session = await self.gate.open_session(
            info, _AiohttpConnection(ws, request), lambda: ws.prepare(request)
        )
        del info  # its copy of the headers need not live as long as the socket
        if session is None:  # refused by auth: closed with its code and reason
            return ws
        limit = self.max_message_bytes
        # Clean: the client sent a close frame (or we closed it for a too-big frame). A
        # connection that just died (reset, EOF, missed pongs) is not: a peer that opted in to
        # resume is then kept away for the grace window. aiohttp reports EOF with code 1000,
        # so the message types tell, not ws.close_code.
        clean = False
        try:
            while True:
                msg = await ws.receive()
                kind = msg.type
                if kind is WSMsgType.TEXT:
                    await session.receive(msg.data)
                elif kind is WSMsgType.BINARY:
                    await session.receive_binary()
                elif kind is WSMsgType.ERROR:
                    error = msg.data
                    if isinstance(error, WebSocketError) and error.code == _TOO_BIG:
                        log.warning("closed a socket that sent a frame over %d bytes", limit)
                        clean = True
                    else:
                        log.debug("socket error: %r", ws.exception())
                elif kind is WSMsgType.CLOSE:
                    clean = True
                    break
                elif kind is WSMsgType.CLOSING or kind is WSMsgType.CLOSED:
                    break
        finally:
            await session.close(clean=clean)
        return ws


def webrtc(
    max_peers: int = DEFAULT_MAX_PEERS,
    callbacks: SignalingCallbacks | None = None,
    *,
    backend: Backend | None = None,
    hub: SignalingHub | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    max_room_id_length: int = DEFAULT_MAX_ROOM_ID_LENGTH,
    auth: Auth | None = None,
    limits: Limits | None = None,
    ice_servers: IceServers | None = None,
    on_duplicate_identity: DuplicateIdentity = "allow",
    resume: Resume | None = None,
) -> AiohttpSignalingHandler:
    """A signaling handler with its own rooms (or those of ``hub``, to share them); the
    options are those of :func:`rtcroom.asgi.webrtc`."""
    endpoint = asgi.webrtc(
        max_peers,
        callbacks,
        backend=backend,
        hub=hub,
        max_message_bytes=max_message_bytes,
        max_room_id_length=max_room_id_length,
        limits=limits,
        ice_servers=ice_servers,
        on_duplicate_identity=on_duplicate_identity,
        resume=resume,
        auth=auth,
    )
    return AiohttpSignalingHandler(
        endpoint.hub, max_message_bytes=max_message_bytes, auth=endpoint.gate.auth
    )


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


# --- join tokens, limits and ICE servers (see gate.py) ------------------------------------------


def request_info(request: web.Request) -> RequestInfo:
    """The handshake as ``auth`` and the limits see it."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    client = (str(peer[0]), int(peer[1])) if peer else None
    return RequestInfo.build(request.path, dict(request.headers), request.query_string, client)


class IceServersHandler:
    """``GET <signal path>/ice-servers`` for aiohttp (see ``rtcroom.asgi.IceServersEndpoint``)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        _mark_async(self)

    async def __call__(self, request: web.Request) -> web.Response:
        status, body, headers = await self.gate.ice_servers(request_info(request))
        return web.json_response(body, status=status, headers=headers)
