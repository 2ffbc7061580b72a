"""Mute that the remote side sees: black frames and silence, never a frozen picture.

A browser's ``track.enabled = false`` keeps the track flowing with black video / silent audio.
:class:`MutableTrack` does the same for aiortc: it keeps reading its source (so timestamps and
pacing stay right and the source does not back up) and, while muted, swaps each frame's content.
"""

from __future__ import annotations

import numpy as np
from aiortc import MediaStreamTrack
from av import AudioFrame, VideoFrame
from av.frame import Frame

_black_cache: dict[tuple[int, int], np.ndarray] = {}


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
        self, source: MediaStreamTrack, *, muted: bool = False, start_at: float | None = None
    ) -> None:
        """``start_at`` (seconds) shifts timestamps so the first frame has that time: used when
        this track replaces another on a sender, so RTP timestamps keep running forward."""
        super().__init__()
        self.start_at = start_at
        self.last_time: float | None = None
        self._pts_shift: int | None = None
        if source.kind not in ("audio", "video"):
            raise ValueError(f"can only mute audio or video tracks, got kind {source.kind!r}")
        self.kind = source.kind
        self.source = source
        self.muted = muted
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
        if self.start_at is not None and frame.pts is not None and frame.time_base:
            if self._pts_shift is None:
                self._pts_shift = round(self.start_at / frame.time_base) - frame.pts
            frame.pts += self._pts_shift
        if frame.time is not None:
            self.last_time = float(frame.time)
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
