"""Room logic: join, relay, leave, callbacks. Knows sockets only as :class:`Connection`.

Transports (ASGI, aiohttp) are thin adapters: they open a :class:`Session` per socket with
:meth:`SignalingHub.session`, feed it every frame with :meth:`Session.receive`, and call
:meth:`Session.close` when the socket ends.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from . import limits as _limits
from . import protocol, resuming
from .auth import Identity
from .away import AwayPeers
from .backends.base import Backend, BackendUnavailable
from .backends.memory import MemoryBackend
from .limits import AddressBook, Limits, TokenBucket
from .protocol import Join, ProtocolError
from .resume import Resume
from .telemetry import Telemetry, error_kind
from .turn import IceServers

log = logging.getLogger("rtcroom.hub")

DEFAULT_MAX_PEERS = 2
DEFAULT_MAX_ROOM_ID_LENGTH = 256
KICK_CLOSE_CODE = 4000
REPLACED_CLOSE_CODE = 4409
"""Closes the older socket when a newer one joins the room with the same identity (``replace``)."""
REPLACED_REASON = "Replaced by a newer connection with the same identity"
DuplicateIdentity = Literal["allow", "replace", "reject"]
LOST_CLOSE_CODE = 1012
"""Closes a socket whose peer the shared backend lost (``1012``: service restart; rejoin)."""
RESTART_CLOSE_CODE = 1012
"""Closes an opted-in peer's socket when the hub shuts down: no leave, so it can resume."""


class Connection(Protocol):
    """What the hub needs from a socket. Adapters implement it over their framework's socket."""

    async def send(self, text: str) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


Callback = Callable[..., Awaitable[None] | None]


@dataclass(slots=True)
class SignalingCallbacks:
    """Lifecycle hooks, sync or async. One that raises is logged and changes nothing else.

    They run on the process that holds the peer; ``on_room_created``/``on_room_destroyed``
    run once per room, where the first join / last leave happened.
    """

    on_room_created: Callable[[str], Awaitable[None] | None] | None = None
    on_peer_join: Callable[[str, str], Awaitable[None] | None] | None = None
    on_peer_leave: Callable[[str, str, str], Awaitable[None] | None] | None = None
    on_room_destroyed: Callable[[str], Awaitable[None] | None] | None = None
    on_message: Callable[[str, str, str | None, str], Awaitable[None] | None] | None = None
    on_error: Callable[[Exception, str | None, str | None], Awaitable[None] | None] | None = None


@dataclass(slots=True, frozen=True)
class RoomStats:
    room_count: int
    total_peers: int


