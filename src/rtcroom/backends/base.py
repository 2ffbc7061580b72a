"""The seam between the hub and wherever room membership lives.

A backend owns three things the hub must not decide alone once there is more than one process:
which peers are in which room (with an exact ``max_peers``), what the next peer id is, and how a
frame reaches a peer that may be connected to another process. The hub owns the sockets.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

Deliver = Callable[[str, str], Awaitable[None]]
"""``deliver(peer_id, text)``: hand a frame to a peer connected to this process, if it is."""


class PeerGone(Protocol):
    """``peer_gone(peer_id, room_id, room_destroyed, reason="disconnect")``: a peer vanished
    without leaving (its process died), or (``reason="timeout"``) an away peer of a dead process
    was not resumed within the grace window. For a peer held elsewhere the hub tells the room's
    local members; for one held here (this process was itself presumed dead) it closes the
    socket so the client joins again. ``room_destroyed`` is true exactly once cluster-wide,
    when that took the room's last member."""

    def __call__(
        self, peer_id: str, room_id: str, room_destroyed: bool, reason: str = "disconnect"
    ) -> Awaitable[None]: ...


Kick = Callable[[str, str], Awaitable[bool]]
"""``kick(peer_id, reason)``: remove a peer held by this process, asked by another process;
``False`` if it is not here (any more)."""


Detach = Callable[[str], Awaitable[bool]]
"""``detach(peer_id)``: the peer resumed on another process. If this process holds it, its
socket is closed with 4410 (or, away here, its buffered frames are dropped), and no leave is
announced; ``False`` if it is not held here."""


class BackendUnavailable(Exception):
    """The shared room store cannot be reached; the join is refused with this message."""


class PeerEnded(Exception):
    """:meth:`Backend.rejoin` of a peer id that left the room for good (hung up, timed out,
    kicked, replaced): its tokens are dead."""


@dataclass(slots=True, frozen=True)
class Readmission:
    """A successful :meth:`Backend.rejoin`: the peer is a member again, held by this process.

    ``peers``: the other members, in join order. ``was_member``: the store still listed it (away
    here or elsewhere, or attached elsewhere), so nobody must hear of it; else a store that had
    forgotten it (a restart) added it back, and the room hears ``peer-joined`` with
    ``resumed: true``. ``frames_lost``: frames sent to it may be gone (they were held by a
    process that died, or nobody held them), so the peer is told to renegotiate.
    """

    peers: list[str]
    room_created: bool
    was_member: bool
    frames_lost: bool


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

    resume_grace: float = 0.0
    """Seconds an away peer stays a member (0: resume is off); set by :meth:`configure_resume`."""
    ended_ttl: float = 0.0
    """Seconds an ended resumable peer id is remembered, so :meth:`rejoin` refuses it."""
    detach: Detach | None = None

    def configure_resume(self, *, grace: float, ended_ttl: float, detach: Detach) -> None:
        """Called by the hub before :meth:`open` when resume is on. ``ended_ttl`` is the
        token lifetime: after it no token of an ended peer can verify, so it may be forgotten."""
        self.resume_grace = grace
        self.ended_ttl = ended_ttl
        self.detach = detach

    @abstractmethod
    async def join(
        self, room_id: str, max_peers: int, *, resumable: bool = False
    ) -> Admission | None:
        """Admit a new peer atomically, or return ``None`` when the room is full.
        ``resumable``: it opted in to resume, so if its process dies it is held away for the
        grace window instead of announced gone, and once it leaves :meth:`rejoin` refuses it."""

    async def rejoin(self, room_id: str, peer_id: str, max_peers: int) -> Readmission | None:
        """Re-admit a peer id that holds a valid resume token, for this process, atomically.

        Still a member (away or attached, here or elsewhere): claim it for this process
        (``was_member=True``). Not listed (the store forgot it): add it if the room has fewer than
        ``max_peers`` members, else return ``None``. Raises :class:`PeerEnded` for an id that
        left for good, :class:`BackendUnavailable` when the store cannot be reached.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot re-admit peers (resume)")

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
