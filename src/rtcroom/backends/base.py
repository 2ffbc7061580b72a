"""The seam between the hub and wherever room membership lives.

A backend owns three things the hub must not decide alone once there is more than one process:
which peers are in which room (with an exact ``max_peers``), what the next peer id is, and how a
frame reaches a peer that may be connected to another process. The hub owns the sockets.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Deliver = Callable[[str, str], Awaitable[None]]
"""``deliver(peer_id, text)``: hand a frame to a peer connected to this process, if it is."""

PeerGone = Callable[[str, str, bool], Awaitable[None]]
"""``peer_gone(peer_id, room_id, room_destroyed)``: a peer vanished without leaving (its process
died). For a peer held elsewhere the hub tells the room's local members; for one held here (this
process was itself presumed dead) it closes the socket so the client joins again.
``room_destroyed`` is true exactly once cluster-wide, when that took the room's last member."""

Kick = Callable[[str, str], Awaitable[bool]]
"""``kick(peer_id, reason)``: remove a peer held by this process, asked by another process;
``False`` if it is not here (any more)."""


class BackendUnavailable(Exception):
    """The shared room store cannot be reached; the join is refused with this message."""


@dataclass(slots=True, frozen=True)
class Admission:
    """A successful join: the new peer's id and who was already there, in join order."""

    peer_id: str
    peers: list[str]
    room_created: bool


@dataclass(slots=True, frozen=True)
class Departure:
    """A completed leave: ``room_destroyed`` is true when the peer was the last member."""

    room_destroyed: bool


class Backend(ABC):
    """Room membership and routing. Methods are coroutines so a networked store fits."""

    @abstractmethod
    async def open(self, deliver: Deliver, peer_gone: PeerGone, kick: Kick) -> None:
        """Start (connect, subscribe); called once by the hub before the first join."""

    @abstractmethod
    async def close(self) -> None:
        """Stop and release resources. Peers still registered here are the hub's to remove."""

    @abstractmethod
    async def join(self, room_id: str, max_peers: int) -> Admission | None:
        """Admit a new peer atomically, or return ``None`` when the room is full."""

    @abstractmethod
    async def leave(self, room_id: str, peer_id: str) -> Departure | None:
        """Remove a peer; ``None`` if it was not registered (already gone)."""

    @abstractmethod
    async def publish(self, room_id: str, sender: str, to: str | None, text: str) -> None:
        """Deliver ``text`` to ``to`` if it is a member of the room, or to every member but
        ``sender`` when ``to`` is ``None``. Frames from one sender keep their order."""

    @abstractmethod
    async def rooms(self) -> dict[str, list[str]]:
        """Every room and its members in join order (cluster-wide for shared backends)."""

    async def kick_elsewhere(self, peer_id: str, reason: str) -> bool:
        """Have the process holding ``peer_id`` kick it; ``False`` when no process holds it.
        A single-process backend holds no peer elsewhere."""
        return False