class Session:
    """One socket's life in the hub: not joined, then joined as exactly one peer, then gone.

    ``identity`` is who authenticated the socket (``None`` without ``auth``); ``address`` the
    client address the per-address limits count against (its open-socket count, taken at the
    handshake, is given back when the session closes).
    """

    __slots__ = (
        "_closed",
        "_counted",
        "_frames",
        "_hub",
        "_join_timer",
        "_over_limit",
        "address",
        "conn",
        "identity",
        "peer_id",
        "resumable",
        "room_id",
    )

    def __init__(
        self,
        hub: SignalingHub,
        conn: Connection,
        identity: Identity | None = None,
        address: str | None = None,
    ) -> None:
        self._hub = hub
        self.conn = conn
        self.identity = identity
        self.address = address or "unknown"
        self._counted = address is not None
        self.peer_id: str | None = None
        self.room_id: str | None = None
        self.resumable = False
        """Joined with ``resume``: a drop without a close frame makes it away, not gone."""
        self._closed = False
        self._over_limit = False
        self._frames = TokenBucket(hub.limits.frame_rate, hub.limits.frame_burst)
        self._join_timer: asyncio.TimerHandle | None = None

    async def receive_binary(self) -> None:
        """A binary frame arrived: the protocol is text-only, so it is ``Invalid JSON``."""
        if self._over_limit or not self._frames.take():
            await self._flooded()
            return
        self._error("invalid_json")
        await self._reject(ProtocolError(protocol.INVALID_JSON), report=True)

    async def _flooded(self) -> None:
        """Past the frame budget the socket is closed (1008): the one limit that closes,
        because an error reply per frame would feed the flood. Later frames are dropped."""
        if self._over_limit:
            return
        self._over_limit = True
        self.resumable = False  # a flood ends the peer, whatever the socket does next
        limits = self._hub.limits
        self._error("frame_rate")
        log.warning(
            "closing a socket from %s (%s): over %g frames per second",
            self.address,
            self.peer_id or "not joined",
            limits.frame_rate,
        )
        try:
            reason = _limits.frame_rate_reason(limits.frame_rate, limits.frame_burst)
            await self.conn.close(_limits.FRAME_RATE_CLOSE_CODE, reason)
        except Exception as exc:
            log.debug("closing %s failed: %r", self.peer_id or "unjoined socket", exc)

    async def receive(self, data: str | bytes) -> None:
        """Handle one text frame (``str`` or UTF-8 ``bytes``). Never raises for bad input:
        the client gets the protocol's error frame and the socket lives on."""
        hub = self._hub
        if self._over_limit or not self._frames.take():
            await self._flooded()
            return
        try:
            frame = protocol.parse(data)
        except ProtocolError as exc:
            self._error(error_kind(exc.message))
            await self._reject(exc, report=exc.message in _REPORTED)
            return
        if isinstance(frame, Join):
            await hub._join(self, frame)
            return
        peer_id, room_id = self.peer_id, self.room_id
        if peer_id is None or room_id is None:
            self._error("not_in_room")
            await self._reject(ProtocolError(protocol.NOT_IN_ROOM), report=True)
            return
        if hub.callbacks.on_message is not None:
            await hub._fire("on_message", frame.kind, peer_id, frame.to, room_id)
        text = protocol.relayed(frame.kind, peer_id, frame.payload)
        counts = hub.telemetry
        counts.relayed_frames[frame.kind] += 1
        counts.relayed_bytes[frame.kind] += len(data)
        to = frame.to
        if to is not None and hub._rooms_here:  # every peer is here: no backend round
            target = hub._local.get(to)
            if target is not None:
                if target.room_id == room_id:
                    await target._send(text)
            elif hub._away:
                hub._away.keep(to, room_id, text)
            return
        await hub.backend.publish(room_id, peer_id, to, text)

    async def close(self, *, clean: bool = True) -> None:
        """The socket ended (any cause). Idempotent: ``peer-left`` goes out once.

        ``clean``: the client sent a close frame (it hung up) or the server ended the socket.
        ``False`` (the connection just died) makes an opted-in peer away instead: it may resume
        within the grace window."""
        if self._join_timer is not None:
            self._join_timer.cancel()
            self._join_timer = None
        self._hub._sockets.discard(self)
        if self._counted:
            self._counted = False
            self._hub.addresses.close_socket(self.address)
        if self._closed:
            return
        self._closed = True
        if not clean and self.resumable and resuming.step_away(self._hub, self):
            return
        await self._hub._leave(self, "disconnect")

    def _error(self, kind: str) -> None:
        """Count an error frame or close for /metrics, and tell the observers (logs)."""
        self._hub.telemetry.error(kind, self)

    async def _reject(
        self, exc: ProtocolError, *, report: bool, room_id: str | None = None
    ) -> None:
        await self._send(protocol.error(exc.message))
        if report:
            await self._hub._fire("on_error", exc, self.peer_id, room_id or self.room_id)

    async def _send(self, text: str) -> None:
        try:
            await self.conn.send(text)
        except Exception as exc:  # the socket is going away; its close will clean up
            log.debug("send to %s failed: %r", self.peer_id or "unjoined socket", exc)


# The reference reports these to on_error; the "Missing or invalid ..." family it does not.
_REPORTED = frozenset({protocol.INVALID_JSON, protocol.INVALID_FORMAT})


