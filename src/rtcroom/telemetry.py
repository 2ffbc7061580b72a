"""What a hub did, for operators: plain counters and lifecycle events.

The relay path only increments two dict entries (no lock, no object made per frame); everything
else (joins, leaves, refusals, errors) is rare enough to become a :class:`HubEvent` handed to
observers: the Prometheus collector reads the counters at scrape time, webhooks and JSON logs
observe the events. Observers run on the event loop in the middle of signaling, so they must
only record or enqueue, never wait.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol

from . import protocol
from .auth import Identity

log = logging.getLogger("rtcroom.telemetry")

EventKind = Literal[
    "room_started",
    "room_finished",
    "peer_joined",
    "peer_left",
    "join_refused",
    "socket_refused",
    "error",
]

JoinRefusal = Literal[
    "room_full",
    "already_in_room",
    "room_id_too_long",
    "room_not_granted",
    "too_many_joins",
    "too_many_rooms",
    "duplicate_identity",
    "backend_unavailable",
    "resume_invalid",
    "resume_other_room",
    "resume_expired",
    "resume_ended",
    "resume_identity",
    "resume_room_full",
    "resume_off",
]
"""Why a join was refused: the ``reason`` label of ``rtcroom_join_refusals_total``."""

ERROR_KINDS: Final[dict[str, str]] = {
    protocol.INVALID_JSON: "invalid_json",
    protocol.INVALID_FORMAT: "invalid_format",
    protocol.INVALID_ROOM_ID: "invalid_field",
    protocol.INVALID_DESCRIPTION: "invalid_field",
    protocol.INVALID_CANDIDATE: "invalid_field",
    protocol.NOT_IN_ROOM: "not_in_room",
}
"""Protocol error message -> the ``kind`` label of ``rtcroom_errors_total`` (plus
``unknown_type``, ``frame_rate`` and ``callback``)."""


def error_kind(message: str) -> str:
    """A bounded label for a protocol error message (``Unknown message type: x`` has many)."""
    return ERROR_KINDS.get(message, "unknown_type")


@dataclass(slots=True, frozen=True)
class HubEvent:
    """One thing that happened in a room, as observers see it.

    ``reason``: for ``peer_left`` how it left (``disconnect``, ``kicked``, ``replaced``,
    ``timeout``: away past the resume grace window); for
    ``join_refused`` a :data:`JoinRefusal`; for ``error`` its kind; for ``socket_refused`` the
    close code or HTTP status. ``address`` is the client's address when known.
    """

    kind: EventKind
    room_id: str | None = None
    peer_id: str | None = None
    identity: Identity | None = None
    reason: str | None = None
    address: str | None = None
    at: float = field(default_factory=time.time)


class Peer(Protocol):
    """What telemetry reads of a hub session (``rtcroom.hub.Session``)."""

    @property
    def peer_id(self) -> str | None: ...
    @property
    def room_id(self) -> str | None: ...
    @property
    def identity(self) -> Identity | None: ...
    @property
    def address(self) -> str: ...


Observer = Callable[[HubEvent], None]
"""Called with every event, on the event loop; must not block (record or enqueue only)."""


class Telemetry:
    """One hub's counters (monotonic, per process) and its observers."""

    __slots__ = (
        "_closers",
        "_observers",
        "errors",
        "join_refusals",
        "joins",
        "leaves",
        "relayed_bytes",
        "relayed_frames",
        "rooms_finished",
        "rooms_started",
        "socket_refusals",
    )

    def __init__(self) -> None:
        self.relayed_frames: dict[str, int] = {"sdp": 0, "ice": 0}
        self.relayed_bytes: dict[str, int] = {"sdp": 0, "ice": 0}
        self.joins = 0
        self.leaves: dict[str, int] = {}
        self.join_refusals: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        self.socket_refusals: dict[int, int] = {}
        self.rooms_started = 0
        self.rooms_finished = 0
        self._observers: list[Observer] = []
        self._closers: list[Callable[[], Awaitable[None]]] = []

    def observe(
        self, observer: Observer, *, close: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Add an observer; ``close`` (if given) runs when the hub closes (to flush a queue)."""
        self._observers.append(observer)
        if close is not None:
            self._closers.append(close)

    async def close(self) -> None:
        for close in self._closers:
            try:
                await close()
            except Exception:
                log.exception("closing a telemetry observer failed")

    # --- called by the hub and the gate ------------------------------------------------------

    def peer_joined(self, peer: Peer, created: bool) -> None:
        self.joins += 1
        if created:
            self.rooms_started += 1
            self._emit(HubEvent("room_started", peer.room_id))
        self._emit(
            HubEvent("peer_joined", peer.room_id, peer.peer_id, peer.identity, None, peer.address)
        )

    def peer_left(self, peer: Peer, reason: str, finished: bool) -> None:
        self.leaves[reason] = self.leaves.get(reason, 0) + 1
        room_id = peer.room_id
        self._emit(
            HubEvent("peer_left", room_id, peer.peer_id, peer.identity, reason, peer.address)
        )
        if finished and room_id is not None:
            self.room_finished(room_id)

    def room_finished(self, room_id: str) -> None:
        """The room's last member left (reported once cluster-wide, where that happened)."""
        self.rooms_finished += 1
        self._emit(HubEvent("room_finished", room_id))

    def join_refused(self, reason: str, room_id: str, peer: Peer) -> None:
        """``reason``: a :data:`JoinRefusal`."""
        self.join_refusals[reason] = self.join_refusals.get(reason, 0) + 1
        self._emit(HubEvent("join_refused", room_id, None, peer.identity, reason, peer.address))

    def error(self, kind: str, peer: Peer | None = None) -> None:
        """An error frame or close (``peer`` is the socket's session), or a callback that
        raised (no peer)."""
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if peer is None:
            self._emit(HubEvent("error", reason=kind))
        else:
            event = HubEvent("error", peer.room_id, peer.peer_id, peer.identity, kind, peer.address)
            self._emit(event)

    def socket_refused(self, code: int, address: str) -> None:
        """A socket refused before joining: by ``auth`` (its 44xx close code) or at the
        handshake (HTTP 403 origin, 429 too many sockets)."""
        self.socket_refusals[code] = self.socket_refusals.get(code, 0) + 1
        self._emit(HubEvent("socket_refused", reason=str(code), address=address))

    def _emit(self, event: HubEvent) -> None:
        for observer in self._observers:
            try:
                observer(event)
            except Exception:
                log.exception("a telemetry observer raised on %s; signaling carries on", event)
