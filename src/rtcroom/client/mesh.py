"""The call's peer sessions: one :class:`PeerSession` per remote peer, a full mesh.

The mesh creates and drops sessions, routes checked signaling frames to them, and is the
:class:`~rtcroom.client.session.SessionOwner` they report to. It knows nothing of the call: it
tells it what happened through the few callbacks it is built with, so the call's state machine
and the per-peer negotiation stay apart.

It also repairs a peer whose network path broke (a session reports itself broken): aiortc cannot
restart ICE, so the pair *rebuilds*: a fresh connection to the same peer id with the same local
tracks, the offerer re-creating every channel under its label and options, its offer carrying
``rtcroomRebuild = N`` (docs/protocol.md). The impolite side (greater peer id) rebuilds at once,
the polite side if no rebuild offer came within :data:`POLITE_WAIT`; a receiver of a greater N
replaces its connection silently and answers; glare at the same N is won by the impolite offer.
A rebuilt connection that is not up within :data:`ATTEMPT_TIMEOUT` counts as broken again
(retried with backoff for as long as the peer is in the room). The app sees
:class:`PeerReconnectingEvent` then :class:`PeerReconnectedEvent`, never a leave.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiortc import RTCPeerConnection

from . import aiortc_fixes, datapath
from .channels import DataChannelConfig
from .errors import CallError, InvalidSignalError
from .events import (
    CallEvent,
    NegotiationStartEvent,
    PeerJoinedEvent,
    PeerLeftEvent,
    PeerReconnectedEvent,
    PeerReconnectingEvent,
)
from .inbound import Candidate, Description
from .session import PeerSession
from .settings import SessionSettings
from .tracks import LocalTracks

log = logging.getLogger("rtcroom.client.mesh")

SendSignal = Callable[[str, str, dict[str, Any]], Awaitable[None]]

POLITE_WAIT = 5.0
"""Seconds the polite side of a broken pair waits for the impolite side's rebuild offer."""
ATTEMPT_TIMEOUT = 15.0
"""Seconds a rebuilt connection has to come up before it is rebuilt again."""
MAX_BACKOFF = 10.0


def rebuild_delay(attempt: int, polite: bool) -> float:
    """Before rebuild ``attempt`` (0 = the first): at once, then 1, 2, 4 ... 10 s; the polite
    side waits :data:`POLITE_WAIT` more so that the impolite side's offer normally wins."""
    backoff = 0.0 if attempt == 0 else min(2.0 ** (attempt - 1), MAX_BACKOFF)
    return backoff + (POLITE_WAIT if polite else 0.0)


