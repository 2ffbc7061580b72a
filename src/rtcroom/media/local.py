"""The local side of a call's media: one source, mute switches, and screen share.

:class:`LocalMedia` wraps any track source. It is itself a track source, so a call takes it as
``media=``; every peer connection then sends the same two switchable tracks (through a
:class:`~aiortc.contrib.media.MediaRelay`). Screen share follows Agentuity: the outgoing video is
replaced on every connection's video sender (no renegotiation); a connection that had no video
sender gets a new one, and the caller must renegotiate it (the returned list).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame
from av.frame import Frame

from .clock import VIDEO_CLOCK_RATE, VIDEO_TIME_BASE
from .errors import ScreenShareError
from .mute import MutableTrack
from .sources import DisplayMediaSource, TrackSource


class SenderTrack(MediaStreamTrack):
    """What one sender reads: a relay subscription that can hand over to another track.

    aiortc's sender is usually waiting inside ``recv()`` of its current track when
    ``replaceTrack`` happens. Stopping that track would leave the sender waiting forever, and
    leaving it registered with the relay keeps a subscription nobody reads. ``retire(next)``
    ends the wait with a frame from the next track and then unsubscribes.
    """

    def __init__(self, subscription: MediaStreamTrack) -> None:
        super().__init__()
        self.kind = subscription.kind
        self.subscription = subscription
        self._retired = asyncio.Event()
        self._next: MediaStreamTrack | None = None
        self._last: Frame | None = None
        self._last_time = -1.0

    def _forward(self, frame: Frame) -> Frame:
        """Keep video timestamps strictly increasing across a hand-over (VP8 rejects a frame
        that is not newer than the previous one). Rare, so copying the frame is fine; the
        original may be shared with other senders and is not touched."""
        if isinstance(frame, VideoFrame) and frame.time is not None:
            if frame.time <= self._last_time:
                copy = VideoFrame.from_ndarray(frame.to_ndarray(format="yuv420p"), format="yuv420p")
                copy.pts = round(self._last_time * VIDEO_CLOCK_RATE) + 1
                copy.time_base = VIDEO_TIME_BASE
                frame = copy
            self._last_time = float(frame.time)
        return frame

    async def recv(self) -> Frame:
        if self._retired.is_set():
            return await self._handover()
        get = asyncio.ensure_future(self.subscription.recv())
        retired = asyncio.ensure_future(self._retired.wait())
        try:
            await asyncio.wait({get, retired}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            get.cancel()  # the sender is going away: leave no read behind
            raise
        finally:
            retired.cancel()
        if get.done():
            frame: Frame = get.result()  # type: ignore[assignment]
            if self._retired.is_set():
                self.subscription.stop()
            self._last = frame
            frame = self._forward(frame)
            if self._retired.is_set():
                self._pass_clock()
            return frame
        get.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await get
        return await self._handover()

    async def _handover(self) -> Frame:
        self.subscription.stop()
        if (self._next is None or self._next.readyState != "live") and self._last is not None:
            # Replaced by nothing: send the last frame once more; the sender then sees no track
            # and idles, ready for a later replaceTrack (an error here would end its loop).
            return self._forward(self._last)
        if self._next is None:
            raise MediaStreamError("retired before its first frame, with nothing to hand over to")
        self._pass_clock()
        frame: Frame = await self._next.recv()  # type: ignore[assignment]
        return frame if isinstance(self._next, SenderTrack) else self._forward(frame)

    def _pass_clock(self) -> None:
        """The next track must not send anything older than what this one sent last."""
        if isinstance(self._next, SenderTrack):
            self._next._last_time = max(self._next._last_time, self._last_time)

    def retire(self, next_track: MediaStreamTrack | None) -> None:
        """The sender has switched to ``next_track``: finish the pending read and unsubscribe."""
        self._next = next_track
        self._pass_clock()
        self._retired.set()

    def stop(self) -> None:
        super().stop()
        self.subscription.stop()


def stop_sender_tracks(pc: RTCPeerConnection) -> None:
    """Unsubscribe the :class:`SenderTrack` s of a closed connection.

    aiortc does not stop a sender's track when the connection closes; a relay subscription left
    registered would queue frames for a sender that is gone (memory that grows per departed
    peer). Tracks that are not SenderTracks are left alone: they belong to the application.
    """
    for transceiver in pc.getTransceivers():
        track = transceiver.sender.track
        if isinstance(track, SenderTrack):
            track.stop()


def video_sender(pc: RTCPeerConnection) -> RTCRtpSender | None:
    """The sender that currently sends video on ``pc``, if any."""
    for transceiver in pc.getTransceivers():
        sender = transceiver.sender
        if (
            transceiver.kind == "video"
            and sender.track is not None
            and "send" in (transceiver.direction or "")
        ):
            return sender
    return None


def replace_video_track(pc: RTCPeerConnection, track: MediaStreamTrack | None) -> bool:
    """Send ``track`` as ``pc``'s video. Returns True when ``pc`` must be renegotiated.

    An existing video sender switches track in place (``replaceTrack``). Otherwise the track is
    added (reusing a receive-only video transceiver if there is one), which needs a new offer.
    A :class:`SenderTrack` that is switched out is retired (see there).
    """
    sender = video_sender(pc)
    if sender is not None:
        old = sender.track
        sender.replaceTrack(track)
        if isinstance(old, SenderTrack) and old is not track:
            old.retire(track)
        return False
    if track is None:
        return False
    pc.addTrack(track)
    return True


class LocalMedia:
    """A track source with Agentuity's mute and screen-share controls (see module docstring)."""

    def __init__(self, source: TrackSource | None, relay: MediaRelay | None = None) -> None:
        self.source = source
        self.relay = relay or MediaRelay()
        self._audio: MutableTrack | None = None
        self._video: MutableTrack | None = None
        self._screen: MutableTrack | None = None
        self._screen_source: TrackSource | None = None
        self._audio_muted = False
        self._video_muted = False
        self._opened = False
        self.on_screen_ended: Callable[[], None] | None = None
        """Called when the screen track ends by itself (display gone): stop the share then."""

    @property
    def type(self) -> str:
        return str(getattr(self.source, "type", "custom")) if self.source is not None else "none"

    async def get_tracks(self) -> list[MediaStreamTrack]:
        """The source's tracks behind mute switches (opened once, reused across reconnects)."""
        if not self._opened and self.source is not None:
            for track in await self.source.get_tracks():
                if track.kind == "audio" and self._audio is None:
                    self._audio = MutableTrack(track, muted=self._audio_muted)
                elif track.kind == "video" and self._video is None:
                    self._video = MutableTrack(track, muted=self._video_muted, wall_clock=True)
            self._opened = True
        return [t for t in (self._audio, self.outgoing_video) if t is not None]

    def subscribe(self, track: MediaStreamTrack) -> SenderTrack:
        """A per-connection copy of a local track: give each connection's sender its own."""
        # Video is unbuffered: a sender that falls behind skips to the newest frame instead of
        # queueing (memory and latency). Audio is buffered: every 20 ms frame matters.
        if track is self._video and self._screen is not None:
            track = self._screen  # a peer that joins during a share gets the screen
        return SenderTrack(self.relay.subscribe(track, buffered=track.kind != "video"))

    @property
    def audio_track(self) -> MutableTrack | None:
        return self._audio

    @property
    def outgoing_video(self) -> MutableTrack | None:
        """What peers see now: the screen while sharing, else the camera."""
        return self._screen or self._video

    # -- mute -----------------------------------------------------------------------------

    def mute_audio(self, muted: bool) -> None:
        """Send silence instead of the microphone (or send it again)."""
        self._audio_muted = bool(muted)
        if self._audio is not None:
            self._audio.muted = self._audio_muted

    def mute_video(self, muted: bool) -> None:
        """Send black frames instead of the camera or screen (or send them again)."""
        self._video_muted = bool(muted)
        for track in (self._video, self._screen):
            if track is not None:
                track.muted = self._video_muted

    @property
    def is_audio_muted(self) -> bool:
        return self._audio_muted

    @property
    def is_video_muted(self) -> bool:
        return self._video_muted

    # -- screen share ---------------------------------------------------------------------

    @property
    def is_screen_sharing(self) -> bool:
        return self._screen is not None

    async def start_screen_share(
        self, peer_connections: Iterable[RTCPeerConnection], source: TrackSource | None = None
    ) -> list[RTCPeerConnection]:
        """Send the screen instead of the camera; returns the connections to renegotiate.

        ``source`` defaults to :class:`DisplayMediaSource` (x11grab of ``$DISPLAY`` on Linux).
        Does nothing if already sharing.
        """
        if self._screen is not None:
            return []
        screen_source = source or DisplayMediaSource()
        tracks = await screen_source.get_tracks()
        video = next((t for t in tracks if t.kind == "video"), None)
        if video is None:
            screen_source.stop()
            raise ScreenShareError("Failed to get screen video track")
        for track in tracks:  # display audio is not sent (as in Agentuity)
            if track is not video:
                track.stop()
        screen = MutableTrack(video, muted=self._video_muted, wall_clock=True)
        self._screen = screen
        self._screen_source = screen_source

        def ended() -> None:
            if self._screen is screen and self.on_screen_ended is not None:
                self.on_screen_ended()

        screen.on("ended", ended)
        return self._send_video(peer_connections)

    async def stop_screen_share(self, peer_connections: Iterable[RTCPeerConnection]) -> None:
        """Go back to the camera (or stop sending video if there was none)."""
        if self._screen is None:
            return
        screen, self._screen = self._screen, None
        self._send_video(peer_connections)
        screen.stop()
        if self._screen_source is not None:
            self._screen_source.stop()
            self._screen_source = None

    def _send_video(self, peer_connections: Iterable[RTCPeerConnection]) -> list[RTCPeerConnection]:
        renegotiate = []
        current = self.outgoing_video
        for pc in peer_connections:
            if pc.connectionState == "closed":
                continue
            track = self.subscribe(current) if current is not None else None
            if replace_video_track(pc, track):
                renegotiate.append(pc)
        return renegotiate

    def stop(self) -> None:
        """Stop the screen share and the source (Agentuity calls this on hangup)."""
        if self._screen is not None:
            self._screen.stop()
            self._screen = None
        if self._screen_source is not None:
            self._screen_source.stop()
            self._screen_source = None
        for track in (self._audio, self._video):
            if track is not None:
                track.stop()
        if self.source is not None:
            self.source.stop()
        self._audio = self._video = None
        self._opened = False
