"""Away peers: opted-in peers whose socket dropped without a goodbye.

An away peer is still a member of its room (it counts toward ``max_peers``, nobody hears it
leave). Frames addressed to it wait here, in order, up to a bound; past it they are counted as
lost and the peer is told to renegotiate when it resumes. A grace timer per peer ends the wait:
the hub then lets the peer leave with reason ``"timeout"``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .hub import Session

BUFFER_CHARACTERS = 512 * 1024
"""At most this much text is kept per away peer, whatever the frame count: a few offers and a
few hundred candidates fit; a peer stuffing an away peer's buffer with 1 MiB frames does not."""


class Away:
    """One away peer: its last session (who it was, for callbacks and telemetry), the frames
    kept for it, and whether any were dropped."""

    __slots__ = ("frames", "lost", "session", "size", "timer")

    def __init__(self, session: Session) -> None:
        self.session = session
        self.frames: deque[str] = deque()
        self.size = 0  # characters kept
        self.lost = False
        self.timer: asyncio.TimerHandle | None = None


class AwayPeers:
    """This process's away peers, by peer id. ``capacity``: frames kept per peer."""

    __slots__ = ("_peers", "capacity")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._peers: dict[str, Away] = {}

    def hold(
        self,
        peer_id: str,
        session: Session,
        grace: float | None,
        expired: Callable[[str, Session], None],
    ) -> Away:
        """Keep ``peer_id`` away; after ``grace`` seconds ``expired(peer_id, session)`` runs
        (``None``: no timer, the hub is handing the peer to a new socket right now)."""
        entry = self._peers.get(peer_id)
        if entry is None:
            entry = self._peers[peer_id] = Away(session)
        else:
            entry.session = session
        if entry.timer is not None:
            entry.timer.cancel()
            entry.timer = None
        if grace is not None:
            loop = asyncio.get_running_loop()
            entry.timer = loop.call_later(grace, expired, peer_id, session)
        return entry

    def keep(self, peer_id: str, room_id: str | None, text: str) -> bool:
        """Buffer a frame for an away peer (of ``room_id``, unless ``None``); ``False`` when
        ``peer_id`` is not away here."""
        entry = self._peers.get(peer_id)
        if entry is None or (room_id is not None and entry.session.room_id != room_id):
            return False
        fits = len(entry.frames) < self.capacity and entry.size + len(text) <= BUFFER_CHARACTERS
        if fits and not entry.lost:  # after a gap nothing more: the peer renegotiates anyway
            entry.frames.append(text)
            entry.size += len(text)
        else:
            entry.lost = True
        return True

    def get(self, peer_id: str) -> Away | None:
        return self._peers.get(peer_id)

    def release(self, peer_id: str, session: Session | None = None) -> Away | None:
        """Stop holding ``peer_id`` (only if its entry is ``session``'s, when given) and cancel
        its timer; returns the entry with its frames."""
        entry = self._peers.get(peer_id)
        if entry is None or (session is not None and entry.session is not session):
            return None
        del self._peers[peer_id]
        if entry.timer is not None:
            entry.timer.cancel()
            entry.timer = None
        return entry

    def sessions(self) -> Iterator[Session]:
        return iter([entry.session for entry in self._peers.values()])

    def __contains__(self, peer_id: object) -> bool:
        return peer_id in self._peers

    def __len__(self) -> int:
        return len(self._peers)
