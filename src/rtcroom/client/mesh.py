"""The call's peer sessions: one :class:`PeerSession` per remote peer, a full mesh.

The mesh creates and drops sessions, routes checked signaling frames to them, and is the
:class:`~rtcroom.client.session.SessionOwner` they report to. It knows nothing of the call: it
tells it what happened through the few callbacks it is built with, so the call's state machine
and the per-peer negotiation stay apart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiortc import RTCPeerConnection

from . import datapath
from .errors import CallError, InvalidSignalError
from .events import CallEvent, NegotiationStartEvent, PeerJoinedEvent, PeerLeftEvent
from .inbound import Candidate, Description
from .session import PeerSession
from .settings import SessionSettings
from .tracks import LocalTracks

SendSignal = Callable[[str, str, dict[str, Any]], Awaitable[None]]


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
        session = self.sessions.pop(remote_id, None)
        if session is not None:
            self._close_later(session)
        self._changed()

    def description(self, frame: Description) -> None:
        """An offer creates the session if needed; an answer needs one of our offers."""
        session = self.sessions.get(frame.sender)
        if session is None and frame.type == "offer":
            session = self.create(frame.sender, offerer=False)
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

    def create(self, remote_id: str, *, offerer: bool) -> PeerSession:
        existing = self.sessions.get(remote_id)
        if existing is not None:
            return existing
        settings = self.settings
        pc = RTCPeerConnection(settings.rtc_configuration())
        datapath.install(pc)
        polite = settings.is_polite(self.peer_id, remote_id)
        session = PeerSession(self, remote_id, pc, polite, settings)
        self.sessions[remote_id] = session
        self._created(session, offerer)
        session.start(offerer=offerer, tracks=self.tracks)
        return session

    def leave(self) -> list[Coroutine[Any, Any, None]]:
        """Forget every session (the room is left or lost); returns their ``close()``."""
        sessions = list(self.sessions.values())
        self.sessions.clear()
        self.peer_id = None
        return [s.close() for s in sessions]

    def ready_count(self, labels: list[str]) -> int:
        return sum(s.is_ready(labels) for s in self.sessions.values())

    @property
    def any_ice_connected(self) -> bool:
        return any(s.ice_connected for s in self.sessions.values())

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
        self._changed()

    def session_failed(self, session: PeerSession, error: CallError) -> None:
        """One peer's connection failed: report it and drop that peer only (Agentuity drops
        every peer and the socket; in a mesh that punishes the healthy links)."""
        if self.sessions.get(session.remote_id) is not session:
            return
        self._failed(error)
        del self.sessions[session.remote_id]
        self._close_later(session)
        self._changed()

    def label_seen(self, label: str) -> None:
        self.labels.add(label)