class SignalingHub:
    """Rooms of peers relaying SDP and ICE, independent of any web framework.

    One hub is one room namespace. Share it between transports to let, say, an ASGI and an
    aiohttp endpoint see the same rooms; give it a shared backend to span processes.
    """

    def __init__(
        self,
        *,
        max_peers: int = DEFAULT_MAX_PEERS,
        callbacks: SignalingCallbacks | None = None,
        backend: Backend | None = None,
        max_room_id_length: int = DEFAULT_MAX_ROOM_ID_LENGTH,
        limits: Limits | None = None,
        ice_servers: IceServers | None = None,
        on_duplicate_identity: DuplicateIdentity = "allow",
        resume: Resume | None = None,
    ) -> None:
        if not isinstance(max_peers, int) or max_peers < 1:
            raise ValueError(f"max_peers must be a positive integer, got {max_peers!r}")
        if callbacks is not None and not isinstance(callbacks, SignalingCallbacks):
            raise TypeError(
                "callbacks must be a rtcroom.SignalingCallbacks(...), "
                f"got {type(callbacks).__name__}"
            )
        if limits is not None and not isinstance(limits, Limits):
            raise TypeError(f"limits must be a rtcroom.Limits(...), got {type(limits).__name__}")
        if ice_servers is not None and not isinstance(ice_servers, IceServers):
            raise TypeError(
                f"ice_servers must be a rtcroom.IceServers(...), got {type(ice_servers).__name__}"
            )
        if resume is not None and not isinstance(resume, Resume):
            raise TypeError(f"resume must be a rtcroom.Resume(...), got {type(resume).__name__}")
        if on_duplicate_identity not in ("allow", "replace", "reject"):
            raise ValueError(
                "on_duplicate_identity must be 'allow', 'replace' or 'reject', "
                f"got {on_duplicate_identity!r}"
            )
        self.limits = limits or Limits()
        self.ice_servers = ice_servers or IceServers()
        self.on_duplicate_identity: DuplicateIdentity = on_duplicate_identity
        self.addresses = AddressBook(self.limits)
        self._room_members: dict[str, int] = {}  # rooms with members on this process
        self._identities: dict[str, Identity] = {}
        self.max_peers = max_peers
        self.callbacks = callbacks or SignalingCallbacks()
        self.backend = backend or MemoryBackend()
        self._rooms_here = type(self.backend) is MemoryBackend
        """Every room lives in this process: a relay to one peer goes straight to its socket."""
        self.max_room_id_length = max_room_id_length
        self._local: dict[str, Session] = {}
        self._sockets: set[Session] = set()  # every open socket, joined or not, for close()
        self._tasks: set[asyncio.Future[None]] = set()
        self._opened = False
        self._open_lock = asyncio.Lock()
        self.telemetry = Telemetry()
        """Counters and lifecycle events for metrics, webhooks and logs (``rtcroom.telemetry``)."""
        self.resume = resume or Resume()
        """How opted-in peers survive a dropped socket (``Resume.off()`` turns it off)."""
        self._away = AwayPeers(self.resume.buffer)
        if self.resume.enabled:
            self.backend.configure_resume(
                grace=self.resume.grace,
                ended_ttl=self.resume.token_ttl,
                detach=functools.partial(resuming.detach, self),
            )

    # --- for transports ----------------------------------------------------------------------

    async def open(self) -> None:
        """Open the backend (connect to Redis, say). Optional: the first socket does it too."""
        if not self._opened:
            async with self._open_lock:
                if not self._opened:
                    await self.backend.open(self._deliver, self._peer_gone, self._kick_here)
                    self._opened = True

    async def session(
        self, conn: Connection, *, identity: Identity | None = None, address: str | None = None
    ) -> Session:
        """A new socket arrived (already authenticated, if ``auth`` is on); opens the backend on
        first use and starts its join timeout."""
        await self.open()
        session = Session(self, conn, identity, address)
        self._sockets.add(session)
        timeout = self.limits.join_timeout
        if timeout:
            loop = asyncio.get_running_loop()
            session._join_timer = loop.call_later(timeout, self._join_timed_out, session)
        return session

    def _join_timed_out(self, session: Session) -> None:
        session._join_timer = None
        if session.peer_id is None and not session._closed and not session._over_limit:
            session._over_limit = True  # ignore whatever it sends while the close goes out
            log.info(
                "closing a socket from %s: no join within %g s",
                session.address,
                self.limits.join_timeout,
            )
            task = asyncio.ensure_future(
                session.conn.close(
                    _limits.JOIN_TIMEOUT_CLOSE_CODE,
                    _limits.join_timeout_reason(self.limits.join_timeout),
                )
            )
            task.add_done_callback(_log_close_failure)

    async def close(self) -> None:
        """Close every socket and the backend. Peers leave as ``disconnect``, except
        opted-in ones: their sockets close with 1012 and nobody hears them leave, so they can
        resume on the restarted server (or, with Redis, on another process)."""
        for session in list(self._local.values()):
            code, reason = 1001, "server shutting down"
            if session.resumable:
                session._closed = True
                code, reason = RESTART_CLOSE_CODE, "server restarting; resume your session"
            else:
                await session.close()
            try:
                await session.conn.close(code, reason)
            except Exception as exc:
                log.debug("close failed: %r", exc)
        for away in list(self._away.sessions()):
            if away.peer_id is not None:
                self._away.release(away.peer_id)
        for unjoined in list(self._sockets):  # a server's stop need not wait for their close
            if unjoined.peer_id is None and not unjoined._closed:
                try:
                    await unjoined.conn.close(1001, "server shutting down")
                except Exception as exc:
                    log.debug("close failed: %r", exc)
        if self._opened:
            await self.backend.close()
            self._opened = False
        await self.telemetry.close()

    # --- introspection for the host app -------------------------------------------------------

    async def get_rooms(self) -> dict[str, list[str]]:
        """Room id -> peer ids in join order (every process's, with a shared backend)."""
        await self.open()
        return await self.backend.rooms()

    async def get_room_stats(self) -> RoomStats:
        rooms = await self.get_rooms()
        return RoomStats(len(rooms), sum(len(p) for p in rooms.values()))

    def local_peers(self) -> dict[str, str]:
        """Peer id -> room id for the sockets held by this process."""
        return {pid: s.room_id for pid, s in self._local.items() if s.room_id is not None}

    def away_peers(self) -> dict[str, str]:
        """Peer id -> room id for this process's away peers (their socket dropped; they may
        resume within the grace window). They are members, but not in :meth:`local_peers`."""
        return {s.peer_id: s.room_id for s in self._away.sessions() if s.peer_id and s.room_id}

    def local_identities(self) -> dict[str, Identity]:
        """Peer id -> :class:`Identity` for this process's authenticated peers."""
        return dict(self._identities)

    def peer_identity(self, peer_id: str) -> Identity | None:
        """The identity of a peer held by this process; valid in ``on_peer_join`` and
        ``on_peer_leave`` too. ``None`` for an unknown peer or one joined without ``auth``."""
        return self._identities.get(peer_id)

    async def kick_identity(
        self, sub: str, room_id: str | None = None, reason: str = "kicked"
    ) -> list[str]:
        """Kick every peer of this process whose identity is ``sub`` (in ``room_id`` only, if
        given); returns their peer ids."""
        kicked = []
        held = [*self._local.items(), *((s.peer_id, s) for s in self._away.sessions())]
        for peer_id, session in held:
            if peer_id is None:
                continue
            if session.identity is None or session.identity.sub != sub:
                continue
            if room_id is not None and session.room_id != room_id:
                continue
            if await self._kick_here(peer_id, reason):
                kicked.append(peer_id)
        return kicked

    async def kick(self, peer_id: str, reason: str = "kicked") -> bool:
        """Remove a peer and close its socket, on whichever process holds it.

        The room hears ``peer-left`` at once; ``on_peer_leave`` gets reason ``"kicked"`` (on the
        holding process). Returns ``False`` when no such peer is connected (anywhere, with a
        shared backend; that may raise ``BackendUnavailable`` while its store is unreachable).
        """
        if peer_id not in self._local and peer_id not in self._away:
            return await self.backend.kick_elsewhere(peer_id, reason)
        return await self._kick_here(peer_id, reason)

    async def _kick_here(
        self, peer_id: str, reason: str, *, why: str = "kicked", code: int = KICK_CLOSE_CODE
    ) -> bool:
        session = self._local.get(peer_id)
        if session is None:
            away = self._away.get(peer_id)
            if away is None:
                return False
            await self._leave(away.session, why)  # away: no socket to close
            return True
        if session._closed:
            return False
        session._closed = True
        await self._leave(session, why)
        try:
            await session.conn.close(code, reason)
        except Exception as exc:
            log.debug("closing kicked %s failed: %r", peer_id, exc)
        return True

    # --- internals ------------------------------------------------------------------------------

    async def _join(self, session: Session, frame: Join) -> None:
        room_id = frame.room_id
        refused = self.telemetry.join_refused
        if session.peer_id is not None:
            refused("already_in_room", room_id, session)
            await session._reject(ProtocolError(protocol.ALREADY_IN_ROOM), report=False)
            return
        if len(room_id) > self.max_room_id_length:
            refused("room_id_too_long", room_id[:64], session)
            msg = protocol.room_id_too_long(self.max_room_id_length)
            await session._reject(ProtocolError(msg), report=False)
            return
        identity = session.identity
        if identity is not None and not identity.may_join(room_id):
            refused("room_not_granted", room_id, session)
            err = ProtocolError(protocol.room_not_granted(identity.room))
            await session._reject(err, report=True, room_id=room_id)
            return
        if frame.resume_token is not None:
            await resuming.resume(self, session, room_id, frame.resume_token)
            return
        refusal = self._join_limit(session, room_id)
        if refusal is not None:
            why = "too_many_joins" if refusal.startswith("Too many joins") else "too_many_rooms"
            refused(why, room_id, session)
            await session._reject(ProtocolError(refusal), report=False, room_id=room_id)
            return
        if identity is not None and self.on_duplicate_identity != "allow":
            twins = self._same_identity(identity.sub, room_id, session)
            if twins and self.on_duplicate_identity == "reject":
                refused("duplicate_identity", room_id, session)
                err = ProtocolError(protocol.identity_in_room(identity.sub))
                await session._reject(err, report=True, room_id=room_id)
                return
            for twin in twins:
                await self._replace(twin)
        max_peers = identity.max_peers if identity and identity.max_peers else self.max_peers
        self._room_members[room_id] = self._room_members.get(room_id, 0) + 1  # held while joining
        try:
            resumable = frame.resume and self.resume.enabled
            admission = await self.backend.join(room_id, max_peers, resumable=resumable)
        except BackendUnavailable as exc:
            self._forget_member(room_id)
            refused("backend_unavailable", room_id, session)
            await session._send(protocol.error(str(exc)))
            await self._fire("on_error", exc, None, room_id)
            return
        if admission is None:
            self._forget_member(room_id)
            refused("room_full", room_id, session)
            err = ProtocolError(protocol.room_full(max_peers))
            await session._reject(err, report=True, room_id=room_id)
            return
        peer_id = admission.peer_id
        if session._closed:  # the socket died while the backend was admitting it
            self._forget_member(room_id)
            await self.backend.leave(room_id, peer_id)
            return
        if session._join_timer is not None:
            session._join_timer.cancel()
            session._join_timer = None
        session.peer_id, session.room_id = peer_id, room_id
        session.resumable = resumable
        self._local[peer_id] = session
        if identity is not None:
            self._identities[peer_id] = identity
            if self.on_duplicate_identity == "replace":  # a twin that joined meanwhile
                for twin in self._same_identity(identity.sub, room_id, session):
                    await self._replace(twin)
        self.telemetry.peer_joined(session, admission.room_created)
        if admission.room_created:
            await self._fire("on_room_created", room_id)
        await self._fire("on_peer_join", peer_id, room_id)
        joined = self._joined(session, admission.peers, max_peers)
        await session._send(joined)
        await self.backend.publish(room_id, peer_id, None, protocol.peer_joined(peer_id))

    def _joined(
        self, session: Session, peers: list[str], max_peers: int, *, resumed: bool = False
    ) -> str:
        """The ``joined`` frame; an opted-in peer's carries a fresh resume token."""
        peer_id, room_id, identity = session.peer_id, session.room_id, session.identity
        assert peer_id is not None and room_id is not None
        ice = self.ice_servers.for_user(identity.sub if identity else peer_id) or None
        if not session.resumable:
            return protocol.joined(peer_id, room_id, peers, ice)
        sub = identity.sub if identity else None
        token = self.resume.issue(peer_id, room_id, max_peers, sub)
        grace = self.resume.grace
        shown = int(grace) if float(grace).is_integer() else grace
        return protocol.joined(
            peer_id, room_id, peers, ice, resume_token=token, resume_grace=shown, resumed=resumed
        )

    def _join_limit(self, session: Session, room_id: str, *, rate: bool = True) -> str | None:
        """The error message for a join the limits refuse, else ``None``. A resume skips the
        join rate (``rate=False``): its token proves the peer was admitted once already."""
        limits = self.limits
        if rate and not self.addresses.allow_join(session.address):
            log.warning(
                "refused a join from %s: over %g joins per second",
                session.address,
                limits.join_rate,
            )
            return _limits.too_many_joins(limits.join_rate)
        if (
            limits.max_rooms
            and room_id not in self._room_members
            and len(self._room_members) >= limits.max_rooms
        ):
            log.warning(
                "refused a join: this process holds %d rooms (the maximum)", len(self._room_members)
            )
            return _limits.too_many_rooms(limits.max_rooms)
        return None

    def _same_identity(self, sub: str, room_id: str, other_than: Session) -> list[Session]:
        return [
            s
            for s in (*self._local.values(), *self._away.sessions())
            if s is not other_than
            and s.room_id == room_id
            and s.identity is not None
            and s.identity.sub == sub
        ]

    async def _replace(self, twin: Session) -> None:
        if twin.peer_id is not None:
            await self._kick_here(
                twin.peer_id, REPLACED_REASON, why="replaced", code=REPLACED_CLOSE_CODE
            )

    def _forget_member(self, room_id: str) -> None:
        count = self._room_members.get(room_id, 0) - 1
        if count > 0:
            self._room_members[room_id] = count
        else:
            self._room_members.pop(room_id, None)

    async def _leave(self, session: Session, reason: str) -> None:
        peer_id, room_id = session.peer_id, session.room_id
        if peer_id is None or room_id is None:
            return
        if self._local.get(peer_id) is session:
            del self._local[peer_id]
            self._forget_member(room_id)
        elif self._away.release(peer_id, session) is not None:
            self._forget_member(room_id)
        try:
            departure = await self.backend.leave(room_id, peer_id)
            if departure is None:
                return
            self.telemetry.peer_left(session, reason, departure.room_destroyed)
            await self._fire("on_peer_leave", peer_id, room_id, reason)
            await self.backend.publish(room_id, peer_id, None, protocol.peer_left(peer_id))
            if departure.room_destroyed:
                await self._fire("on_room_destroyed", room_id)
        finally:
            self._identities.pop(peer_id, None)

    async def _deliver(self, peer_id: str, text: str) -> None:
        session = self._local.get(peer_id)
        if session is not None:
            await session._send(text)
        elif self._away:
            self._away.keep(peer_id, None, text)

    async def _peer_gone(
        self, peer_id: str, room_id: str, room_destroyed: bool, reason: str = "disconnect"
    ) -> None:
        """A peer vanished without leaving: the backend found its process dead.

        Held elsewhere: its room's members here hear ``peer-left``. Held here (the others
        presumed this process dead and already announced it): its socket closes, so the client
        joins again. ``room_destroyed`` comes once cluster-wide, for the room's last member.
        """
        session = self._local.pop(peer_id, None)
        if session is not None:
            self._forget_member(room_id)
            session._closed = True
            self.telemetry.peer_left(session, "lost", room_destroyed)
            await self._fire("on_peer_leave", peer_id, room_id, reason)
            self._identities.pop(peer_id, None)
            try:
                await session.conn.close(LOST_CLOSE_CODE, "room store lost this peer; rejoin")
            except Exception as exc:
                log.debug("closing lost peer %s failed: %r", peer_id, exc)
        else:
            if room_destroyed:
                self.telemetry.room_finished(room_id)
            if reason != "disconnect":  # a dead process's away peer this process ended (its
                # grace ran out, or a kick): the one leave callback it gets, cluster-wide
                await self._fire("on_peer_leave", peer_id, room_id, reason)
            text = protocol.peer_left(peer_id)
            for other in list(self._local.values()):
                if other.room_id == room_id:
                    await other._send(text)
        if room_destroyed:
            await self._fire("on_room_destroyed", room_id)

    async def _fire(self, name: str, *args: Any) -> None:
        callback = getattr(self.callbacks, name)
        if callback is None:
            return
        try:
            result = callback(*args)
            if inspect.isawaitable(result):
                await result
        except Exception:
            self.telemetry.error("callback")
            log.exception("rtcroom callback %s%r raised; the hub carries on", name, args)


def _log_close_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.debug("closing an unjoined socket failed: %r", task.exception())
