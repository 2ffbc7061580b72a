"""A call's life: the state machine, the signaling socket, joining, reconnecting, timeouts.

Every asynchronous step carries the *generation* of the ``connect()`` that started it;
``hangup()`` and timeouts start a new generation, so a late socket event or timer of an old one
can never rejoin the room (the reference client's stale-timer and zombie-peer races). Frames
from the server are checked by :mod:`.inbound` and the peer ones handed to the
:class:`~rtcroom.client.mesh.PeerMesh`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from ..media import LocalMedia
from ..protocol import FRAMES_LOST, RESUME_REFUSED_PREFIX
from . import inbound
from . import state as reasons
from .diagnosis import short_repr, why_not_connected
from .errors import (
    CallEndedError,
    CallError,
    ConnectionTimeoutError,
    InvalidSignalError,
    JoinRefusedError,
    NegotiationError,
    NotConnectedError,
    ReconnectFailedError,
    RoomFullError,
    SignalingConnectionError,
    SignalingError,
)
from .events import (
    ConnectEvent,
    DisconnectEvent,
    ErrorEvent,
    EventBus,
    PeerJoinedEvent,
    PeerLeftEvent,
    ReconnectedEvent,
    ReconnectFailedEvent,
    ReconnectingEvent,
    SignalingLostEvent,
    SignalingRestoredEvent,
    StateChangeEvent,
)
from .iceservers import IceServerRefresh
from .mesh import PeerMesh
from .refusals import NEVER_JOINED, final_close_error, redact
from .resumption import REPLAY_SETTLE, RESUME_MAX_DELAY, AbsentPeers, Frame, Outbox
from .session import PeerSession
from .settings import CallSettings
from .signaling import OPEN_TIMEOUT, SignalingChannel, reconnect_delay
from .state import CallState, SignalingState
from .tracks import LocalTracks

log = logging.getLogger("rtcroom.client")

_ROOM_FULL_PREFIX = "Room is full"


class CallLifecycle:
    """State, socket and peer mesh of one :class:`~rtcroom.client.WebRTCCall`."""

    def __init__(
        self,
        bus: EventBus,
        local: LocalMedia | None,
        settings: CallSettings,
        session_created: Callable[[PeerSession, bool], None],
    ) -> None:
        self.state = CallState.IDLE
        self.mesh = PeerMesh(
            settings.session,
            send_signal=self._send_signal,
            emit=bus.emit,
            negotiating=self._negotiating,
            changed=self._peers_changed,
            failed=self._report,
            created=session_created,
        )
        self.settings = settings
        self._bus = bus
        self._local = local
        self._tracks: LocalTracks | None = None
        self._signaling: SignalingChannel | None = None
        self._generation = 0
        self._attempts = 0
        self._joined: asyncio.Future[None] | None = None
        self._join_pending = False  # a `join` is out and neither `joined` nor `error` came back
        self._idle_error: CallError | None = None
        self._timeout_task: asyncio.Task[None] | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._open_task: asyncio.Task[None] | None = None
        self._ice_refresh: IceServerRefresh | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        # Resume (docs/client.md#signaling-outages): the newest token from `joined`; `_away`
        # while the socket is down and the mesh is kept; `_resume_join` while a `join` with
        # the token is out; frames wait in `_outbox` until the resumed socket took them.
        self._resume_token: str | None = None
        self._resume_grace = 0.0
        self._away = False
        self._resume_join = False
        self._lost_reported = False  # a SignalingLostEvent awaits its SignalingRestoredEvent
        self._outbox: Outbox | None = None
        self._absent = AbsentPeers()
        self._known: set[str] = set()  # our peers when the socket dropped
        self._described: set[str] = set()  # peers the resumed socket sends an sdp frame to
        self._settle: asyncio.TimerHandle | None = None
        self._to_offer: set[str] = set()  # listed by a resumed `joined`, offered after settling
        self._gone: set[str] = set()  # absent peers reported left (a late peer-left is no news)

    # --- connect / hangup ----------------------------------------------------------------------

    async def connect(self, settings: CallSettings) -> None:
        if self.state != CallState.IDLE:
            if self._joined is not None and not self._joined.done():
                await asyncio.shield(self._joined)
            return
        self.settings = settings
        self._generation += 1
        gen = self._generation
        self._attempts = 0
        self._idle_error = None
        self._joined = asyncio.get_running_loop().create_future()
        deadline = asyncio.get_running_loop().time() + settings.connection_timeout
        self._set_state(CallState.CONNECTING, reasons.CONNECT_CALLED)
        try:
            if self._local is not None:
                self._tracks = self._tracks or LocalTracks(self._local)
                await self._tracks.start()
                if gen != self._generation:
                    raise self._ended_error()
            await self._open_signaling(gen)
        except SignalingConnectionError as exc:
            if gen == self._generation:
                self._report(exc)
                await self._end(reasons.ERROR, exc)
            raise
        except CallEndedError:
            raise
        except Exception as exc:
            if gen == self._generation:
                self._report(exc)
                await self._end(reasons.ERROR, None)
            raise
        # `signaling` has no timer of its own (Agentuity waits forever for `joined`).
        remaining = deadline - asyncio.get_running_loop().time()
        try:
            await asyncio.wait_for(asyncio.shield(self._joined), max(remaining, 0.001))
        except TimeoutError:
            if gen != self._generation:
                raise self._ended_error() from None
            error = ConnectionTimeoutError(
                f"the signaling server at {redact(settings.signal_url)} did not answer the join "
                "within "
                f"connection_timeout={settings.connection_timeout:g} s"
            )
            self._report(error)
            await self._end(reasons.CONNECTION_TIMEOUT, error)
            raise error from None

    async def hangup(self) -> None:
        await self._end(reasons.HANGUP, None)
        if self._tracks is not None:
            self._tracks.stop()
            self._tracks = None

    @property
    def signaling_state(self) -> SignalingState:
        if self._away:
            return "lost"
        if self.state == CallState.IDLE:
            return "closed"
        if self._signaling is not None and not self._join_pending and self.mesh.peer_id:
            return "open"
        return "connecting"

    def require_active(self, what: str) -> None:
        if self.state == CallState.IDLE:
            raise NotConnectedError(
                f"{what}: the call is not connected (state idle); await call.connect() first"
            )

    async def wait(self, predicate: Callable[[], bool], timeout: float | None) -> None:
        """Until ``predicate()`` holds (checked on every state or peer change)."""
        if self.state == CallState.IDLE:
            raise NotConnectedError("the call is idle; await call.connect() first")
        if predicate():
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (predicate, fut)
        self._waiters.append(entry)
        try:
            await asyncio.wait_for(fut, timeout)
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(entry)

    def _notify(self) -> None:
        for predicate, fut in list(self._waiters):
            if fut.done():
                continue
            if self.state == CallState.IDLE:
                fut.set_exception(self._ended_error())
            elif predicate():
                fut.set_result(None)

    # --- state machine ------------------------------------------------------------------------

    def _report(self, error: BaseException) -> None:
        self._bus.emit(ErrorEvent(error, self.state))

    def _set_state(self, new: CallState, reason: str) -> None:
        old = self.state
        if new == old:
            return
        self.state = new
        if new in (CallState.CONNECTING, CallState.NEGOTIATING):
            self._start_timeout()
        else:
            self._cancel(self._timeout_task)
            self._timeout_task = None
        self._bus.emit(StateChangeEvent(old, new, reason))
        if new == CallState.CONNECTED:
            self._bus.emit(ConnectEvent())
        if new == CallState.IDLE:
            if self._joined is not None and not self._joined.done():
                self._joined.set_exception(self._ended_error(reason))
                self._joined.exception()
            self._bus.emit(DisconnectEvent(reasons.disconnect_reason(reason)))
        self._notify()

    def _ended_error(self, reason: str = reasons.HANGUP) -> CallError:
        if self._idle_error is not None:
            return self._idle_error
        return CallEndedError(f"the call ended ({reason}) before this finished")

    def _start_timeout(self) -> None:
        self._cancel(self._timeout_task)
        self._timeout_task = self._spawn(self._timeout(self._generation))

    async def _timeout(self, gen: int) -> None:
        limit = self.settings.connection_timeout
        await asyncio.sleep(limit)
        if gen != self._generation or self.state not in (
            CallState.CONNECTING,
            CallState.NEGOTIATING,
        ):
            return
        self._timeout_task = None  # we are it: _end must not cancel us
        labels = [config.label for config in self.settings.session.data_channels]
        why = why_not_connected(self.settings.room_id, self.mesh.sessions, labels)
        error = ConnectionTimeoutError(
            f"WebRTC connection timed out: not connected within connection_timeout={limit:g} s: "
            f"{why}"
        )
        self._report(error)
        await self._end(reasons.CONNECTION_TIMEOUT, error)

    async def _end(self, reason: str, error: CallError | None) -> None:
        """Back to ``idle``: a new generation, so nothing of the old one acts again."""
        self._generation += 1
        for task in (self._timeout_task, self._reconnect_task, self._open_task):
            self._cancel(task)
        self._timeout_task = self._reconnect_task = self._open_task = None
        signaling, self._signaling = self._signaling, None
        self._stop_ice_refresh()
        closing = self.mesh.leave()
        self._join_pending = False
        self._forget_resume()
        if error is not None:
            self._idle_error = error
        self._set_state(CallState.IDLE, reason)
        if signaling is not None:
            closing.append(signaling.close())
        if closing:
            await asyncio.gather(*closing, return_exceptions=True)

    def _negotiating(self, reason: str) -> None:
        if self.state == CallState.SIGNALING:
            self._set_state(CallState.NEGOTIATING, reason)

    def _peers_changed(self) -> None:
        """Agentuity's updateConnectionState: only ICE state counts."""
        if self.state in (CallState.IDLE, CallState.CONNECTING):
            self._notify()
            return
        if self.mesh.any_ice_connected:
            self._set_state(CallState.CONNECTED, reasons.PEER_CONNECTED)
        elif self.mesh.sessions:
            if self.state == CallState.CONNECTED:
                self._set_state(CallState.NEGOTIATING, reasons.NO_CONNECTED_PEERS)
        elif self.state in (CallState.CONNECTED, CallState.NEGOTIATING):
            self._set_state(CallState.SIGNALING, reasons.ALL_PEERS_LEFT)
        for remote in self._absent:
            session = self.mesh.sessions.get(remote)
            if session is None or _dead(session):
                self._absent_expired(remote)  # its connection ended before it came back
        self._notify()

    # --- signaling -----------------------------------------------------------------------------

    async def _open_signaling(self, gen: int) -> None:
        channel: SignalingChannel
        settings = self.settings

        def on_message(raw: str | bytes) -> None:
            if gen == self._generation and channel is self._signaling:
                self._on_signal(raw)

        def on_closed(code: int | None, reason: str) -> None:
            if gen == self._generation and channel is self._signaling:
                self._signaling_closed(code, reason)

        channel = SignalingChannel(settings.signal_url, on_message, on_closed, settings.token)
        self._signaling = channel
        self._open_task = asyncio.get_running_loop().create_task(
            channel.open(min(OPEN_TIMEOUT, settings.connection_timeout))
        )
        try:
            await self._open_task
        except asyncio.CancelledError:
            if gen != self._generation:
                await channel.close()
                raise self._ended_error() from None
            raise
        finally:
            self._open_task = None
        if gen != self._generation:
            await channel.close()
            raise self._ended_error()
        if not self._away:  # resuming: the call's state is its peers', not the socket's
            self._set_state(CallState.SIGNALING, reasons.WEBSOCKET_OPENED)
        self._join_pending = True
        await channel.send(self._join_frame())

    def _join_frame(self) -> Frame:
        frame: Frame = {"t": "join", "roomId": self.settings.room_id}
        self._resume_join = self._away and self._resume_token is not None
        if self._resume_join:
            frame["resumeToken"] = self._resume_token
        elif self.settings.resume:
            frame["resume"] = True
        return frame

    async def _send_signal(self, kind: str, to: str, payload: dict[str, Any]) -> None:
        key = "description" if kind == "sdp" else "candidate"
        frame = {"t": kind, "from": self.mesh.peer_id, "to": to, key: payload}
        if self._outbox is not None:  # signaling is away (or the queue is still going out)
            self._outbox.put(frame)
            return
        channel = self._signaling
        if channel is None:
            return
        await channel.send(frame)

    def _on_signal(self, raw: str | bytes) -> None:
        mesh = self.mesh
        try:
            frame = inbound.parse(raw, mesh.peer_id)
            if isinstance(frame, inbound.Joined):
                self._on_joined(frame)
            elif isinstance(frame, inbound.PeerJoined):
                self._peer_joined(frame.peer_id)
            elif isinstance(frame, inbound.PeerLeft):
                self._absent.discard(frame.peer_id)
                self._to_offer.discard(frame.peer_id)
                if frame.peer_id not in self._gone:
                    mesh.peer_left(frame.peer_id)
            elif isinstance(frame, inbound.Description):
                mesh.description(frame)
            elif isinstance(frame, inbound.Candidate):
                mesh.candidate(frame)
            elif isinstance(frame, inbound.ServerError):
                self._on_server_error(frame.message)
            else:
                log.debug("ignored a %r frame (unknown to this client)", frame.t)
        except (InvalidSignalError, NegotiationError) as error:
            # A frame that breaks the protocol: dropped, reported, and the call carries on...
            log.warning("%s", error)
            self._report(error)
            if isinstance(error, InvalidSignalError) and error.frame_type == "joined":
                self._join_failed(error)  # ... unless it was the answer to our join

    def _join_failed(self, error: CallError) -> None:
        """The server answered our `join` with a refusal or a broken `joined`: nobody waits
        for more, ``connect()`` raises ``error`` now; a rejoin counts as a failed attempt."""
        if not self._join_pending:
            return
        self._join_pending = False
        if self._joined is not None and not self._joined.done():
            reason = reasons.ROOM_FULL if isinstance(error, RoomFullError) else reasons.JOIN_REFUSED
            self._spawn(self._end(reason, error))
            return
        # Rejoining after a dropped socket: a refusal is one failed attempt (e.g. "Rooms
        # temporarily unavailable" while the server's Redis restarts); the backoff retries.
        channel, self._signaling = self._signaling, None
        if channel is not None:
            self._spawn(channel.close())
        self._signaling_lost(reasons.JOIN_REFUSED)

    def _on_joined(self, frame: inbound.Joined) -> None:
        if not self._join_pending:
            raise InvalidSignalError("dropped a 'joined' that answers no join of ours")
        # Only a completed join proves the server is back: a server that accepts sockets and
        # drops them at once must still run out of attempts (Agentuity resets on open).
        self._attempts = 0
        self._join_pending = False
        resume_join, self._resume_join = self._resume_join, False
        if resume_join and frame.resumed and frame.peer_id == self.mesh.peer_id:
            self._resumed(frame)
            return
        if resume_join:
            log.warning(
                "the signaling server took this call back as a new peer %s instead of resuming "
                "%s; reconnecting to every peer",
                frame.peer_id,
                self.mesh.peer_id,
            )
            self._drop_peers()
        self._away = False
        self._outbox = None
        self._keep_token(frame)
        session = self.settings.session
        self._stop_ice_refresh()
        if session.ice_servers is None and frame.ice_servers is not None:
            # The app gave no ICE servers: the server's (fresh TURN credentials on every join,
            # and again before they expire, for peers that come later).
            session = dataclasses.replace(session, ice_servers=frame.ice_servers)
            self._ice_refresh = IceServerRefresh(
                self.settings.signal_url, self.settings.token, self._fresh_ice_servers
            )
            self._ice_refresh.start(frame.ice_servers)
        self.mesh.join(frame.peer_id, session, self._tracks)
        for remote in frame.peers:
            if self._lost_reported:  # the app saw every peer leave when the resume failed
                self._bus.emit(PeerJoinedEvent(remote))
            self.mesh.create(remote, offerer=True)
        if self._joined is not None and not self._joined.done():
            self._joined.set_result(None)
        if self._lost_reported:
            self._lost_reported = False
            self._bus.emit(SignalingRestoredEvent(resumed=False))

    # --- resume ----------------------------------------------------------------------------------

    def _keep_token(self, frame: inbound.Joined) -> None:
        self._resume_token = frame.resume_token if self.settings.resume else None
        self._resume_grace = frame.resume_grace

    def _forget_resume(self) -> None:
        self._resume_token = None
        self._away = self._resume_join = self._lost_reported = False
        self._outbox = None
        self._absent.clear()
        self._known.clear()
        self._to_offer.clear()
        self._gone.clear()
        if self._settle is not None:
            self._settle.cancel()
            self._settle = None

    def _keep_call(self, cause: str) -> None:
        """The socket dropped while we hold a resume token: keep every peer connection, queue
        signaling, and reconnect with the token in the background."""
        if not self._away:
            self._away = True
            self._known.update(self.mesh.sessions)
            if self._outbox is None:
                self._outbox = Outbox()
            log.warning(
                "signaling to %s lost (%s); the call goes on peer to peer while it resumes",
                redact(self.settings.signal_url),
                cause,
            )
            if not self._lost_reported:
                self._lost_reported = True
                self._bus.emit(SignalingLostEvent(cause))
        self._schedule_reconnect(cause)

    def _resumed(self, frame: inbound.Joined) -> None:
        """``joined{resumed: true}``: same peer id, same mesh. Send what waited, offer to
        listed peers we do not know, and give unlisted ones the grace window to come back."""
        self._keep_token(frame)
        self._away = False
        log.info("resumed the call as %s in room %s", frame.peer_id, self.settings.room_id)
        if frame.ice_servers is not None and self._ice_refresh is not None:
            self._fresh_ice_servers(frame.ice_servers)
        listed = set(frame.peers)
        known, self._known = self._known | set(self.mesh.sessions), set()
        for remote in sorted(known - listed):
            if remote not in self._absent:  # its session may be gone: then it left now
                self._absent.add(remote, self._resume_grace, self._absent_expired)
        self._to_offer = {p for p in frame.peers if p not in self.mesh.sessions}
        if self._to_offer and self._settle is None:
            self._settle = asyncio.get_running_loop().call_later(
                REPLAY_SETTLE, self._offer_to_listed, self._generation
            )
        channel = self._signaling
        self._described = set()
        if channel is not None and self._outbox is not None:
            self._described = self._outbox.described_to()
            self._spawn(self._flush(channel, self._generation))
        if self._lost_reported:
            self._lost_reported = False
            self._bus.emit(SignalingRestoredEvent(resumed=True))
        self._peers_changed()

    async def _flush(self, channel: SignalingChannel, gen: int) -> None:
        outbox = self._outbox
        if outbox is None:
            return
        sent = await outbox.flush(channel.send)
        if gen != self._generation or channel is not self._signaling or self._away or not sent:
            return  # lost again: the frames left wait for the next resume
        self._outbox = None
        if outbox.overflowed:
            self._repair_peers("frames queued while away were dropped")

    def _offer_to_listed(self, gen: int) -> None:
        """A listed peer that neither announced itself nor offered after the replay: it does
        not know us (a restarted server re-formed the room), so we offer as a newcomer."""
        self._settle = None
        peers, self._to_offer = sorted(self._to_offer), set()
        if gen != self._generation or self._away or self.mesh.peer_id is None:
            return
        for remote in peers:
            if remote not in self.mesh.sessions:
                self._bus.emit(PeerJoinedEvent(remote))
                self.mesh.create(remote, offerer=True)

    def _peer_joined(self, remote: str) -> None:
        """No app event for a peer we still have a live connection with (it resumed on a
        server that had forgotten it)."""
        session = self.mesh.sessions.get(remote)
        self._absent.discard(remote)
        self._to_offer.discard(remote)
        self._gone.discard(remote)
        if session is not None and not _dead(session):
            log.debug("peer %s is back in the room; its connection never stopped", remote)
            # A server that had forgotten it dropped what we sent it before it came back.
            self._repair_peers(f"peer {remote} rejoined the room", only=remote)
            return
        if session is not None:
            self.mesh.peer_left(remote)
        self.mesh.peer_joined(remote)

    def _absent_expired(self, remote: str) -> None:
        """An unlisted peer did not come back in time (or its connection ended): it left."""
        self._absent.discard(remote)
        self._gone.add(remote)
        if remote in self.mesh.sessions:
            self.mesh.peer_left(remote)
        else:
            self._bus.emit(PeerLeftEvent(remote))

    def _drop_peers(self) -> None:
        """Before a full rejoin: every peer leaves, as the app will see it."""
        self._absent.clear()
        self._known.clear()
        self._to_offer.clear()
        for remote in list(self.mesh.sessions):
            self.mesh.peer_left(remote)
        for closing in self.mesh.leave():
            self._spawn(closing)

    def _resume_refused(self, message: str) -> None:
        """The server will not take us back: today's full rejoin, on the same socket."""
        log.warning(
            "the signaling server refused to resume the call (%s); rejoining as a new peer",
            message,
        )
        self._report(SignalingError(message))
        self._resume_join = False
        self._resume_token = None
        self._away = False
        self._outbox = None
        self._drop_peers()
        channel = self._signaling
        if channel is not None:
            self._spawn(channel.send(self._join_frame()))

    def _repair_peers(
        self, why: str, only: str | None = None, skip: set[str] | frozenset[str] = frozenset()
    ) -> None:
        """Signaling frames were lost: send our side of the exchange again to each peer that
        waits for it: an offer of ours still without its answer, or, to a peer that is not
        connected, the answer we gave. A duplicate is harmless (a second answer is ignored,
        a second offer answered again)."""
        for session in list(self.mesh.sessions.values()):
            if (only is not None and session.remote_id != only) or session.remote_id in skip:
                continue
            local = session.pc.localDescription
            if session.closed or local is None:
                continue
            waiting = session.pc.signalingState == "have-local-offer"
            if not waiting and (session.ice_connected or session.pc.signalingState != "stable"):
                continue
            log.info("%s: sending peer %s our %s again", why, session.remote_id, local.type)
            self._spawn(session.send_local_description())

    def _fresh_ice_servers(self, servers: tuple[dict[str, Any], ...]) -> None:
        """New peer connections use them (aiortc cannot reconfigure the existing ones)."""
        if self.mesh.peer_id is not None:
            self.mesh.settings = dataclasses.replace(self.mesh.settings, ice_servers=servers)

    def _stop_ice_refresh(self) -> None:
        if self._ice_refresh is not None:
            self._ice_refresh.stop()
            self._ice_refresh = None

    def _on_server_error(self, message: str) -> None:
        if self._resume_join and message.startswith(RESUME_REFUSED_PREFIX):
            self._resume_refused(message)
            return
        if message == FRAMES_LOST:
            self._repair_peers(
                "the server lost signaling frames while we were away", skip=self._described
            )
            return
        if not self._join_pending:
            self._report(SignalingError(message))
            return
        # The answer to our `join`: nobody was registered, and waiting changes nothing.
        # (Agentuity's client stays in `signaling` forever here; we end the call.)
        room = short_repr(self.settings.room_id)
        if message.startswith(_ROOM_FULL_PREFIX):
            error: JoinRefusedError = RoomFullError(
                f"{message}: room {room} has no free slot (the server's max_peers)"
            )
        else:
            error = JoinRefusedError(
                f"{message}: the signaling server at {redact(self.settings.signal_url)} refused to "
                f"join room {room}"
            )
        self._report(error)
        self._join_failed(error)

    def _signaling_closed(self, code: int | None, reason: str) -> None:
        """The server closed the socket: a refusal that a reconnect cannot fix ends the call
        with its typed error; anything else is a lost socket."""
        error = final_close_error(code, reason, self.settings.signal_url)
        if error is None:
            if code == NEVER_JOINED:
                log.warning(
                    "the signaling server closed the socket before our join arrived (close "
                    "code %d: %s); reconnecting",
                    code,
                    redact(reason),
                )
            self._signaling_lost(reasons.WEBSOCKET_CLOSED)
            return
        log.warning("%s", error)
        self._signaling = None
        self._join_pending = False
        self._report(error)
        self._spawn(self._end(reasons.SIGNALING_REFUSED, error))

    def _signaling_lost(self, cause: str) -> None:
        """The socket dropped. With a resume token: keep the call and resume. Without (an
        old server, ``resume=False``): drop the peer connections and rejoin as a new peer."""
        self._signaling = None
        self._join_pending = False
        self._resume_join = False
        if (
            self.settings.auto_reconnect
            and self._resume_token is not None
            and self.mesh.peer_id is not None
        ):
            self._keep_call(cause)
            return
        self._away = False
        self._outbox = None
        self._absent.clear()
        self._known.clear()
        self._to_offer.clear()
        self._stop_ice_refresh()
        for closing in self.mesh.leave():
            self._spawn(closing)
        if self.settings.auto_reconnect:
            self._schedule_reconnect(cause)
        else:
            self._spawn(self._end(cause, CallEndedError(f"signaling lost: {cause}")))

    def _schedule_reconnect(self, cause: str) -> None:
        settings = self.settings
        attempt = self._attempts + 1
        keep_trying = self._away and self.mesh.any_ice_connected  # the call is still up
        if attempt > settings.max_reconnect_attempts and not keep_trying:
            self._bus.emit(ReconnectFailedEvent())
            error = ReconnectFailedError(
                f"the signaling socket to {redact(settings.signal_url)} dropped and "
                f"{settings.max_reconnect_attempts} reconnect attempts failed"
            )
            self._spawn(self._end(reasons.RECONNECT_FAILED, error))
            return
        self._attempts = attempt
        cap = settings.reconnect_max_delay
        if self._away:
            cap = min(cap, RESUME_MAX_DELAY)
        else:
            self._bus.emit(ReconnectingEvent(attempt))
            self._set_state(CallState.CONNECTING, reasons.reconnecting(cause))
        delay = reconnect_delay(attempt, base=settings.reconnect_base_delay, cap=cap)
        if self._away:
            log.info("resume attempt %d in %.1f s", attempt, delay)
        self._reconnect_task = self._spawn(self._reconnect(self._generation, delay))

    async def _reconnect(self, gen: int, delay: float) -> None:
        await asyncio.sleep(delay)
        if gen != self._generation or (self.state != CallState.CONNECTING and not self._away):
            return
        self._reconnect_task = None
        try:
            await self._open_signaling(gen)
        except CallError as exc:
            if gen == self._generation:
                what = "resume" if self._away else "reconnect"
                log.info("%s attempt %d failed: %s", what, self._attempts, exc)
                self._schedule_reconnect(reasons.WEBSOCKET_CLOSED)
            return
        if not self._away:
            self._bus.emit(ReconnectedEvent())

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    @staticmethod
    def _cancel(task: asyncio.Task[Any] | None) -> None:
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()


def _dead(session: PeerSession) -> bool:
    return session.closed or session.pc.connectionState in ("failed", "closed")
