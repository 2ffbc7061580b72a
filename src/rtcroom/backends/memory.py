"""Rooms in this process's memory: the default, and the fastest path for one process."""

from __future__ import annotations

import time

from .base import (
    Admission,
    Backend,
    Deliver,
    Departure,
    Kick,
    PeerEnded,
    PeerGone,
    Readmission,
)


def make_peer_id(counter: int) -> str:
    """``peer-<unix ms>-<n>``: browsers pick politeness by comparing these as strings."""
    return f"peer-{int(time.time() * 1000)}-{counter}"


class MemoryBackend(Backend):
    """Single-process rooms. Every method runs without suspending, so joins are atomic.

    Ended peers cost no memory when this backend made their id: an id it made that is no
    longer a member has ended. Ids from before a restart that came back and ended again are
    remembered until their last token expires.
    """

    def __init__(self) -> None:
        # room id -> peer ids in join order (dicts keep insertion order)
        self._rooms: dict[str, dict[str, None]] = {}
        self._counter = 0
        self._born_ms = int(time.time() * 1000)
        self._deliver: Deliver | None = None
        self._adopted: set[str] = set()  # re-admitted ids this backend did not make
        self._ended: dict[str, float] = {}  # adopted ids that ended -> forget after (monotonic)

    async def open(self, deliver: Deliver, peer_gone: PeerGone, kick: Kick) -> None:
        self._deliver = deliver

    async def close(self) -> None:
        self._rooms.clear()

    async def join(
        self, room_id: str, max_peers: int, *, resumable: bool = False
    ) -> Admission | None:
        room = self._rooms.get(room_id)
        if (len(room) if room is not None else 0) >= max_peers:
            return None  # an empty room is never created for a rejected join
        created = room is None
        if room is None:
            room = self._rooms[room_id] = {}
        self._counter += 1
        peer_id = make_peer_id(self._counter)
        peers = list(room)
        room[peer_id] = None
        return Admission(peer_id, peers, created)

    async def rejoin(self, room_id: str, peer_id: str, max_peers: int) -> Readmission | None:
        room = self._rooms.get(room_id)
        if room is not None and peer_id in room:
            peers = [p for p in room if p != peer_id]
            return Readmission(peers, room_created=False, was_member=True, frames_lost=False)
        if self._made_here(peer_id) or self._has_ended(peer_id):
            raise PeerEnded(peer_id)
        if (len(room) if room is not None else 0) >= max_peers:
            return None
        created = room is None
        if room is None:
            room = self._rooms[room_id] = {}
        peers = list(room)
        room[peer_id] = None
        self._adopted.add(peer_id)
        return Readmission(peers, room_created=created, was_member=False, frames_lost=True)

    async def leave(self, room_id: str, peer_id: str) -> Departure | None:
        room = self._rooms.get(room_id)
        if room is None or peer_id not in room:
            return None
        del room[peer_id]
        if peer_id in self._adopted:
            self._adopted.discard(peer_id)
            self._remember_ended(peer_id)
        if room:
            return Departure(room_destroyed=False)
        del self._rooms[room_id]
        return Departure(room_destroyed=True)

    async def publish(self, room_id: str, sender: str, to: str | None, text: str) -> None:
        room = self._rooms.get(room_id)
        deliver = self._deliver
        if room is None or deliver is None:
            return
        if to is not None:
            if to in room:
                await deliver(to, text)
            return
        for peer_id in list(room):
            if peer_id != sender:
                await deliver(peer_id, text)

    async def rooms(self) -> dict[str, list[str]]:
        return {room_id: list(peers) for room_id, peers in self._rooms.items()}

    # --- ended ids ----------------------------------------------------------------------------

    def _made_here(self, peer_id: str) -> bool:
        """An id of :func:`make_peer_id` minted by this backend (after it was created, with a
        counter it has reached)."""
        prefix, _, rest = peer_id.partition("-")
        ms, _, n = rest.partition("-")
        if prefix != "peer" or not (ms.isdigit() and n.isdigit()):
            return False
        return int(ms) >= self._born_ms and 0 < int(n) <= self._counter

    def _remember_ended(self, peer_id: str) -> None:
        now = time.monotonic()
        if len(self._ended) >= 1024:  # amortised pruning: the dict stays small
            self._ended = {p: t for p, t in self._ended.items() if t > now}
        self._ended[peer_id] = now + self.ended_ttl

    def _has_ended(self, peer_id: str) -> bool:
        until = self._ended.get(peer_id)
        return until is not None and until > time.monotonic()
