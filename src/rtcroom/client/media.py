"""The media side of a call: mute, screen share, remote frames, recording and quality.

:class:`CallMedia` is owned by :class:`~rtcroom.client.WebRTCCall`, whose media methods (with
Agentuity's names) delegate to it. It sees the call's peer sessions (read only) and keeps, per
remote peer: one :class:`~rtcroom.media.TrackTap` per remote track (which
also drains tracks nobody reads), the readers asked for with ``remote_video``/``remote_audio``,
a :class:`~rtcroom.media.RttProbe` on the ``rtcroom-ping`` channel, and a
:class:`~rtcroom.media.QualityMonitor`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiortc import MediaStreamTrack

from ..media import (
    ConnectionQualitySummary,
    FrameStream,
    LocalMedia,
    QualityMonitor,
    RecordingHandle,
    RecordingOptions,
    Recordings,
    RttProbe,
    TrackSource,
    TrackTap,
    UserMediaSource,
    create_ping_channel,
)
from ..media.local import stop_sender_tracks
from .errors import UnknownPeerError
from .events import CallEvent, ScreenShareStartEvent, ScreenShareStopEvent
from .session import PeerSession

_Stream = TypeVar("_Stream", bound=FrameStream[Any])


@dataclass
class _PeerMedia:
    session: PeerSession
    probe: RttProbe
    monitor: QualityMonitor
    taps: dict[str, TrackTap] = field(default_factory=dict)
    waiting: dict[str, list[Any]] = field(default_factory=dict)  # readers before the track

    def add_track(self, track: MediaStreamTrack) -> None:
        tap = TrackTap(track)
        self.taps[track.kind] = tap
        for stream in self.waiting.pop(track.kind, []):
            tap.attach(stream)
        self.monitor.watch_receivers()

    async def close(self) -> None:
        await self.probe.close()
        for tap in self.taps.values():
            await tap.stop()
        for streams in self.waiting.values():
            for stream in streams:
                stream._end()
        self.waiting.clear()


def local_media_from_option(media: Any) -> LocalMedia | None:
    """``media=`` as Agentuity takes it: False (data only), True or constraints for the camera
    and microphone, or a track source. Every source is wrapped for mute and screen share."""
    if media is False or media is None:
        return None
    if isinstance(media, LocalMedia):
        return media
    if media is True:
        return LocalMedia(UserMediaSource())
    if isinstance(media, dict):
        unknown = set(media) - {"video", "audio"}
        if unknown:
            raise ValueError(
                f"media constraints take 'video' and 'audio', not {sorted(unknown)}; e.g. "
                "media={'video': {'width': 640, 'height': 480}, 'audio': True}"
            )
        return LocalMedia(UserMediaSource(media.get("video", True), media.get("audio", True)))
    if isinstance(media, TrackSource) or (
        callable(getattr(media, "get_tracks", None)) and callable(getattr(media, "stop", None))
    ):
        return LocalMedia(media)
    raise TypeError(
        "media must be False (a data-only call), True or {'video': ..., 'audio': ...} for the "
        "camera and microphone, or a track source such as rtcroom.media.TestPatternSource(); "
        f"got {media!r}"
    )


class CallMedia:
    """Mute, screen share, frames, recording and quality of one call."""

    def __init__(
        self,
        local: LocalMedia | None,
        sessions: Mapping[str, PeerSession],
        emit: Callable[[CallEvent], None],
    ) -> None:
        self.local = local
        """The local source behind its mute and screen-share switches (None if data only)."""
        self.rtt_ping = True
        self.recordings = Recordings()
        self._sessions = sessions
        self._emit = emit
        self._by_peer: dict[str, _PeerMedia] = {}
        self._background: set[asyncio.Task[Any]] = set()
        if local is not None and local.on_screen_ended is None:
            # Like Agentuity's screenTrack.onended: a share whose source ends stops itself.
            local.on_screen_ended = lambda: self._spawn(self.stop_screen_share())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- called by the peer mesh for each new session -----------------------------------------

    def session_created(self, session: PeerSession, offerer: bool) -> None:
        probe = RttProbe()
        peer = _PeerMedia(session, probe, QualityMonitor(session.pc, rtt_probe=probe))
        peer.monitor.video_tap = lambda: peer.taps.get("video")
        old = self._by_peer.get(session.remote_id)
        if old is not None:
            self._spawn(old.close())
        self._by_peer[session.remote_id] = peer
        if offerer and self.rtt_ping:
            probe.attach(create_ping_channel(session.pc))
        probe.watch(session.pc)
        session.pc.on("track", peer.add_track)

        @session.pc.on("connectionstatechange")
        async def on_state() -> None:
            if session.pc.connectionState == "closed":
                stop_sender_tracks(session.pc)
                if self._by_peer.get(session.remote_id) is peer:
                    del self._by_peer[session.remote_id]
                await peer.close()

    def _peer_media(self, peer_id: str) -> _PeerMedia | None:
        peer = self._by_peer.get(peer_id)
        session = self._sessions.get(peer_id)
        if peer is None or session is None or peer.session is not session:
            return None
        return peer

    def _require_peer(self, peer_id: str) -> _PeerMedia:
        peer = self._peer_media(peer_id)
        if peer is None:
            raise UnknownPeerError(
                f"no peer {peer_id!r} in this call; remote peers: {sorted(self._sessions)}"
            )
        return peer

    # --- mute ---------------------------------------------------------------------------------

    def mute_audio(self, muted: bool) -> None:
        if self.local is not None:
            self.local.mute_audio(muted)

    def mute_video(self, muted: bool) -> None:
        if self.local is not None:
            self.local.mute_video(muted)

    @property
    def is_audio_muted(self) -> bool:
        return self.local is not None and self.local.is_audio_muted

    @property
    def is_video_muted(self) -> bool:
        return self.local is not None and self.local.is_video_muted

    # --- screen share -------------------------------------------------------------------------

    @property
    def is_screen_sharing(self) -> bool:
        return self.local is not None and self.local.is_screen_sharing

    async def start_screen_share(self, source: TrackSource | None = None) -> None:
        local = self.local
        if local is None or local.is_screen_sharing:
            return
        sessions = list(self._sessions.values())
        renegotiate = await local.start_screen_share([s.pc for s in sessions], source)
        self._emit(ScreenShareStartEvent())
        await self._renegotiate([s for s in sessions if s.pc in renegotiate])

    async def stop_screen_share(self) -> None:
        local = self.local
        if local is not None and local.is_screen_sharing:
            await local.stop_screen_share([s.pc for s in self._sessions.values()])
            self._emit(ScreenShareStopEvent())

    @staticmethod
    async def _renegotiate(sessions: list[PeerSession]) -> None:
        results = await asyncio.gather(*(s.renegotiate() for s in sessions), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    # --- frames -------------------------------------------------------------------------------

    def remote_frames(self, peer_id: str, kind: str, make: Callable[[], _Stream]) -> _Stream:
        """A new reader (``make()``) of that peer's ``kind`` track, fed once the track is here."""
        peer = self._require_peer(peer_id)
        stream = make()
        self._attach(peer, kind, stream)
        return stream

    def remote_track(self, peer_id: str, kind: str = "video") -> MediaStreamTrack | None:
        tap = self._require_peer(peer_id).taps.get(kind)
        return None if tap is None or tap.ended else tap.copy_track()

    @staticmethod
    def _attach(peer: _PeerMedia, kind: str, stream: Any) -> None:
        tap = peer.taps.get(kind)
        if tap is not None and not tap.ended:
            tap.attach(stream)
            return
        waiting = peer.waiting.setdefault(kind, [])
        waiting.append(stream)
        stream._on_close = lambda s: waiting.remove(s) if s in waiting else None

    # --- recording ----------------------------------------------------------------------------

    def start_recording(
        self,
        stream_id: str,
        options: RecordingOptions | None = None,
        **option_fields: Any,
    ) -> RecordingHandle | None:
        if options is None:
            options = RecordingOptions(**option_fields)
        elif option_fields:
            raise TypeError("pass either options=RecordingOptions(...) or keywords, not both")
        if stream_id == "local":
            local = self.local
            tracks = [t for t in (local.audio_track, local.outgoing_video) if t] if local else []
            if not tracks:
                return None
            assert local is not None
            taps = [TrackTap(local.subscribe(t)) for t in tracks]
            handle = self.recordings.start("local", taps, options, close_taps=True)
            if handle is None:
                for tap in taps:
                    self._spawn(tap.stop())
                    tap.track.stop()
            return handle
        peer = self._peer_media(stream_id)
        if peer is None:
            return None
        return self.recordings.start(stream_id, list(peer.taps.values()), options)

    # --- quality ------------------------------------------------------------------------------

    async def get_quality_summary(self, peer_id: str) -> ConnectionQualitySummary | None:
        peer = self._peer_media(peer_id)
        return None if peer is None else await peer.monitor.summary()

    async def get_all_quality_summaries(self) -> dict[str, ConnectionQualitySummary]:
        out = {}
        for peer_id in list(self._sessions):
            summary = await self.get_quality_summary(peer_id)
            if summary is not None:
                out[peer_id] = summary
        return out

    async def get_raw_stats(self, peer_id: str) -> dict[str, Any] | None:
        peer = self._peer_media(peer_id)
        return None if peer is None else await peer.monitor.get_raw_stats()

    async def get_all_raw_stats(self) -> dict[str, dict[str, Any]]:
        out = {}
        for peer_id in list(self._sessions):
            with contextlib.suppress(Exception):
                stats = await self.get_raw_stats(peer_id)
                if stats is not None:
                    out[peer_id] = stats
        return out
