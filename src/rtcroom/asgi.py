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

import orjson

from .auth import Auth, Refusal, RequestInfo
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
from .protocol import frame_bytes
from .resume import Resume
from .turn import IceServers
from .webfiles import WebFile

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("rtcroom.asgi")

DEFAULT_MAX_MESSAGE_BYTES = 1 << 20
"""Frames above this many bytes (UTF-8) close the socket with 1009 (an extension: SDP is a
few KiB)."""

NO_CLOSE_FRAME = frozenset({1005, 1006, 1012})
"""``websocket.disconnect`` codes that are no goodbye from the client: a connection that died
without a close frame (uvicorn reports it as 1005, others as 1006), or the server's own
shutdown (uvicorn's 1012). A client closing without a status code also reads as 1005:
rtcroom's clients always send one."""

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

    def __init__(
        self, hub: SignalingHub, *, max_message_bytes: int, auth: Auth | None = None
    ) -> None:
        self.hub = hub
        self.max_message_bytes = max_message_bytes
        self.gate = Gate(hub, auth)
        self.ice_servers = IceServersEndpoint(self.gate)
        """Mount at ``<signal path>/ice-servers`` (GET) for apps that fetch before connecting."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await _refuse_http(scope, send)
            return
        if (await receive())["type"] != "websocket.connect":
            return
        request = request_info(scope)
        refusal = self.gate.check_handshake(request)
        if refusal is not None:
            await _deny_handshake(scope, send, refusal)
            return
        conn = _AsgiConnection(send)
        session = await self.gate.open_session(
            request, conn, lambda: send({"type": "websocket.accept"})
        )
        if session is None:  # refused by auth: closed with its code and reason
            return
        limit = self.max_message_bytes
        clean = True  # unless the connection dies without a close frame from the client
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
                    clean = message.get("code") not in NO_CLOSE_FRAME
                    break
        except OSError as exc:  # the server reports a dead peer socket this way
            log.debug("socket error: %r", exc)
            clean = False
        finally:
            conn._closed = True
            await session.close(clean=clean)


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
    auth: Auth | None = None,
    limits: Limits | None = None,
    ice_servers: IceServers | None = None,
    on_duplicate_identity: DuplicateIdentity = "allow",
    resume: Resume | None = None,
) -> SignalingEndpoint:
    """A signaling endpoint with its own rooms (or those of ``hub``, to share them).

    ``auth``: who may open a socket (``rtcroom.tokens.JoinTokens(secret)``, or your own
    ``callable(RequestInfo) -> Identity | None``). ``limits``, ``ice_servers``,
    ``on_duplicate_identity`` and ``resume`` configure the hub (pass them to ``SignalingHub``
    when sharing one).
    """
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
            limits=limits,
            ice_servers=ice_servers,
            on_duplicate_identity=on_duplicate_identity,
            resume=resume,
        )
    elif (
        limits is not None
        or ice_servers is not None
        or on_duplicate_identity != "allow"
        or resume is not None
    ):
        raise TypeError(
            "with hub=..., pass limits, ice_servers, on_duplicate_identity and resume to that "
            "SignalingHub(...) instead: its rooms are shared, so are these settings"
        )
    return SignalingEndpoint(hub, max_message_bytes=max_message_bytes, auth=auth)


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


# --- join tokens, limits and ICE servers (see gate.py) ------------------------------------------


def request_info(scope: Scope) -> RequestInfo:
    """The handshake of an ASGI ``websocket`` (or ``http``) scope, for ``auth`` and limits."""
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or []}
    client = scope.get("client")
    return RequestInfo.build(
        scope.get("path", ""),
        headers,
        (scope.get("query_string") or b"").decode("latin-1"),
        (str(client[0]), int(client[1])) if client else None,
    )


async def _deny_handshake(scope: Scope, send: Send, refusal: Refusal) -> None:
    """Refuse before the upgrade: the status and a one-line body where the server supports the
    ASGI denial-response extension (uvicorn does), else a bare 403."""
    if "websocket.http.response" not in (scope.get("extensions") or {}):
        await send({"type": "websocket.close", "code": 1008, "reason": refusal.message})
        return
    body = (refusal.message + "\n").encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in refusal.headers.items()]
    await send(
        {"type": "websocket.http.response.start", "status": refusal.http_status, "headers": headers}
    )
    await send({"type": "websocket.http.response.body", "body": body})


class IceServersEndpoint:
    """``GET <signal path>/ice-servers``: ``{"iceServers": [...], "expiresAt": ...}``, with the
    same token check as the socket (``?token=`` or ``Authorization: Bearer``)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope.get("method", "GET") not in ("GET", "HEAD"):
            status, body, headers = 405, {"error": "Method Not Allowed"}, {"allow": "GET, HEAD"}
        else:
            status, body, headers = await self.gate.ice_servers(request_info(scope))
        payload = orjson.dumps(body)
        raw = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
        raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": payload})
