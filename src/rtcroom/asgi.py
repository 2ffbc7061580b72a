"""``webrtc(...)`` as an ASGI WebSocket endpoint: Starlette, FastAPI, or any ASGI server.

Starlette and FastAPI mount it in one line::

    app.router.add_websocket_route("/api/call/signal", webrtc(max_peers=4))

It is plain ASGI (no Starlette import), so it also mounts under any ASGI router. The browser
client is one more line::

    app.router.add_route("/rtcroom.js", browser_client())
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .backends.base import Backend
from .hub import (
    DEFAULT_MAX_PEERS,
    DEFAULT_MAX_ROOM_ID_LENGTH,
    SignalingCallbacks,
    SignalingHub,
)
from .protocol import frame_bytes
from .webfiles import WebFile

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("rtcroom.asgi")

DEFAULT_MAX_MESSAGE_BYTES = 1 << 20
"""Frames above this many bytes (UTF-8) close the socket with 1009 (an extension: SDP is a
few KiB)."""

NOT_WEBSOCKET = "This is an rtcroom signaling endpoint: connect with a WebSocket.\n"
"""The answer to a plain HTTP request on the signaling path (status 426)."""


class _AsgiConnection:
    __slots__ = ("_closed", "_send")

    def __init__(self, send: Send) -> None:
        self._send = send
        self._closed = False

    async def send(self, text: str) -> None:
        if not self._closed:
            await self._send({"type": "websocket.send", "text": text})

    async def close(self, code: int, reason: str) -> None:
        if not self._closed:
            self._closed = True
            await self._send({"type": "websocket.close", "code": code, "reason": reason})


class SignalingEndpoint:
    """An ASGI app serving one signaling WebSocket route. ``hub`` gives rooms, stats and kick."""

    def __init__(self, hub: SignalingHub, *, max_message_bytes: int) -> None:
        self.hub = hub
        self.max_message_bytes = max_message_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await _refuse_http(scope, send)
            return
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        conn = _AsgiConnection(send)
        session = await self.hub.session(conn)
        limit = self.max_message_bytes
        try:
            while True:
                message = await receive()
                kind = message["type"]
                if kind == "websocket.receive":
                    text = message.get("text")
                    if text is None:
                        size = len(message.get("bytes") or b"")
                    else:
                        size = frame_bytes(text)
                    if size > limit:
                        log.warning("closing a socket that sent a %d-byte frame", size)
                        await conn.close(1009, f"frame larger than {limit} bytes")
                        break
                    if text is None:
                        await session.receive_binary()
                    else:
                        await session.receive(text)
                elif kind == "websocket.disconnect":
                    break
        except OSError as exc:  # the server reports a dead peer socket this way
            log.debug("socket error: %r", exc)
        finally:
            conn._closed = True
            await session.close()


async def _refuse_http(scope: Scope, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 426,
            "headers": [(b"content-type", b"text/plain"), (b"upgrade", b"websocket")],
        }
    )
    await send({"type": "http.response.body", "body": NOT_WEBSOCKET.encode()})


def webrtc(
    max_peers: int = DEFAULT_MAX_PEERS,
    callbacks: SignalingCallbacks | None = None,
    *,
    backend: Backend | None = None,
    hub: SignalingHub | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    max_room_id_length: int = DEFAULT_MAX_ROOM_ID_LENGTH,
) -> SignalingEndpoint:
    """A signaling endpoint with its own rooms (or those of ``hub``, to share them)."""
    if not isinstance(max_message_bytes, int) or max_message_bytes < 1:
        raise ValueError(
            f"max_message_bytes must be a positive integer (bytes), got {max_message_bytes!r}"
        )
    if hub is None:
        hub = SignalingHub(
            max_peers=max_peers,
            callbacks=callbacks,
            backend=backend,
            max_room_id_length=max_room_id_length,
        )
    return SignalingEndpoint(hub, max_message_bytes=max_message_bytes)


class WebFileApp:
    """An ASGI app answering GET/HEAD with one shipped file (``rtcroom.js`` by default)."""

    def __init__(self, name: str) -> None:
        self.file = WebFile.load(name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method = scope.get("method", "GET")
        request_headers = dict(scope.get("headers") or [])
        if_none_match = request_headers.get(b"if-none-match", b"").decode("latin-1")
        status, body = 200, self.file.body
        if method not in ("GET", "HEAD"):
            status, body = 405, b"Method Not Allowed\n"
        elif self.file.not_modified(if_none_match):
            status, body = 304, b""
        headers = self.file.headers() if status != 405 else {"allow": "GET, HEAD"}
        headers["content-length"] = str(len(body))
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


def browser_client(name: str = "rtcroom.js") -> WebFileApp:
    """Serve rtcroom's browser client (or another shipped file: ``rtcroom.d.ts``,
    ``index.html``) from your own ASGI app; raises ``ValueError`` for an unknown name."""
    return WebFileApp(name)
