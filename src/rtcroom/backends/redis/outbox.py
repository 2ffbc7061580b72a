"""Per-peer delivery queues for frames that arrive from other processes.

One Redis listener feeds every peer of a process. Awaiting each WebSocket send there would let one
client that stops reading (its socket buffer full) stall the frames of every other peer; with a
queue and a drain task per peer, it delays only its own frames. Order per peer is kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Final

from ..base import Deliver

log = logging.getLogger("rtcroom.redis")

OUTBOX_LIMIT: Final = 4096
"""Frames queued for one peer before further ones are dropped (it is not reading its socket)."""


@dataclass(slots=True)
class _Box:
    frames: deque[str] = field(default_factory=deque)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    dropped: int = 0


class Outboxes:
    """``post`` never waits; each peer's frames go out in order from its own task."""

    def __init__(self, deliver: Deliver, limit: int = OUTBOX_LIMIT) -> None:
        self._deliver = deliver
        self._limit = limit
        self._boxes: dict[str, _Box] = {}

    def post(self, peer_id: str, text: str) -> None:
        box = self._boxes.get(peer_id)
        if box is None:
            box = self._boxes[peer_id] = _Box()
            box.task = asyncio.create_task(self._drain(peer_id, box), name=f"rtcroom-{peer_id}")
        if len(box.frames) >= self._limit:
            box.dropped += 1
            if box.dropped == 1:
                log.warning(
                    "peer %s is not reading its socket: %d frames are queued for it, further "
                    "frames from other processes are dropped",
                    peer_id,
                    len(box.frames),
                )
            return
        box.frames.append(text)
        box.ready.set()

    def discard(self, peer_id: str) -> None:
        """The peer is gone: stop its task, drop what is queued."""
        box = self._boxes.pop(peer_id, None)
        if box is not None and box.task is not None:
            box.task.cancel()

    def clear(self) -> None:
        for peer_id in list(self._boxes):
            self.discard(peer_id)

    async def _drain(self, peer_id: str, box: _Box) -> None:
        deliver = self._deliver
        while True:
            await box.ready.wait()
            while box.frames:
                try:
                    await deliver(peer_id, box.frames.popleft())
                except Exception:
                    log.exception("delivering a frame to %s failed", peer_id)
            box.ready.clear()  # no await since the last check: nothing can slip in between
