"""Tracks fed by the program: push numpy video frames or audio samples, sent in real time.

Both tracks keep a bounded queue. ``push()`` waits while it is full (back-pressure: a producer
faster than real time is slowed to it instead of growing memory), and ``clear()`` throws away
what is queued — what a voice agent does when the user interrupts it.
"""

from __future__ import annotations

import asyncio
import collections
import fractions
import time

import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

from .clock import VIDEO_CLOCK_RATE, VIDEO_TIME_BASE, Pacer
from .patterns import AUDIO_FRAME_SECONDS

VIDEO_INPUT_FORMATS = ("rgb24", "bgr24", "rgba", "bgra", "gray", "yuv420p")

_pending_wakeups: set[asyncio.Task[None]] = set()


def _wake(condition: asyncio.Condition) -> None:
    """Wake every waiter of ``condition`` from synchronous code (clear(), stop())."""

    async def notify() -> None:
        async with condition:
            condition.notify_all()

    try:
        task = asyncio.get_running_loop().create_task(notify())
    except RuntimeError:
        return  # no loop running: nobody can be waiting
    _pending_wakeups.add(task)
    task.add_done_callback(_pending_wakeups.discard)


class PushVideoTrack(MediaStreamTrack):
    """A video track that sends the frames the program pushes, at most ``fps`` a second.

    Frames are numpy arrays in ``format`` (``rgb24``: shape (height, width, 3), uint8) or
    ready-made :class:`av.VideoFrame` objects. When nothing is queued the track waits (the
    receiver keeps showing the last frame); timestamps follow the wall clock.
    """

    kind = "video"

    def __init__(self, fps: float = 30.0, format: str = "rgb24", max_queued: int = 8) -> None:
        super().__init__()
        if format not in VIDEO_INPUT_FORMATS:
            raise ValueError(f"format must be one of {VIDEO_INPUT_FORMATS}, got {format!r}")
        if max_queued < 1:
            raise ValueError(f"max_queued must be at least 1, got {max_queued}")
        self.fps, self.format, self.max_queued = fps, format, max_queued
        self._queue: collections.deque[VideoFrame] = collections.deque()
        self._changed = asyncio.Condition()
        self._start: float | None = None
        self._next_due = 0.0
        self._last_pts = -1

    @property
    def queued(self) -> int:
        return len(self._queue)

    def _to_frame(self, image: np.ndarray | VideoFrame) -> VideoFrame:
        if isinstance(image, VideoFrame):
            return image
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
            raise TypeError(
                f"push() takes a uint8 numpy array in {self.format!r} layout or an av.VideoFrame, "
                f"got {type(image).__name__}"
                + (f" of dtype {image.dtype}" if isinstance(image, np.ndarray) else "")
            )
        try:
            return VideoFrame.from_ndarray(image, format=self.format)
        except ValueError as exc:
            raise ValueError(
                f"frame of shape {image.shape} does not fit format {self.format!r} "
                "(rgb24/bgr24: (height, width, 3); rgba/bgra: (height, width, 4); gray: "
                f"(height, width); yuv420p: (height * 3 // 2, width)): {exc}"
            ) from None

    async def push(self, image: np.ndarray | VideoFrame) -> None:
        """Queue one frame, waiting while ``max_queued`` frames are already waiting."""
        frame = self._to_frame(image)
        async with self._changed:
            await self._changed.wait_for(
                lambda: len(self._queue) < self.max_queued or self.readyState != "live"
            )
            if self.readyState != "live":
                raise MediaStreamError("push() on a stopped track")
            self._queue.append(frame)
            self._changed.notify_all()

    def clear(self) -> int:
        """Drop every queued frame; returns how many were dropped."""
        dropped = len(self._queue)
        self._queue.clear()
        _wake(self._changed)
        return dropped

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._queue) or self.readyState != "live")
            if self.readyState != "live":
                raise MediaStreamError
            frame = self._queue.popleft()
            self._changed.notify_all()
        # At most ``fps`` frames a second; timestamps are the wall-clock time of sending, so a
        # producer slower than ``fps`` still plays at the right speed.
        now = time.monotonic()
        if self._start is None:
            self._start = now
        elif self._next_due > now:
            await asyncio.sleep(self._next_due - now)
            now = time.monotonic()
        self._next_due = max(now, self._next_due) + 1.0 / self.fps
        self._last_pts = max(self._last_pts + 1, round((now - self._start) * VIDEO_CLOCK_RATE))
        frame.pts, frame.time_base = self._last_pts, VIDEO_TIME_BASE
        return frame

    def stop(self) -> None:
        super().stop()
        self._queue.clear()
        _wake(self._changed)


