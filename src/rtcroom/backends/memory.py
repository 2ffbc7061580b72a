"""Rooms in this process's memory: the default, and the fastest path for one process."""

from __future__ import annotations

import time

from .base import Admission, Backend, Deliver, Departure, Kick, PeerGone


def make_peer_id(counter: int) -> str:
    """``peer-<unix ms>-<n>``: browsers pick politeness by comparing these as strings."""
    return f"peer-{int(time.time() * 1000)}-{counter}"


class MemoryBackend(Backend):
    """Single-process rooms. Every method runs without suspending, so joins are atomic."""

    def __init__(self) -> None:
        # room id -> peer ids in join order (dicts keep insertion order)
        self._rooms: dict[str, dict[str, None]] = {}
        self._counter = 0
        self._deliver: Deliver | None = None

    async def open(self, deliver: Deliver, peer_gone: PeerGone, kick: Kick) -> None:
        self._deliver = deliver

    async def close(self) -> None:
        self._rooms.clear()

    async def join(self, room_id: str, max_peers: int) -> Admission | None:
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

    async def leave(self, room_id: str, peer_id: str) -> Departure | None:
        room = self._rooms.get(room_id)
        if room is None or peer_id not in room:
            return None
        del room[peer_id]
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
