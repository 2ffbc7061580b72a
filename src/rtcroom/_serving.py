"""uvicorn run as ``rtcroom serve`` promises: announce once ready, stop quietly on a signal."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
from collections.abc import Iterator
from types import FrameType

import uvicorn

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class QuietServer(uvicorn.Server):
    """Prints ``announcement`` once the app has started and listens; Ctrl-C or SIGTERM stop
    it gracefully and the process exits 0, where plain uvicorn re-raises the signal after
    shutdown (a KeyboardInterrupt traceback, or death by SIGTERM)."""

    def __init__(self, config: uvicorn.Config, announcement: str) -> None:
        super().__init__(config)
        self.announcement = announcement
        self.stopped_by: int | None = None
        logging.getLogger("uvicorn.error").addFilter(_denial_is_not_an_error)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            print(self.announcement, flush=True)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self._stop) for sig in _STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True  # a second Ctrl-C: don't wait for open sockets
        self.should_exit = True
        self.stopped_by = sig


def _denial_is_not_an_error(record: logging.LogRecord) -> bool:
    """uvicorn's websockets-sansio protocol logs this error after every WebSocket refused with
    an HTTP response (uvicorn pull request 3138); here that is the wrong-path 404, already
    logged as a warning, and the client got its answer."""
    return record.msg != "ASGI callable returned without completing handshake."
