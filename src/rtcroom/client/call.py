"""``WebRTCCall``: join a room from Python and talk to every peer in it, peer to peer.

The call owns the state machine, the signaling socket (with reconnect) and one
:class:`~rtcroom.client.session.PeerSession` per remote peer. Every asynchronous step carries
the *generation* of the ``connect()`` that started it; ``hangup()`` and timeouts start a new
generation, so a late socket event or timer of an old one can never rejoin the room (the
reference client's stale-timer and zombie-peer races).

Seam for media (``rtcroom.media`` fills it; the media methods come from
:class:`~rtcroom.client.media.CallMedia`): ``media=`` takes ``False`` (data only), ``True`` or
``{"video": ..., "audio": ...}`` constraints (camera and microphone), or a
:class:`~rtcroom.client.tracks.TrackSource`. Its tracks are relayed into every new peer
connection before the first offer or answer; remote tracks arrive as ``on_track_added(peer_id,
track)`` / :class:`TrackAddedEvent`; ``call.sessions[peer_id].pc`` is the
``RTCPeerConnection``; ``await call.sessions[peer_id].renegotiate()`` offers again after a track
is added later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import orjson
from aiortc import RTCDataChannel, RTCPeerConnection
from aiortc.exceptions import InvalidStateError

from .. import ice
from . import inbound
from . import state as reasons
from .channels import (
    DEFAULT_LOW_WATER_MARK,
    DEFAULT_MAX_BUFFERED_AMOUNT,
    DataChannelConfig,
    as_bytes,
    as_config,
    wait_buffered_low,
)
from .diagnosis import short_repr, why_not_connected
from .errors import (
    BufferFullError,
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
    UnknownChannelError,
    UnknownPeerError,
)
from .events import (
    CallCallbacks,
    CallEvent,
    ConnectEvent,
    DataChannelErrorEvent,
    DisconnectEvent,
    ErrorEvent,
    EventBus,
    EventStream,
    NegotiationStartEvent,
    PeerJoinedEvent,
    PeerLeftEvent,
    ReconnectedEvent,
    ReconnectFailedEvent,
    ReconnectingEvent,
    StateChangeEvent,
)
from .media import CallMedia, local_media_from_option
from .session import PeerSession
from .signaling import OPEN_TIMEOUT, SignalingChannel, reconnect_delay
from .state import CallState
from .tracks import LocalTracks, TrackSource
from .tuning import DEFAULT_UDP_RECEIVE_BUFFER

log = logging.getLogger("rtcroom.client")

_ROOM_FULL_PREFIX = "Room is full"


class WebRTCCall(CallMedia):
    """A peer in one room. ``async with WebRTCCall(room, url, ...) as call:`` joins the room
    and hangs up at the end. See the README section "Python peer client" for every option."""

    def __init__(
        self,
        room_id: str,
        signal_url: str,
        *,
        media: TrackSource | bool | dict[str, Any] = False,
        data_channels: Sequence[DataChannelConfig | str] = (),
        auto_reconnect: bool = True,
        max_reconnect_attempts: int = 5,
        polite: bool | None = None,
        connection_timeout: float = 30.0,
        ice_gathering_timeout: float = 10.0,
        ice_servers: Sequence[Any] | None = None,
        ice_host_addresses: Sequence[str] | None = None,
        callbacks: CallCallbacks | None = None,
        reconnect_base_delay: float = 1.0,
        reconnect_max_delay: float = 30.0,
        max_buffered_amount: int = DEFAULT_MAX_BUFFERED_AMOUNT,
        udp_receive_buffer: int | None = DEFAULT_UDP_RECEIVE_BUFFER,
    ) -> None:
        if not isinstance(room_id, str) or not room_id:
            raise ValueError(f"room_id must be a non-empty string, got {room_id!r}")
        if not isinstance(signal_url, str) or not signal_url.startswith(("ws://", "wss://")):
            raise ValueError(
                f"signal_url must be a ws:// or wss:// URL such as "
                f"'ws://127.0.0.1:8000/api/call/signal', got {signal_url!r}"
            )
        for name, value in (
            ("connection_timeout", connection_timeout),
            ("ice_gathering_timeout", ice_gathering_timeout),
            ("reconnect_base_delay", reconnect_base_delay),
            ("reconnect_max_delay", reconnect_max_delay),
        ):
            if not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if max_reconnect_attempts < 0:
            raise ValueError("max_reconnect_attempts must be 0 or more")
        self.room_id = room_id
        self.signal_url = signal_url
        self.data_channels = [as_config(item) for item in data_channels]
        labels = [config.label for config in self.data_channels]
        if len(set(labels)) != len(labels):
            raise ValueError(f"data channel labels must be unique, got {labels}")
        self.auto_reconnect = auto_reconnect
        self.max_reconnect_attempts = max_reconnect_attempts
        self.polite = polite
        self.connection_timeout = float(connection_timeout)
        self.ice_gathering_timeout = float(ice_gathering_timeout)
        self.ice_host_addresses = (
            None if ice_host_addresses is None else ice.validate_host_addresses(ice_host_addresses)
        )
        self._ice_servers = None if ice_servers is None else list(ice_servers)
        ice.rtc_configuration(self._ice_servers)  # fail now, not at the first peer
        self.reconnect_base_delay = float(reconnect_base_delay)
        self.reconnect_max_delay = float(reconnect_max_delay)
        self.max_buffered_amount = max_buffered_amount
        self.udp_receive_buffer = udp_receive_buffer
        self._media: TrackSource | None = local_media_from_option(media)
        self._tracks: LocalTracks | None = None
        self._bus = EventBus(callbacks)

        self._state = CallState.IDLE
        self.peer_id: str | None = None
        self._sessions: dict[str, PeerSession] = {}
        self._signaling: SignalingChannel | None = None
        self._generation = 0
        self._attempts = 0
        self._joined: asyncio.Future[None] | None = None
        self._join_pending = False  # a `join` is out and neither `joined` nor `error` came back
        self._idle_error: CallError | None = None
        self._timeout_task: asyncio.Task[None] | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._open_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._extra_labels: set[str] = set()

    # --- read-only view ----------------------------------------------------------------------

    @property
    def state(self) -> CallState:
        return self._state

    @property
    def remote_peer_ids(self) -> list[str]:
        """Peers this call has a connection with (including ones still negotiating)."""
        return list(self._sessions)

    @property
    def peer_count(self) -> int:
        return len(self._sessions)

    @property
    def is_data_only(self) -> bool:
        return self._media is None

    @property
    def sessions(self) -> Mapping[str, PeerSession]:
        """Remote peer id → :class:`PeerSession` (``.pc`` is its ``RTCPeerConnection``)."""
        return MappingProxyType(self._sessions)

    def events(self) -> EventStream:
        """Every event from now on, as typed objects: ``async for event in call.events()``."""
        return EventStream(self._bus)

    # --- connect / hangup ----------------------------------------------------------------------

    async def __aenter__(self) -> WebRTCCall:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.hangup()
        await self._bus.aclose()

    async def connect(self) -> None:
        """Open the signaling socket and join the room; returns once the server said
        ``joined`` (peers may still be negotiating: see :meth:`wait_connected`).

        Raises :class:`RoomFullError` or :class:`JoinRefusedError` (the server's reason),
        :class:`SignalingConnectionError`,
        :class:`ConnectionTimeoutError`, or :class:`CallEndedError` if ``hangup()`` came first.
        Calling it while a connect is under way waits for that one.
        """
        if self._state != CallState.IDLE:
            if self._joined is not None and not self._joined.done():
                await asyncio.shield(self._joined)
            return
        self._generation += 1
        gen = self._generation
        self._attempts = 0
        self._idle_error = None
        self._joined = asyncio.get_running_loop().create_future()
        deadline = asyncio.get_running_loop().time() + self.connection_timeout
        self._set_state(CallState.CONNECTING, reasons.CONNECT_CALLED)
        try:
            if self._media is not None:
                self._tracks = self._tracks or LocalTracks(self._media)
                await self._tracks.start()
                if gen != self._generation:
                    raise self._ended_error()
            await self._open_signaling(gen)
        except SignalingConnectionError as exc:
            if gen == self._generation:
                self.emit(ErrorEvent(exc, self._state))
                await self._end(reasons.ERROR, exc)
            raise
        except CallEndedError:
            raise
        except Exception as exc:
            if gen == self._generation:
                self.emit(ErrorEvent(exc, self._state))
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
                f"the signaling server at {self.signal_url} did not answer the join within "
                f"connection_timeout={self.connection_timeout:g} s"
            )
            self.emit(ErrorEvent(error, self._state))
            await self._end(reasons.CONNECTION_TIMEOUT, error)
            raise error from None

    async def hangup(self) -> None:
        """Leave the room: close every peer connection and the socket, state ``idle``.
        Safe to call at any time, also while ``connect()`` is pending."""
        await self._end(reasons.HANGUP, None)
        if self._tracks is not None:
            self._tracks.stop()
            self._tracks = None

    async def wait_connected(self, peers: int = 1, timeout: float | None = None) -> None:
        """Wait until ``peers`` remote peers are connected (ICE up and every channel of
        ``data_channels`` open). :class:`ConnectionTimeoutError` (a ``TimeoutError``) after
        ``timeout`` s, saying what is missing; :class:`CallEndedError` if the call goes idle
        meanwhile."""
        labels = [config.label for config in self.data_channels]

        def ready() -> bool:
            return sum(s.is_ready(labels) for s in self._sessions.values()) >= peers

        try:
            await self._wait(ready, timeout)
        except TimeoutError:
            done = sum(s.is_ready(labels) for s in self._sessions.values())
            why = why_not_connected(self.room_id, self._sessions, labels, peers=peers)
            raise ConnectionTimeoutError(
                f"wait_connected: {done} of {peers} peer(s) connected after {timeout:g} s: {why}"
            ) from None

    async def _wait(self, predicate: Callable[[], bool], timeout: float | None) -> None:
        if self._state == CallState.IDLE:
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
            if self._state == CallState.IDLE:
                fut.set_exception(self._ended_error())
            elif predicate():
                fut.set_result(None)

    # --- state machine ------------------------------------------------------------------------

    def emit(self, event: CallEvent) -> None:
        self._bus.emit(event)

    def _set_state(self, new: CallState, reason: str) -> None:
        old = self._state
        if new == old:
            return
        self._state = new
        if new in (CallState.CONNECTING, CallState.NEGOTIATING):
            self._start_timeout()
        else:
            self._cancel(self._timeout_task)
            self._timeout_task = None
        self.emit(StateChangeEvent(old, new, reason))
        if new == CallState.CONNECTED:
            self.emit(ConnectEvent())
        if new == CallState.IDLE:
            if self._joined is not None and not self._joined.done():
                self._joined.set_exception(self._ended_error(reason))
                self._joined.exception()
            self.emit(DisconnectEvent(reasons.disconnect_reason(reason)))
        self._notify()

    def _ended_error(self, reason: str = reasons.HANGUP) -> CallError:
        if self._idle_error is not None:
            return self._idle_error
        return CallEndedError(f"the call ended ({reason}) before this finished")

    def _start_timeout(self) -> None:
        self._cancel(self._timeout_task)
        self._timeout_task = self._spawn(self._timeout(self._generation))

    async def _timeout(self, gen: int) -> None:
        await asyncio.sleep(self.connection_timeout)
        if gen != self._generation or self._state not in (
            CallState.CONNECTING,
            CallState.NEGOTIATING,
        ):
            return
        self._timeout_task = None  # we are it: _end must not cancel us
        labels = [config.label for config in self.data_channels]
        error = ConnectionTimeoutError(
            f"WebRTC connection timed out: not connected within connection_timeout="
            f"{self.connection_timeout:g} s: "
            f"{why_not_connected(self.room_id, self._sessions, labels)}"
        )
        self.emit(ErrorEvent(error, self._state))
        await self._end(reasons.CONNECTION_TIMEOUT, error)

    async def _end(self, reason: str, error: CallError | None) -> None:
        """Back to ``idle``: a new generation, so nothing of the old one acts again."""
        self._generation += 1
        for task in (self._timeout_task, self._reconnect_task, self._open_task):
            self._cancel(task)
        self._timeout_task = self._reconnect_task = self._open_task = None
        signaling, self._signaling = self._signaling, None
        sessions = list(self._sessions.values())
        self._sessions.clear()
        self.peer_id = None
        self._join_pending = False
        if error is not None:
            self._idle_error = error
        self._set_state(CallState.IDLE, reason)
        closing = [s.close() for s in sessions]
        if signaling is not None:
            closing.append(signaling.close())
        if closing:
            await asyncio.gather(*closing, return_exceptions=True)

    def _sessions_changed(self) -> None:
        """Agentuity's updateConnectionState: only ICE state counts."""
        if self._state in (CallState.IDLE, CallState.CONNECTING):
            self._notify()
            return
        if any(s.ice_connected for s in self._sessions.values()):
            self._set_state(CallState.CONNECTED, reasons.PEER_CONNECTED)
        elif self._sessions:
            if self._state == CallState.CONNECTED:
                self._set_state(CallState.NEGOTIATING, reasons.NO_CONNECTED_PEERS)
        elif self._state in (CallState.CONNECTED, CallState.NEGOTIATING):
            self._set_state(CallState.SIGNALING, reasons.ALL_PEERS_LEFT)
        self._notify()

    # --- signaling -----------------------------------------------------------------------------

    async def _open_signaling(self, gen: int) -> None:
        channel: SignalingChannel

        def on_message(raw: str | bytes) -> None:
            if gen == self._generation and channel is self._signaling:
                self._on_signal(raw)

        def on_closed(error: BaseException | None) -> None:
            if gen == self._generation and channel is self._signaling:
                self._signaling_lost(reasons.WEBSOCKET_CLOSED)

        channel = SignalingChannel(self.signal_url, on_message, on_closed)
        self._signaling = channel
        self._open_task = asyncio.get_running_loop().create_task(
            channel.open(min(OPEN_TIMEOUT, self.connection_timeout))
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
        self._set_state(CallState.SIGNALING, reasons.WEBSOCKET_OPENED)
        self._join_pending = True
        await channel.send({"t": "join", "roomId": self.room_id})

    async def _send_signal(self, kind: str, to: str, payload: dict[str, Any]) -> None:
        channel = self._signaling
        if channel is None:
            return
        key = "description" if kind == "sdp" else "candidate"
        await channel.send({"t": kind, "from": self.peer_id, "to": to, key: payload})

    def _on_signal(self, raw: str | bytes) -> None:
        try:
            frame = inbound.parse(raw, self.peer_id)
        except (InvalidSignalError, NegotiationError) as error:
            self._reject(error)
            return
        if isinstance(frame, inbound.Joined):
            self._on_joined(frame)
        elif isinstance(frame, inbound.PeerJoined):
            self.emit(PeerJoinedEvent(frame.peer_id))
            self._create_session(frame.peer_id, offerer=False)
        elif isinstance(frame, inbound.PeerLeft):
            self.emit(PeerLeftEvent(frame.peer_id))
            session = self._sessions.pop(frame.peer_id, None)
            if session is not None:
                self._spawn(session.close())
            self._sessions_changed()
        elif isinstance(frame, inbound.Description):
            session = self._sessions.get(frame.sender)
            if session is None and frame.type == "offer":
                session = self._create_session(frame.sender, offerer=False)
            if session is None:
                self._reject(
                    InvalidSignalError(
                        f"dropped an answer from peer {frame.sender}: no connection with it "
                        "(we made it no offer)",
                        frame.sender,
                    )
                )
                return
            session.handle_sdp(frame)
        elif isinstance(frame, inbound.Candidate):
            session = self._sessions.get(frame.sender)
            if session is not None:
                session.handle_ice(frame)
        elif isinstance(frame, inbound.ServerError):
            self._on_server_error(frame.message)
        else:
            log.debug("ignored a %r frame (unknown to this client)", frame.t)

    def _on_joined(self, frame: inbound.Joined) -> None:
        if not self._join_pending:
            self._reject(InvalidSignalError("dropped a 'joined' that answers no join of ours"))
            return
        # Only a completed join proves the server is back: a server that accepts sockets and
        # drops them at once must still run out of attempts (Agentuity resets on open).
        self._attempts = 0
        self._join_pending = False
        self.peer_id = frame.peer_id
        for remote in frame.peers:
            self._create_session(remote, offerer=True)
        if self._joined is not None and not self._joined.done():
            self._joined.set_result(None)

    def _reject(self, error: CallError) -> None:
        """A frame that breaks the protocol: dropped, reported, and the call carries on."""
        log.warning("%s", error)
        self.emit(ErrorEvent(error, self._state))

    def _on_server_error(self, message: str) -> None:
        if not self._join_pending:
            self.emit(ErrorEvent(SignalingError(message), self._state))
            return
        # The answer to our `join`: nobody was registered, and waiting changes nothing.
        # (Agentuity's client stays in `signaling` forever here; we end the call.)
        self._join_pending = False
        room = short_repr(self.room_id)
        if message.startswith(_ROOM_FULL_PREFIX):
            error: JoinRefusedError = RoomFullError(
                f"{message}: room {room} has no free slot (the server's max_peers)"
            )
            self.emit(ErrorEvent(error, self._state))
            self._spawn(self._end(reasons.ROOM_FULL, error))
            return
        error = JoinRefusedError(
            f"{message}: the signaling server at {self.signal_url} refused to join room {room}"
        )
        self.emit(ErrorEvent(error, self._state))
        if self._joined is not None and not self._joined.done():
            self._spawn(self._end(reasons.JOIN_REFUSED, error))
            return
        # Rejoining after a dropped socket: a refusal is one failed attempt (e.g. "Rooms
        # temporarily unavailable" while the server's Redis restarts); the backoff retries.
        channel, self._signaling = self._signaling, None
        if channel is not None:
            self._spawn(channel.close())
        self._signaling_lost(reasons.JOIN_REFUSED)

    def _signaling_lost(self, cause: str) -> None:
        """The socket dropped. Today: drop the peer connections and rejoin as a new peer.
        (A resume extension would keep ``_sessions`` here and rejoin with the old id.)"""
        self._signaling = None
        self._join_pending = False
        for session in self._sessions.values():
            self._spawn(session.close())
        self._sessions.clear()
        self.peer_id = None
        if self.auto_reconnect:
            self._schedule_reconnect(cause)
        else:
            self._spawn(self._end(cause, CallEndedError(f"signaling lost: {cause}")))

    def _schedule_reconnect(self, cause: str) -> None:
        attempt = self._attempts + 1
        if attempt > self.max_reconnect_attempts:
            self.emit(ReconnectFailedEvent())
            error = ReconnectFailedError(
                f"the signaling socket to {self.signal_url} dropped and "
                f"{self.max_reconnect_attempts} reconnect attempts failed"
            )
            self._spawn(self._end(reasons.RECONNECT_FAILED, error))
            return
        self._attempts = attempt
        self.emit(ReconnectingEvent(attempt))
        self._set_state(CallState.CONNECTING, reasons.reconnecting(cause))
        delay = reconnect_delay(
            attempt, base=self.reconnect_base_delay, cap=self.reconnect_max_delay
        )
        self._reconnect_task = self._spawn(self._reconnect(self._generation, delay))

    async def _reconnect(self, gen: int, delay: float) -> None:
        await asyncio.sleep(delay)
        if gen != self._generation or self._state != CallState.CONNECTING:
            return
        self._reconnect_task = None
        try:
            await self._open_signaling(gen)
        except CallError as exc:
            if gen == self._generation:
                log.info("reconnect attempt %d failed: %s", self._attempts, exc)
                self._schedule_reconnect(reasons.WEBSOCKET_CLOSED)
            return
        self.emit(ReconnectedEvent())

    # --- sessions (called by PeerSession) -----------------------------------------------------

    def _create_session(self, remote_id: str, *, offerer: bool) -> PeerSession:
        existing = self._sessions.get(remote_id)
        if existing is not None:
            return existing
        pc = RTCPeerConnection(ice.rtc_configuration(self._ice_servers))
        polite = self.polite if self.polite is not None else not (self.peer_id or "") > remote_id
        session = PeerSession(self, remote_id, pc, polite)
        self._sessions[remote_id] = session
        self._media_session_created(session, offerer=offerer)
        session.start(offerer=offerer, channels=self.data_channels, tracks=self._tracks)
        return session

    def _negotiation_starting(self, session: PeerSession, reason: str) -> None:
        if self._sessions.get(session.remote_id) is not session:
            return
        if self._state == CallState.SIGNALING:
            self._set_state(CallState.NEGOTIATING, reason)
        self.emit(NegotiationStartEvent(session.remote_id))

    def _session_failed(self, session: PeerSession, error: Exception) -> None:
        """One peer's connection failed: report it and drop that peer only (Agentuity drops
        every peer and the socket; in a mesh that punishes the healthy links)."""
        if self._sessions.get(session.remote_id) is not session:
            return
        self.emit(ErrorEvent(error, self._state))
        del self._sessions[session.remote_id]
        self._spawn(session.close())
        self._sessions_changed()

    def _label_seen(self, label: str) -> None:
        self._extra_labels.add(label)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    @staticmethod
    def _cancel(task: asyncio.Task[Any] | None) -> None:
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()

    # --- data channels -------------------------------------------------------------------------

    def create_data_channel(self, config: DataChannelConfig | str) -> dict[str, RTCDataChannel]:
        """Open a channel to every current peer (peers that join later do not get it, as in
        Agentuity). Returns peer id → ``aiortc.RTCDataChannel``."""
        self._require_active("create_data_channel")
        config = as_config(config)
        self._extra_labels.add(config.label)
        return {pid: s.create_channel(config) for pid, s in self._sessions.items()}

    def close_data_channel(self, label: str) -> bool:
        """Close ``label`` with every peer; ``True`` if any channel was closed."""
        closed = False
        for session in self._sessions.values():
            channel = session.channels.pop(label, None)
            if channel is not None:
                channel.close()
                closed = True
        self._extra_labels.discard(label)
        return closed

    def get_data_channel_labels(self) -> list[str]:
        """Labels of the channels this call has with any peer, in any state."""
        labels: dict[str, None] = {}
        for session in self._sessions.values():
            labels.update(dict.fromkeys(session.channels))
        return list(labels)

    def get_data_channel_state(self, peer_id: str, label: str) -> str | None:
        """``"connecting"``, ``"open"``, ``"closing"``, ``"closed"``, or ``None`` if this
        peer has no such channel (a query never raises)."""
        channel = self.get_data_channel(peer_id, label)
        return None if channel is None else str(channel.readyState)

    def get_data_channel(self, peer_id: str, label: str) -> RTCDataChannel | None:
        session = self._sessions.get(peer_id)
        return None if session is None else session.channels.get(label)

    def send_string(self, label: str, data: str) -> bool:
        """Send text to every peer whose channel ``label`` is open; ``True`` if any got it."""
        return self._send(label, None, _as_text(data))

    def send_string_to(self, peer_id: str, label: str, data: str) -> bool:
        return self._send(label, peer_id, _as_text(data))

    def send_json(self, label: str, data: Any) -> bool:
        """Send ``data`` as JSON text (no envelope, as the browser client does)."""
        return self._send(label, None, _to_json(data))

    def send_json_to(self, peer_id: str, label: str, data: Any) -> bool:
        return self._send(label, peer_id, _to_json(data))

    def send_binary(self, label: str, data: bytes | bytearray | memoryview) -> bool:
        return self._send(label, None, as_bytes(data))

    def send_binary_to(
        self, peer_id: str, label: str, data: bytes | bytearray | memoryview
    ) -> bool:
        return self._send(label, peer_id, as_bytes(data))

    async def drain(
        self,
        label: str | None = None,
        *,
        peer_id: str | None = None,
        low: int = DEFAULT_LOW_WATER_MARK,
        timeout: float | None = None,
    ) -> None:
        """Wait until each open channel (``label`` or all; ``peer_id`` or all peers) holds
        at most ``low`` queued bytes. The way to push large data without growing memory::

            for chunk in chunks:
                call.send_binary("file", chunk)
                await call.drain("file")
        """
        channels = [
            ch
            for pid, session in self._sessions.items()
            if peer_id is None or pid == peer_id
            for lbl, ch in session.channels.items()
            if label is None or lbl == label
        ]
        waits = [wait_buffered_low(ch, low) for ch in channels]
        if waits:
            await asyncio.wait_for(asyncio.gather(*waits), timeout)

    def buffered_amount(self, label: str, peer_id: str | None = None) -> int:
        """Bytes queued on ``label`` (summed over peers unless ``peer_id`` is given)."""
        return sum(
            ch.bufferedAmount
            for pid, s in self._sessions.items()
            if peer_id is None or pid == peer_id
            if (ch := s.channels.get(label)) is not None
        )

    def _require_active(self, what: str) -> None:
        if self._state == CallState.IDLE:
            raise NotConnectedError(
                f"{what}: the call is not connected (state idle); await call.connect() first"
            )

    def _send(self, label: str, peer_id: str | None, data: str | bytes) -> bool:
        self._require_active("send")
        known = {c.label for c in self.data_channels} | self._extra_labels
        if label not in known:
            raise UnknownChannelError(
                f"no data channel {label!r} in this call (known: {sorted(known)}); list it in "
                "data_channels=[...] or call create_data_channel() first"
            )
        if peer_id is None:
            sessions = list(self._sessions.values())
        else:
            one = self._sessions.get(peer_id)
            if one is None:
                raise UnknownPeerError(
                    f"no peer {peer_id!r} in this call; remote peers: {self.remote_peer_ids}"
                )
            sessions = [one]
        targets = [
            (s, ch)
            for s in sessions
            if (ch := s.channels.get(label)) is not None and ch.readyState == "open"
        ]
        size = len(data.encode() if isinstance(data, str) else data)
        for session, channel in targets:
            if channel.bufferedAmount + size > self.max_buffered_amount:
                raise BufferFullError(
                    f"channel {label!r} to peer {session.remote_id} already holds "
                    f"{channel.bufferedAmount} bytes (max_buffered_amount="
                    f"{self.max_buffered_amount}); await call.drain({label!r}) before sending more"
                )
        sent = False
        for session, channel in targets:
            try:
                channel.send(data)
                sent = True
            except InvalidStateError as exc:  # closed between the check and the send
                self.emit(DataChannelErrorEvent(session.remote_id, label, exc))
        return sent


def _as_text(data: str) -> str:
    if not isinstance(data, str):
        raise TypeError(
            f"send_string takes str, not {type(data).__name__}; use send_binary for bytes "
            "or send_json for other values"
        )
    return data


def _to_json(data: Any) -> str:
    try:
        return orjson.dumps(data).decode()
    except TypeError as exc:
        raise TypeError(f"send_json: value is not JSON-serialisable: {exc}") from None