class _Repair:
    """One peer being reconnected: its attempts and the one timer that drives the next."""

    def __init__(self) -> None:
        self.attempts = 0
        self.timer: asyncio.TimerHandle | None = None

    def schedule(self, delay: float, action: Callable[[], None]) -> None:
        self.cancel()
        self.timer = asyncio.get_running_loop().call_later(delay, action)

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class PeerMesh:
    """Remote peer id → :class:`PeerSession`, for the room the call is in now."""

    def __init__(
        self,
        settings: SessionSettings,
        *,
        send_signal: SendSignal,
        emit: Callable[[CallEvent], None],
        negotiating: Callable[[str], None],
        changed: Callable[[], None],
        failed: Callable[[CallError], None],
        created: Callable[[PeerSession, bool], None],
    ) -> None:
        """``negotiating(reason)``: a session started an exchange; ``changed()``: a session's
        ICE or channel state changed, or one came or went; ``failed(error)``: a session was
        dropped because of ``error``; ``created(session, offerer)``: a new session, before it
        starts (where media attaches)."""
        self.sessions: dict[str, PeerSession] = {}
        self.labels: set[str] = set()
        """Labels of the channels any session has had (ours or the peers')."""
        self.peer_id: str | None = None
        self.settings = settings
        self.tracks: LocalTracks | None = None
        self._send_signal = send_signal
        self._emit = emit
        self._negotiating = negotiating
        self._changed = changed
        self._failed = failed
        self._created = created
        self._closing: set[asyncio.Task[None]] = set()
        self.recovering: dict[str, _Repair] = {}
        """Peers whose broken connection is being rebuilt."""
        aiortc_fixes.quicken_consent_checks()

    def join(self, peer_id: str, settings: SessionSettings, tracks: LocalTracks | None) -> None:
        """We are ``peer_id`` in a room now; new sessions are made with ``settings``."""
        self.peer_id = peer_id
        self.settings = settings
        self.tracks = tracks

    # --- signaling input ------------------------------------------------------------------------

    def peer_joined(self, remote_id: str) -> None:
        self._emit(PeerJoinedEvent(remote_id))
        self.create(remote_id, offerer=False)

    def peer_left(self, remote_id: str) -> None:
        self._emit(PeerLeftEvent(remote_id))
        self._end_repair(remote_id)
        session = self.sessions.pop(remote_id, None)
        if session is not None:
            self._close_later(session)
        self._changed()

    def description(self, frame: Description) -> None:
        """An offer creates the session if needed; an answer needs one of our offers."""
        session = self.sessions.get(frame.sender)
        if session is not None and frame.rebuild is not None:
            session = self._rebuild_target(session, frame)
            if session is None:
                return
        if session is None and frame.type == "offer":
            session = self.create(frame.sender, offerer=False, rebuild=frame.rebuild or 0)
        if session is None:
            raise InvalidSignalError(
                f"dropped an answer from peer {frame.sender}: no connection with it "
                "(we made it no offer)",
                frame.sender,
            )
        session.handle_sdp(frame)

    def candidate(self, frame: Candidate) -> None:
        session = self.sessions.get(frame.sender)
        if session is not None:
            session.handle_ice(frame)

    # --- sessions -------------------------------------------------------------------------------

    def create(self, remote_id: str, *, offerer: bool, rebuild: int = 0) -> PeerSession:
        existing = self.sessions.get(remote_id)
        if existing is not None:
            return existing
        return self._new_session(remote_id, offerer=offerer, rebuild=rebuild)

    def _new_session(
        self,
        remote_id: str,
        *,
        offerer: bool,
        rebuild: int,
        channels: dict[str, DataChannelConfig] | None = None,
    ) -> PeerSession:
        settings = self.settings
        pc = RTCPeerConnection(settings.rtc_configuration())
        datapath.install(pc, large_packets=settings.large_sctp_packets)
        polite = settings.is_polite(self.peer_id, remote_id)
        session = PeerSession(self, remote_id, pc, polite, settings, rebuild)
        if channels is not None:
            session.channel_configs.update(channels)
        self.sessions[remote_id] = session
        self._created(session, offerer)
        session.start(
            offerer=offerer,
            tracks=self.tracks,
            channels=None if channels is None else channels.values(),
        )
        return session

    # --- repairing a broken path ----------------------------------------------------------------

    def repair(self, remote_id: str) -> None:
        """Repair the connection to ``remote_id`` as if its path broke (e.g. signaling frames
        to it were lost while it was not connected)."""
        session = self.sessions.get(remote_id)
        if session is not None:
            self.session_broken(session)

    def session_broken(self, session: PeerSession) -> None:
        remote_id = session.remote_id
        if self.sessions.get(remote_id) is not session:
            return
        repair = self._start_repair(remote_id)
        delay = rebuild_delay(repair.attempts, session.polite)
        log.info(
            "the connection to peer %s broke (ICE %s); rebuilding it in %.1f s",
            remote_id,
            session.pc.iceConnectionState,
            delay,
        )
        repair.schedule(delay, lambda: self._rebuild_if_current(session))
        self._changed()

    def _start_repair(self, remote_id: str) -> _Repair:
        repair = self.recovering.get(remote_id)
        if repair is None:
            repair = self.recovering[remote_id] = _Repair()
            self._emit(PeerReconnectingEvent(remote_id))
        return repair

    def _rebuild_if_current(self, session: PeerSession) -> None:
        if self.sessions.get(session.remote_id) is session and self.peer_id is not None:
            self._rebuild(session, session.rebuild + 1, offerer=True)

    def _rebuild(self, old: PeerSession, rebuild: int, *, offerer: bool) -> PeerSession:
        """Replace ``old`` with a fresh connection numbered ``rebuild``; ``old`` goes silently."""
        remote_id = old.remote_id
        repair = self._start_repair(remote_id)
        repair.attempts += 1
        channels = {
            label: config for label, config in old.channel_configs.items() if label in self.labels
        }
        old.retire()
        self._close_later(old)
        del self.sessions[remote_id]
        session = self._new_session(remote_id, offerer=offerer, rebuild=rebuild, channels=channels)
        repair.schedule(ATTEMPT_TIMEOUT, lambda: self._attempt_timed_out(session))
        self._changed()
        return session

    def _attempt_timed_out(self, session: PeerSession) -> None:
        if self.sessions.get(session.remote_id) is session and not self._repaired(session):
            log.info(
                "rebuilt connection %d to peer %s is not up yet", session.rebuild, session.remote_id
            )
            self.session_broken(session)

    def _rebuild_target(self, session: PeerSession, frame: Description) -> PeerSession | None:
        """The session a description tagged ``rtcroomRebuild`` belongs to (a fresh one for a
        greater N), or None to drop it (an older connection's, or a glare the other side wins)."""
        rebuild = frame.rebuild or 0
        if rebuild < session.rebuild or (frame.type == "answer" and rebuild > session.rebuild):
            log.debug(
                "dropped an %s of connection %d from %s (ours is %d)",
                frame.type,
                rebuild,
                frame.sender,
                session.rebuild,
            )
            return None
        if frame.type != "offer":
            return session
        if rebuild > session.rebuild:
            return self._rebuild(session, rebuild, offerer=False)
        if session.rebuild_offer_pending:  # both rebuilt to N at once
            if not session.polite:
                return None  # ours wins; the polite side answers it
            return self._rebuild(session, rebuild, offerer=False)
        return session

    def _repaired(self, session: PeerSession) -> bool:
        """Connected, every channel of the connection open, and at least one if the old one had
        any. (The answering side learns the channels as they arrive, and the peer may have
        closed one on purpose meanwhile, so the old labels are not awaited one by one.)"""
        if not session.ice_connected or (session.channel_configs and not session.channels):
            return False
        return all(channel.readyState == "open" for channel in session.channels.values())

    def _end_repair(self, remote_id: str) -> None:
        repair = self.recovering.pop(remote_id, None)
        if repair is not None:
            repair.cancel()

    def leave(self) -> list[Coroutine[Any, Any, None]]:
        """Forget every session (the room is left or lost); returns their ``close()``."""
        for remote_id in list(self.recovering):
            self._end_repair(remote_id)
        sessions = list(self.sessions.values())
        self.sessions.clear()
        self.peer_id = None
        return [s.close() for s in sessions]

    def ready_count(self, labels: list[str]) -> int:
        return sum(s.is_ready(labels) for s in self.sessions.values())

    @property
    def any_ice_connected(self) -> bool:
        """A peer being reconnected counts: the call stays ``connected`` while it is repaired
        (its own events say it is away), so ``connection_timeout`` does not end the call."""
        return any(
            s.ice_connected or s.remote_id in self.recovering for s in self.sessions.values()
        )

    def _close_later(self, session: PeerSession) -> None:
        task = asyncio.get_running_loop().create_task(session.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    # --- SessionOwner ---------------------------------------------------------------------------

    def send_signal(self, kind: str, to: str, payload: dict[str, Any]) -> Awaitable[None]:
        return self._send_signal(kind, to, payload)

    def emit(self, event: CallEvent) -> None:
        self._emit(event)

    def negotiation_started(self, session: PeerSession, reason: str) -> None:
        if self.sessions.get(session.remote_id) is session:
            self._negotiating(reason)
            self._emit(NegotiationStartEvent(session.remote_id))

    def session_changed(self, session: PeerSession) -> None:
        remote_id = session.remote_id
        if (
            remote_id in self.recovering
            and self.sessions.get(remote_id) is session
            and self._repaired(session)
        ):
            self._end_repair(remote_id)
            self._emit(PeerReconnectedEvent(remote_id))
        self._changed()

    def session_failed(self, session: PeerSession, error: CallError) -> None:
        """One peer's connection failed: report it and drop that peer only (Agentuity drops
        every peer and the socket; in a mesh that punishes the healthy links)."""
        if self.sessions.get(session.remote_id) is not session:
            return
        self._failed(error)
        self._end_repair(session.remote_id)
        del self.sessions[session.remote_id]
        self._close_later(session)
        self._changed()

    def label_seen(self, label: str) -> None:
        self.labels.add(label)
