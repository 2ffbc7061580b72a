"""Mute that the remote side sees: black frames and silence, never a frozen picture.

A browser's ``track.enabled = false`` keeps the track flowing with black video / silent audio.
:class:`MutableTrack` does the same for aiortc: it keeps reading its source (so timestamps and
pacing stay right and the source does not back up) and, while muted, swaps each frame's content.
"""

from __future__ import annotations

import time

import numpy as np
from aiortc import MediaStreamTrack
from av import AudioFrame, VideoFrame
from av.frame import Frame

from .clock import VIDEO_CLOCK_RATE, VIDEO_TIME_BASE

_black_cache: dict[tuple[int, int], np.ndarray] = {}
_EPOCH = time.monotonic()


def wall_clock_pts() -> int:
    """Now, in 90 kHz video clock units since this module was loaded."""
    return round((time.monotonic() - _EPOCH) * VIDEO_CLOCK_RATE)


def black_video_frame(like: VideoFrame) -> VideoFrame:
    """A black yuv420p frame with the size and timestamp of ``like``."""
    key = (like.width, like.height)
    planes = _black_cache.get(key)
    if planes is None:
        w, h = key
        planes = np.full((h + (h + 1) // 2, w), 128, np.uint8)  # chroma: neutral grey
        planes[:h] = 16  # luma: limited-range black
        _black_cache.clear()
        _black_cache[key] = planes
    frame = VideoFrame.from_ndarray(planes, format="yuv420p")
    frame.pts, frame.time_base = like.pts, like.time_base
    return frame


def silent_audio_frame(like: AudioFrame) -> AudioFrame:
    """Silence in the format, layout, length and timestamp of ``like``."""
    frame = AudioFrame(format=like.format.name, layout=like.layout.name, samples=like.samples)
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    frame.sample_rate = like.sample_rate
    frame.pts, frame.time_base = like.pts, like.time_base
    return frame


class MutableTrack(MediaStreamTrack):
    """Wraps a local track; while muted its output is black frames or silence.

    ``enabled`` is the W3C name (``enabled = False`` is muted). Stopping it stops the source.
    """

    def __init__(
        self, source: MediaStreamTrack, *, muted: bool = False, wall_clock: bool = False
    ) -> None:
        """``wall_clock``: restamp video with one process-wide clock (see :func:`wall_clock_pts`),
        so a sender that switches between two such tracks (camera, screen) keeps its
        timestamps moving forward; VP8 refuses a frame older than the one before."""
        super().__init__()
        if source.kind not in ("audio", "video"):
            raise ValueError(f"can only mute audio or video tracks, got kind {source.kind!r}")
        self.kind = source.kind
        self.source = source
        self.muted = muted
        self.wall_clock = wall_clock and source.kind == "video"
        self._last_pts = -1
        source.on("ended", self.stop)

    @property
    def enabled(self) -> bool:
        return not self.muted

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self.muted = not value

    async def recv(self) -> Frame:
        frame = await self.source.recv()
        if not isinstance(frame, Frame):
            return frame  # type: ignore[return-value]  # encoded packets pass through as is
        if self.wall_clock:
            # This track is its source's only reader, so restamping the frame is safe.
            self._last_pts = max(wall_clock_pts(), self._last_pts + 1)
            frame.pts, frame.time_base = self._last_pts, VIDEO_TIME_BASE
        if not self.muted:
            return frame
        if isinstance(frame, VideoFrame):
            return black_video_frame(frame)
        if isinstance(frame, AudioFrame):
            return silent_audio_frame(frame)
        return frame  # encoded packets (MediaPlayer(decode=False)) cannot be blanked

    def stop(self) -> None:
        if self.readyState == "live":
            super().stop()
            self.source.stop()