class PushAudioTrack(MediaStreamTrack):
    """An audio track that plays the samples the program pushes, and silence in between.

    Samples are numpy arrays: int16, or float in [-1, 1], shaped (samples,) for mono or
    (samples, channels). They are sent as 20 ms frames at ``sample_rate``. At most
    ``max_buffered_seconds`` of audio wait in the queue; ``push()`` blocks beyond that.
    """

    kind = "audio"

    def __init__(
        self, sample_rate: int = 48_000, channels: int = 1, max_buffered_seconds: float = 2.0
    ) -> None:
        super().__init__()
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {channels}")
        if sample_rate % 50:
            raise ValueError(f"sample_rate must be a multiple of 50 Hz, got {sample_rate}")
        if max_buffered_seconds <= 0:
            raise ValueError("max_buffered_seconds must be positive")
        self.sample_rate, self.channels = sample_rate, channels
        self.max_buffered_samples = int(max_buffered_seconds * sample_rate)
        self._frame_samples = int(sample_rate * AUDIO_FRAME_SECONDS)
        self._chunks: collections.deque[np.ndarray] = collections.deque()
        self._buffered = 0
        self._changed = asyncio.Condition()
        self._pacer = Pacer(AUDIO_FRAME_SECONDS, sample_rate)

    @property
    def buffered_seconds(self) -> float:
        return self._buffered / self.sample_rate

    def _to_pcm(self, samples: np.ndarray) -> np.ndarray:
        if not isinstance(samples, np.ndarray):
            raise TypeError(f"push() takes a numpy array, got {type(samples).__name__}")
        if samples.ndim == 1:
            samples = samples.reshape(-1, 1)
        if samples.ndim != 2 or samples.shape[1] not in (1, self.channels):
            raise ValueError(
                f"audio of shape {samples.shape} does not fit {self.channels} channel(s); "
                "pass (samples,) or (samples, channels)"
            )
        if samples.shape[1] != self.channels:
            samples = np.repeat(samples, self.channels, axis=1)
        if samples.dtype == np.int16:
            pcm: np.ndarray = np.ascontiguousarray(samples)
            return pcm
        if np.issubdtype(samples.dtype, np.floating):
            scaled: np.ndarray = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
            return scaled
        raise TypeError(f"audio samples must be int16 or float in [-1, 1], got {samples.dtype}")

    async def push(self, samples: np.ndarray) -> None:
        """Queue samples, waiting while more than ``max_buffered_seconds`` are queued."""
        pcm = self._to_pcm(samples)
        if not len(pcm):
            return
        async with self._changed:
            await self._changed.wait_for(
                lambda: (
                    self._buffered == 0
                    or self._buffered + len(pcm) <= self.max_buffered_samples
                    or self.readyState != "live"
                )
            )
            if self.readyState != "live":
                raise MediaStreamError("push() on a stopped track")
            self._chunks.append(pcm)
            self._buffered += len(pcm)

    async def drain(self) -> None:
        """Wait until everything pushed so far has been sent."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._buffered == 0 or self.readyState != "live")

    def clear(self) -> float:
        """Drop queued audio (e.g. on barge-in); returns how many seconds were dropped."""
        dropped = self._buffered / self.sample_rate
        self._chunks.clear()
        self._buffered = 0
        _wake(self._changed)
        return dropped

    def _take(self, count: int) -> np.ndarray:
        out = np.zeros((count, self.channels), np.int16)
        filled = 0
        while filled < count and self._chunks:
            chunk = self._chunks[0]
            n = min(count - filled, len(chunk))
            out[filled : filled + n] = chunk[:n]
            filled += n
            if n == len(chunk):
                self._chunks.popleft()
            else:
                self._chunks[0] = chunk[n:]
        self._buffered -= filled
        return out

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self._pacer.next_pts()
        async with self._changed:
            pcm = self._take(self._frame_samples)
            self._changed.notify_all()
        frame = AudioFrame.from_ndarray(
            pcm.reshape(1, -1), format="s16", layout="mono" if self.channels == 1 else "stereo"
        )
        frame.sample_rate = self.sample_rate
        frame.pts = pts
        frame.time_base = fractions.Fraction(1, self.sample_rate)
        return frame

    def stop(self) -> None:
        super().stop()
        self._chunks.clear()
        self._buffered = 0
        _wake(self._changed)
