"""The peers this process holds, the local truth that Redis is made to agree with."""

from __future__ import annotations


class LocalPeers:
    """Room id -> peer ids in join order, and peer id -> room id."""

    __slots__ = ("_peer_room", "_rooms")

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, None]] = {}
        self._peer_room: dict[str, str] = {}

    def add(self, peer_id: str, room_id: str) -> None:
        self._rooms.setdefault(room_id, {})[peer_id] = None
        self._peer_room[peer_id] = room_id

    def remove(self, peer_id: str, room_id: str) -> None:
        members = self._rooms.get(room_id)
        if members is not None:
            members.pop(peer_id, None)
            if not members:
                del self._rooms[room_id]
        self._peer_room.pop(peer_id, None)

    def holds(self, room_id: str, peer_id: str) -> bool:
        members = self._rooms.get(room_id)
        return members is not None and peer_id in members

    def members(self, room_id: str) -> dict[str, None] | None:
        """The room's local members (the live dict: copy it before awaiting in a loop)."""
        return self._rooms.get(room_id)

    def rooms_by_peer(self) -> dict[str, str]:
        """A copy: peer id -> room id."""
        return dict(self._peer_room)

    def __len__(self) -> int:
        return len(self._peer_room)

    def clear(self) -> None:
        self._rooms.clear()
        self._peer_room.clear()
