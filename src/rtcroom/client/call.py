"""``WebRTCCall``: join a room from Python and talk to every peer in it, peer to peer.

The call is a facade over three parts it owns: its :class:`~.lifecycle.CallLifecycle` (state
machine, signaling socket, reconnect, and the :class:`~.mesh.PeerMesh` of one
:class:`~rtcroom.client.PeerSession` per remote peer), its :class:`~.datachannels.DataChannels`
and its :class:`~.media.CallMedia`. Options are plain attributes; ``connect()`` takes a snapshot
of them (:mod:`.settings`).

Media: ``media=`` takes ``False`` (data only), ``True`` or ``{"video": ..., "audio": ...}``
constraints (camera and microphone), or a :class:`~rtcroom.media.TrackSource`. Its tracks are
relayed into every new peer connection before the first offer or answer; remote tracks arrive as
``on_track_added(peer_id, track)`` / :class:`TrackAddedEvent`; ``call.sessions[peer_id].pc`` is
the ``RTCPeerConnection``; ``await call.sessions[peer_id].renegotiate()`` offers again after a
track is added later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from aiortc import MediaStreamTrack, RTCDataChannel

from .. import ice
from ..media import (
    ConnectionQualitySummary,
    FrameStream,
    LocalMedia,
    RecordingHandle,
    RecordingOptions,
    Recordings,
    RemoteAudioFrame,
    RemoteVideoFrame,
)
from ..media.frames import audio_stream, video_stream
from .channels import (
    DEFAULT_LOW_WATER_MARK,
    DEFAULT_MAX_BUFFERED_AMOUNT,
    DataChannelConfig,
    as_bytes,
    as_config,
)
from .datachannels import DataChannels, as_text, to_json
from .diagnosis import why_not_connected
from .errors import ConnectionTimeoutError
from .events import CallCallbacks, CallEvent, EventBus, EventStream
from .lifecycle import CallLifecycle
from .media import CallMedia, local_media_from_option
from .session import PeerSession
from .settings import CallSettings, SessionSettings
from .state import CallState, SignalingState
from .tracks import TrackSource
from .tuning import DEFAULT_UDP_RECEIVE_BUFFER


class WebRTCCall:
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
        ice_transport_policy: Literal["all", "relay"] = "all",
        token: str | None = None,
        callbacks: CallCallbacks | None = None,
        reconnect_base_delay: float = 1.0,
        reconnect_max_delay: float = 30.0,
        max_buffered_amount: int = DEFAULT_MAX_BUFFERED_AMOUNT,
        udp_receive_buffer: int | None = DEFAULT_UDP_RECEIVE_BUFFER,
        resume: bool = True,
        large_sctp_packets: bool = True,
    ) -> None:
        self.room_id = room_id
        self.data_channels = [as_config(item) for item in data_channels]
        """The channels opened with each peer by the side that offers."""
        self.signal_url = signal_url
        self.auto_reconnect = auto_reconnect
        self.max_reconnect_attempts = max_reconnect_attempts
        self.polite = polite
        self.connection_timeout = connection_timeout
        self.ice_gathering_timeout = ice_gathering_timeout
        self.ice_host_addresses = (
            None if ice_host_addresses is None else ice.validate_host_addresses(ice_host_addresses)
        )
        self._ice_servers = None if ice_servers is None else tuple(ice_servers)
        self.ice_transport_policy: Literal["all", "relay"] = ice_transport_policy
        """``"relay"``: connect only through TURN relays (to test TURN, or to hide addresses)."""
        self.token = token
        """A join token, sent as ``Authorization: Bearer`` (or put ``?token=`` in signal_url)."""
        self.reconnect_base_delay = reconnect_base_delay
        self.reconnect_max_delay = reconnect_max_delay
        self.udp_receive_buffer = udp_receive_buffer
        self.resume = resume
        self.large_sctp_packets = large_sctp_packets
        """Between rtcroom peers, data moves in probed 16 KiB SCTP packets (several times
        faster); False keeps aiortc's 1,189-byte packets (a path that drops IP fragments)."""
        """Keep the peer connections through a signaling outage (servers that offer resume);
        False: every dropped socket rejoins as a new peer, as Agentuity's client does."""
        settings = self._settings()  # a bad option fails here, with its name
        local = local_media_from_option(media)
        self._bus = EventBus(callbacks)
        self._life = CallLifecycle(self._bus, local, settings, self._session_created)
        self._media = CallMedia(local, self._life.mesh.sessions, self._bus.emit)
        self._channels = DataChannels(
            self._life.mesh,
            lambda: self.data_channels,
            emit=self._bus.emit,
            require_active=self._life.require_active,
            max_buffered_amount=max_buffered_amount,
        )

    def _session_created(self, session: PeerSession, offerer: bool) -> None:
        self._media.session_created(session, offerer)

    def _settings(self) -> CallSettings:
        session = SessionSettings(
            data_channels=tuple(self.data_channels),
            polite=self.polite,
            ice_servers=self._ice_servers,
            ice_host_addresses=self.ice_host_addresses,
            ice_transport_policy=self.ice_transport_policy,
            negotiation_timeout=self.connection_timeout,
            ice_gathering_timeout=self.ice_gathering_timeout,
            udp_receive_buffer=self.udp_receive_buffer,
            large_sctp_packets=self.large_sctp_packets,
        )
        return CallSettings(
            self.room_id,
            self.signal_url,
            session,
            connection_timeout=self.connection_timeout,
            auto_reconnect=self.auto_reconnect,
            max_reconnect_attempts=self.max_reconnect_attempts,
            reconnect_base_delay=self.reconnect_base_delay,
            reconnect_max_delay=self.reconnect_max_delay,
            token=self.token,
            resume=self.resume,
        )

    # --- read-only view ----------------------------------------------------------------------

    @property
    def state(self) -> CallState:
        return self._life.state

    @property
    def signaling_state(self) -> SignalingState:
        """``"open"`` (in the room), ``"lost"`` (the socket dropped; the call is resuming and
        its peer connections carry on), ``"connecting"`` (joining or rejoining) or
        ``"closed"`` (idle)."""
        return self._life.signaling_state

    @property
    def peer_id(self) -> str | None:
        """Our id in the room (assigned by the server with ``joined``; None when not in one)."""
        return self._life.mesh.peer_id

    @property
    def remote_peer_ids(self) -> list[str]:
        """Peers this call has a connection with (including ones still negotiating)."""
        return list(self._life.mesh.sessions)

    @property
    def peer_count(self) -> int:
        return len(self._life.mesh.sessions)

    @property
    def is_data_only(self) -> bool:
        return self._media.local is None

    @property
    def sessions(self) -> Mapping[str, PeerSession]:
        """Remote peer id → :class:`PeerSession` (``.pc`` is its ``RTCPeerConnection``)."""
        return MappingProxyType(self._life.mesh.sessions)

    @property
    def max_buffered_amount(self) -> int:
        """A send that would queue more than this on one channel raises BufferFullError."""
        return self._channels.max_buffered_amount

    @max_buffered_amount.setter
    def max_buffered_amount(self, value: int) -> None:
        self._channels.max_buffered_amount = value

    def events(self) -> EventStream:
        """Every event from now on, as typed objects: ``async for event in call.events()``."""
        return EventStream(self._bus)

    def emit(self, event: CallEvent) -> None:
        """Deliver ``event`` to the callbacks and event streams as if the call raised it."""
        self._bus.emit(event)

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
        :class:`AuthError` (the token was refused: ``.code``, ``.reason``),
        :class:`SignalingConnectionError`, :class:`ConnectionTimeoutError`, or
        :class:`CallEndedError` if ``hangup()`` came first. Calling it while a connect is under
        way waits for that one. Options changed on the call apply from the next ``connect()``.
        """
        await self._life.connect(self._settings())

    async def hangup(self) -> None:
        """Leave the room: close every peer connection and the socket, state ``idle``.
        Safe to call at any time, also while ``connect()`` is pending."""
        await self._life.hangup()

    async def wait_connected(self, peers: int = 1, timeout: float | None = None) -> None:
        """Wait until ``peers`` remote peers are connected (ICE up and every channel of
        ``data_channels`` open). :class:`ConnectionTimeoutError` (a ``TimeoutError``) after
        ``timeout`` s, saying what is missing; :class:`CallEndedError` if the call goes idle
        meanwhile."""
        labels = self._channels.labels
        mesh = self._life.mesh
        try:
            await self._life.wait(lambda: mesh.ready_count(labels) >= peers, timeout)
        except TimeoutError:
            why = why_not_connected(self.room_id, mesh.sessions, labels, peers=peers)
            raise ConnectionTimeoutError(
                f"wait_connected: {mesh.ready_count(labels)} of {peers} peer(s) connected "
                f"after {timeout:g} s: {why}"
            ) from None

    # --- data channels -------------------------------------------------------------------------

    def create_data_channel(self, config: DataChannelConfig | str) -> dict[str, RTCDataChannel]:
        """Open a channel to every current peer (peers that join later do not get it, as in
        Agentuity). Returns peer id → ``aiortc.RTCDataChannel``."""
        return self._channels.create(config)

    def close_data_channel(self, label: str) -> bool:
        """Close ``label`` with every peer; ``True`` if any channel was closed."""
        return self._channels.close(label)

    def get_data_channel_labels(self) -> list[str]:
        """Labels of the channels this call has with any peer, in any state."""
        return self._channels.open_labels()

    def get_data_channel_state(self, peer_id: str, label: str) -> str | None:
        """``"connecting"``, ``"open"``, ``"closing"``, ``"closed"``, or ``None`` if this
        peer has no such channel (a query never raises)."""
        channel = self._channels.get(peer_id, label)
        return None if channel is None else str(channel.readyState)

    def get_data_channel(self, peer_id: str, label: str) -> RTCDataChannel | None:
        return self._channels.get(peer_id, label)

    def send_string(self, label: str, data: str) -> bool:
        """Send text to every peer whose channel ``label`` is open; ``True`` if any got it."""
        return self._channels.send(label, None, as_text(data))

    def send_string_to(self, peer_id: str, label: str, data: str) -> bool:
        return self._channels.send(label, peer_id, as_text(data))

    def send_json(self, label: str, data: Any) -> bool:
        """Send ``data`` as JSON text (no envelope, as the browser client does)."""
        return self._channels.send(label, None, to_json(data))

    def send_json_to(self, peer_id: str, label: str, data: Any) -> bool:
        return self._channels.send(label, peer_id, to_json(data))

    def send_binary(self, label: str, data: bytes | bytearray | memoryview) -> bool:
        return self._channels.send(label, None, as_bytes(data))

    def send_binary_to(
        self, peer_id: str, label: str, data: bytes | bytearray | memoryview
    ) -> bool:
        return self._channels.send(label, peer_id, as_bytes(data))

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
        await self._channels.drain(label, peer_id, low, timeout)

    def buffered_amount(self, label: str, peer_id: str | None = None) -> int:
        """Bytes queued on ``label`` (summed over peers unless ``peer_id`` is given)."""
        return self._channels.buffered_amount(label, peer_id)

    # --- media -----------------------------------------------------------------------------------

    @property
    def local_media(self) -> LocalMedia | None:
        """The local source behind its mute and screen-share switches (None if data only)."""
        return self._media.local

    @property
    def rtt_ping(self) -> bool:
        """Create the ``rtcroom-ping`` data channel (as the offering side) to measure RTT. Set
        it to False before ``connect()`` when browser apps must see no channel they did not
        ask for."""
        return self._media.rtt_ping

    @rtt_ping.setter
    def rtt_ping(self, value: bool) -> None:
        self._media.rtt_ping = value

    def mute_audio(self, muted: bool) -> None:
        """Send silence instead of the microphone (True) or the microphone again (False)."""
        self._media.mute_audio(muted)

    def mute_video(self, muted: bool) -> None:
        """Send black frames instead of the camera or screen (True), or the picture again."""
        self._media.mute_video(muted)

    @property
    def is_audio_muted(self) -> bool:
        return self._media.is_audio_muted

    @property
    def is_video_muted(self) -> bool:
        return self._media.is_video_muted

    @property
    def is_screen_sharing(self) -> bool:
        return self._media.is_screen_sharing

    async def start_screen_share(self, source: TrackSource | None = None) -> None:
        """Send the screen (default: :class:`~rtcroom.media.DisplayMediaSource`) in place of the
        camera to every peer; peers that had no video from us are renegotiated. No-op in a
        data-only call or while already sharing."""
        await self._media.start_screen_share(source)

    async def stop_screen_share(self) -> None:
        """Back to the camera (or no video if the call had none)."""
        await self._media.stop_screen_share()

    def remote_video(
        self, peer_id: str, *, format: str = "rgb24", max_queued: int = 2
    ) -> FrameStream[RemoteVideoFrame]:
        """``async for frame in call.remote_video(peer_id)``: that peer's video as numpy via
        ``frame.to_ndarray()`` ((height, width, 3) uint8 RGB by default). Waits for the track if
        it has not arrived yet; a slow reader skips frames instead of queueing them."""
        return self._media.remote_frames(peer_id, "video", lambda: video_stream(format, max_queued))

    def remote_audio(
        self,
        peer_id: str,
        *,
        format: str = "s16",
        sample_rate: int | None = None,
        channels: int | None = None,
        max_queued: int = 50,
    ) -> FrameStream[RemoteAudioFrame]:
        """That peer's audio; ``to_ndarray()`` is (samples, channels), int16 (``s16``) or
        float32 (``flt``), resampled to ``sample_rate`` and mixed to ``channels`` if given."""
        return self._media.remote_frames(
            peer_id, "audio", lambda: audio_stream(format, sample_rate, channels, max_queued)
        )

    def remote_track(self, peer_id: str, kind: str = "video") -> MediaStreamTrack | None:
        """A copy of that peer's ``kind`` track as an aiortc track (to forward to another peer or
        a sink), with its own bounded queue; None until the track has arrived. Read remote media
        through this or ``remote_video``/``remote_audio``, not ``TrackAddedEvent.track``: the
        call drains that one itself."""
        return self._media.remote_track(peer_id, kind)

    @property
    def recordings(self) -> Recordings:
        return self._media.recordings

    def start_recording(
        self, stream_id: str, options: RecordingOptions | None = None, **option_fields: Any
    ) -> RecordingHandle | None:
        """Record ``"local"`` (what we send) or a peer id's stream to a file. Options as
        :class:`~rtcroom.media.RecordingOptions` or keywords (``mime_type``,
        ``audio_bits_per_second``, ``video_bits_per_second``, ``path``). None if there is no
        such stream."""
        return self._media.start_recording(stream_id, options, **option_fields)

    def is_recording(self, stream_id: str) -> bool:
        """True while that stream is being recorded (a paused recording gives False)."""
        return self._media.recordings.is_recording(stream_id)

    async def stop_all_recordings(self) -> dict[str, Path]:
        """Stop every recording; stream id -> recorded file."""
        return await self._media.recordings.stop_all()

    async def get_quality_summary(self, peer_id: str) -> ConnectionQualitySummary | None:
        """Agentuity's summary for one peer (None for an unknown peer). Bitrates cover the time
        since the previous summary of that peer, so the first has none."""
        return await self._media.get_quality_summary(peer_id)

    async def get_all_quality_summaries(self) -> dict[str, ConnectionQualitySummary]:
        return await self._media.get_all_quality_summaries()

    async def get_raw_stats(self, peer_id: str) -> dict[str, Any] | None:
        """aiortc's stats report for one peer (does not move the bitrate baseline)."""
        return await self._media.get_raw_stats(peer_id)

    async def get_all_raw_stats(self) -> dict[str, dict[str, Any]]:
        return await self._media.get_all_raw_stats()
