"""The call's WebSocket to the signaling server, and the reconnect backoff.

:class:`SignalingChannel` is one socket's life: open, read frames in order, send, close. It
knows nothing of peers; the call decides what a lost socket means: resume and keep the peer
connections (a server that gave a resume token), or tear them down and rejoin (one that did
not). Nothing here owns them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .errors import SignalingConnectionError
from .refusals import redact

log = logging.getLogger("rtcroom.client.signaling")

OPEN_TIMEOUT = 10.0
PING_INTERVAL = 20.0
MAX_FRAME_BYTES = 16 * 1024 * 1024
"""A bigger frame closes the socket (memory bound); smaller bad frames are judged by inbound.py."""


def reconnect_delay(attempt: int, *, base: float, cap: float) -> float:
    """Seconds to wait before reconnect ``attempt`` (1-based).

    Agentuity waits ``min(base * 2**attempt, cap)`` (2, 4, 8, 16, 30 s with base 1 s). rtcroom
    keeps that curve and spreads it by ±20 % so that a restarted server is not hit by every
    client in the same millisecond.
    """
    delay = min(base * 2.0 ** min(attempt, 32), cap)  # a resume may retry for hours
    jitter = random.uniform(0.8, 1.2)
    return min(delay * jitter, cap)


class SignalingChannel:
    """One signaling WebSocket. ``on_message`` gets each frame as received (text or bytes, not
    yet checked) in arrival order; ``on_closed(code, reason)`` is called once when the socket
    ends, unless :meth:`close` ended it (``code`` None: no close frame came). ``token`` goes in
    an ``Authorization: Bearer`` header; :attr:`shown_url` is the URL without any token."""

    def __init__(
        self,
        url: str,
        on_message: Callable[[str | bytes], None],
        on_closed: Callable[[int | None, str], None],
        token: str | None = None,
    ) -> None:
        self.url = url
        self.shown_url = redact(url)
        self._token = token
        self._on_message = on_message
        self._on_closed = on_closed
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._closing = False

    async def open(self, timeout: float = OPEN_TIMEOUT) -> None:
        headers = {} if self._token is None else {"Authorization": f"Bearer {self._token}"}
        try:
            # proxy=None: never route signaling through an environment-configured proxy.
            self._ws = await connect(
                self.url,
                open_timeout=timeout,
                proxy=None,
                compression=None,
                max_size=MAX_FRAME_BYTES,
                ping_interval=PING_INTERVAL,
                additional_headers=headers,
            )
        except (OSError, TimeoutError) as exc:
            raise SignalingConnectionError(
                f"cannot open the signaling WebSocket {self.shown_url}: "
                f"{redact(str(exc)) or type(exc).__name__}; "
                "is the server running and is the path right (usually /api/call/signal)?"
            ) from exc
        except Exception as exc:  # handshake refused (404, 403), invalid URL
            raise SignalingConnectionError(
                f"the signaling server at {self.shown_url} refused the WebSocket: "
                f"{redact(str(exc))}"
            ) from exc
        self._reader = asyncio.get_running_loop().create_task(self._read(self._ws))

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                self._on_message(raw)
        except ConnectionClosed as exc:
            if exc.rcvd is None and exc.sent is not None and exc.sent.code == 1009:
                log.warning(
                    "the signaling server at %s sent a frame over %d bytes; closed the socket",
                    self.shown_url,
                    MAX_FRAME_BYTES,
                )
        except Exception:  # a bug in a handler: the socket is unusable for us now
            log.exception("signaling message handler failed")
        if not self._closing:
            self._closing = True
            self._on_closed(ws.close_code, ws.close_reason or "")

    async def send(self, frame: dict[str, Any]) -> bool:
        """Send one frame; ``False`` if the socket is gone (the frame is dropped, as the
        browser client drops it)."""
        ws = self._ws
        if ws is None or self._closing:
            return False
        try:
            await ws.send(orjson.dumps(frame).decode())
        except ConnectionClosed:
            return False
        return True

    async def close(self) -> None:
        """Close on purpose: ``on_closed`` will not be called."""
        self._closing = True
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2.0)
        reader = self._reader
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
