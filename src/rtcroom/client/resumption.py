"""What a call keeps while its signaling socket is away: the frames it could not send, and the
peers the server did not list when it took the call back.

A server that offers resume (docs/protocol.md) hands out a token with every ``joined``. While
the socket is down the peer connections carry on; offers and candidates made meanwhile wait
in a bounded :class:`Outbox` and go out after ``joined{resumed: true}``. The lifecycle owns the
socket and the state machine; this module holds only the bookkeeping, so that those two stay
readable.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Final

log = logging.getLogger("rtcroom.client")

OUTBOX_LIMIT: Final = 256
"""Signaling frames kept while away (the server's replay buffer holds as many)."""
RESUME_MAX_DELAY: Final = 10.0
"""Backoff cap while resuming: the server holds us for its grace window (default 30 s)."""
REPLAY_SETTLE: Final = 1.0
"""Seconds to wait, after a resumed ``joined``, before offering to a listed peer we have no
connection with: a peer that joined while we were away already offered to us, and its
``peer-joined`` and offer are replayed right after ``joined``; offering too would collide."""

Frame = dict[str, Any]


class Outbox:
    """Frames made while signaling is away, oldest first; past :data:`OUTBOX_LIMIT` the oldest
    is dropped and :attr:`overflowed` says the peers need a repair."""

    def __init__(self) -> None:
        self._frames: deque[Frame] = deque()
        self.overflowed = False

    def put(self, frame: Frame) -> None:
        if len(self._frames) >= OUTBOX_LIMIT:
            self._frames.popleft()
            if not self.overflowed:
                log.warning(
                    "more than %d signaling frames waited for the server; the oldest are "
                    "dropped and the peers will be renegotiated",
                    OUTBOX_LIMIT,
                )
            self.overflowed = True
        self._frames.append(frame)

    def described_to(self) -> set[str]:
        """Peers an ``sdp`` frame in here goes to (they need no repair: it is on its way)."""
        return {f["to"] for f in self._frames if f.get("t") == "sdp"}

    async def flush(self, send: Callable[[Frame], Awaitable[bool]]) -> bool:
        """Send every frame in order (frames put meanwhile included); ``False`` if the socket
        failed, with the unsent frame kept first."""
        while self._frames:
            frame = self._frames.popleft()
            if not await send(frame):
                self._frames.appendleft(frame)
                return False
        return True


class AbsentPeers:
    """Peers we still have a connection with that a resumed ``joined`` did not list: kept
    while their connection is up, dropped if they are not back within the grace window."""

    def __init__(self) -> None:
        self._timers: dict[str, asyncio.TimerHandle] = {}

    def add(self, peer_id: str, grace: float, expired: Callable[[str], None]) -> None:
        self.discard(peer_id)
        loop = asyncio.get_running_loop()
        self._timers[peer_id] = loop.call_later(grace, self._expire, peer_id, expired)

    def _expire(self, peer_id: str, expired: Callable[[str], None]) -> None:
        if self._timers.pop(peer_id, None) is not None:
            expired(peer_id)

    def discard(self, peer_id: str) -> bool:
        """The peer is back (or gone for good): ``True`` if it was absent."""
        timer = self._timers.pop(peer_id, None)
        if timer is not None:
            timer.cancel()
        return timer is not None

    def __contains__(self, peer_id: object) -> bool:
        return peer_id in self._timers

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._timers))  # a copy: expiring while iterating is fine

    def clear(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
