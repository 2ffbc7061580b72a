"""Frames for programs: read remote (or local) tracks as numpy, without ever falling behind.

aiortc queues every decoded frame of a remote track until someone calls ``recv()``; a track
nobody reads grows memory without bound, and a slow reader sees ever older frames.
:class:`TrackTap` fixes both: one task drains the track for as long as it lives, and hands each
frame to any number of :class:`FrameStream` readers, each a small queue that drops its oldest
frame when full. A slow reader therefore gets recent frames and costs fixed memory.

Layouts of ``to_ndarray()``:

- video: ``(height, width, 3)`` uint8 RGB for the default ``format="rgb24"`` (``bgr24`` the same
  in BGR order, ``gray`` is ``(height, width)``, ``yuv420p`` is ``(height * 3 // 2, width)``);
- audio: ``(samples, channels)``, int16 for the default ``format="s16"`` or float32 in [-1, 1]
  for ``format="flt"``; interleaved channel order.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

logger = logging.getLogger(__name__)

VIDEO_FORMATS = ("rgb24", "bgr24", "gray", "yuv420p")
AUDIO_FORMATS = {"s16": np.int16, "flt": np.float32}


class RemoteVideoFrame:
    """A received video frame; ``to_ndarray()`` converts lazily, so dropped frames cost nothing."""

    __slots__ = ("format", "frame", "received_at")

    def __init__(self, frame: VideoFrame, format: str, received_at: float) -> None:
        self.frame, self.format, self.received_at = frame, format, received_at

    @property
    def width(self) -> int:
        return int(self.frame.width)

    @property
    def height(self) -> int:
        return int(self.frame.height)

    @property
    def time(self) -> float | None:
        """Presentation time in seconds (sender's clock), or None if unknown."""
        t = self.frame.time
        return None if t is None else float(t)

    def to_ndarray(self) -> np.ndarray:
        array: np.ndarray = self.frame.to_ndarray(format=self.format)
        return array


class RemoteAudioFrame:
    """Received audio, already in the reader's sample rate, channel count and sample format."""

    __slots__ = ("channels", "format", "frame", "received_at")

    def __init__(self, frame: AudioFrame, format: str, channels: int, received_at: float) -> None:
        self.frame, self.format, self.channels = frame, format, channels
        self.received_at = received_at

    @property
    def sample_rate(self) -> int:
        return int(self.frame.sample_rate)

    @property
    def samples(self) -> int:
        return int(self.frame.samples)

    @property
    def time(self) -> float | None:
        t = self.frame.time
        return None if t is None else float(t)

    def to_ndarray(self) -> np.ndarray:
        array: np.ndarray = self.frame.to_ndarray()
        return array.reshape(-1, self.channels)


FrameT = TypeVar("FrameT", RemoteVideoFrame, RemoteAudioFrame)


class FrameStream(Generic[FrameT]):
    """An async iterator over a track's frames through a bounded, drop-oldest queue.

    ``dropped`` counts frames this reader missed because it was slower than the track. Iteration
    ends when the track ends or the stream is closed. Use ``async with`` or call ``close()``.
    """

    def __init__(
        self,
        kind: str,
        max_queued: int,
        convert: Callable[[av.frame.Frame, float], list[FrameT]],
        on_close: Callable[[FrameStream[FrameT]], None] | None = None,
    ) -> None:
        if max_queued < 1:
            raise ValueError(f"max_queued must be at least 1, got {max_queued}")
        self.kind = kind
        self.max_queued = max_queued
        self.dropped = 0
        self.received = 0
        self._tap: TrackTap | None = None
        self._on_close: Callable[[FrameStream[FrameT]], None] | None = on_close
        self._convert: Callable[[av.frame.Frame, float], list[FrameT]] = convert
        self._queue: collections.deque[FrameT] = collections.deque()
        self._ready = asyncio.Event()
        self._closed = False

    def _offer(self, frame: av.frame.Frame, received_at: float) -> None:
        for item in self._convert(frame, received_at):
            if len(self._queue) >= self.max_queued:
                self._queue.popleft()
                self.dropped += 1
                if self._tap is not None:
                    self._tap.frames_dropped += 1
            self._queue.append(item)
            self.received += 1
        self._ready.set()

    def _end(self) -> None:
        self._closed = True
        self._ready.set()

    @property
    def queued(self) -> int:
        return len(self._queue)

    def clear(self) -> int:
        """Discard queued frames (e.g. after a pause), returning how many were discarded."""
        count = len(self._queue)
        self._queue.clear()
        return count

    def __aiter__(self) -> AsyncIterator[FrameT]:
        return self

    async def __anext__(self) -> FrameT:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()

    async def next(self, timeout: float | None = None) -> FrameT:
        """The next frame, waiting at most ``timeout`` seconds (``TimeoutError`` after)."""
        async with asyncio.timeout(timeout):
            return await self.__anext__()

    def close(self) -> None:
        if self._tap is not None:
            self._tap._remove(self)
        if self._on_close is not None:
            self._on_close(self)
        self._end()
        self._queue.clear()

    async def __aenter__(self) -> FrameStream[FrameT]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


def _video_converter(format: str) -> Callable[[av.frame.Frame, float], list[RemoteVideoFrame]]:
    if format not in VIDEO_FORMATS:
        raise ValueError(f"video format must be one of {VIDEO_FORMATS}, got {format!r}")

    def convert(frame: av.frame.Frame, received_at: float) -> list[RemoteVideoFrame]:
        assert isinstance(frame, VideoFrame)
        return [RemoteVideoFrame(frame, format, received_at)]

    return convert


def _audio_converter(
    format: str, sample_rate: int | None, channels: int | None
) -> Callable[[av.frame.Frame, float], list[RemoteAudioFrame]]:
    if format not in AUDIO_FORMATS:
        raise ValueError(f"audio format must be one of {tuple(AUDIO_FORMATS)}, got {format!r}")
    if channels not in (None, 1, 2):
        raise ValueError(f"channels must be 1, 2 or None (keep the sender's), got {channels}")
    if sample_rate is not None and not 8000 <= sample_rate <= 192_000:
        raise ValueError(f"sample_rate must be between 8000 and 192000 Hz, got {sample_rate}")
    resamplers: dict[tuple[int, str], av.AudioResampler] = {}

    def convert(frame: av.frame.Frame, received_at: float) -> list[RemoteAudioFrame]:
        assert isinstance(frame, AudioFrame)
        count = channels or len(frame.layout.channels)
        layout = "mono" if count == 1 else "stereo"
        rate = sample_rate or frame.sample_rate
        key = (rate, layout)
        resampler = resamplers.get(key)
        if resampler is None:  # (re)created if the sender changes, e.g. after renegotiation
            resamplers.clear()
            resampler = resamplers[key] = av.AudioResampler(format=format, layout=layout, rate=rate)
        return [RemoteAudioFrame(f, format, count, received_at) for f in resampler.resample(frame)]

    return convert


def video_stream(
    format: str = "rgb24",
    max_queued: int = 2,
    on_close: Callable[[FrameStream[RemoteVideoFrame]], None] | None = None,
) -> FrameStream[RemoteVideoFrame]:
    """A video reader not yet attached to a track (see :meth:`TrackTap.attach`)."""
    return FrameStream("video", max_queued, _video_converter(format), on_close)


def audio_stream(
    format: str = "s16",
    sample_rate: int | None = None,
    channels: int | None = None,
    max_queued: int = 50,
    on_close: Callable[[FrameStream[RemoteAudioFrame]], None] | None = None,
) -> FrameStream[RemoteAudioFrame]:
    """An audio reader not yet attached to a track (see :meth:`TrackTap.attach`)."""
    return FrameStream(
        "audio", max_queued, _audio_converter(format, sample_rate, channels), on_close
    )


class TapTrack(MediaStreamTrack):
    """A MediaStreamTrack fed by a tap, for code that wants a track (a recorder, another
    peer connection): it gets its own bounded queue, so it never slows the other readers."""

    def __init__(self, tap: TrackTap, max_queued: int | None = None) -> None:
        super().__init__()
        self.kind = tap.track.kind
        if self.kind == "video":
            self._video: FrameStream[RemoteVideoFrame] | None = tap.video(
                max_queued=max_queued or 2
            )
            self._audio: FrameStream[RemoteAudioFrame] | None = None
        else:
            self._video = None
            self._audio = tap.attach(
                FrameStream("audio", max_queued or 50, lambda f, t: [_pass_audio(f, t)])
            )

    async def recv(self) -> av.frame.Frame:
        try:
            if self._video is not None:
                return (await self._video.__anext__()).frame
            assert self._audio is not None
            return (await self._audio.__anext__()).frame
        except StopAsyncIteration:
            self.stop()
            raise MediaStreamError from None

    def stop(self) -> None:
        super().stop()
        for stream in (self._video, self._audio):
            if stream is not None:
                stream.close()


def _pass_audio(frame: av.frame.Frame, received_at: float) -> RemoteAudioFrame:
    assert isinstance(frame, AudioFrame)
    return RemoteAudioFrame(frame, "", len(frame.layout.channels), received_at)


class TrackTap:
    """Drains one track forever and fans its frames out to readers (see module docstring)."""

    def __init__(self, track: MediaStreamTrack) -> None:
        self.track = track
        self.frames_received = 0
        self.frames_dropped = 0  # frames some reader missed for being too slow
        self.last_frame_size: tuple[int, int] | None = None
        self._streams: list[FrameStream[RemoteVideoFrame] | FrameStream[RemoteAudioFrame]] = []
        self._sinks: list[Callable[[av.frame.Frame, float], None]] = []
        self._task: asyncio.Task[None] | None = asyncio.ensure_future(self._run())

    @property
    def ended(self) -> bool:
        return self._task is None or self._task.done()

    async def _run(self) -> None:
        while True:
            try:
                frame = await self.track.recv()
            except MediaStreamError:
                break
            if not isinstance(frame, av.frame.Frame):
                continue  # encoded packets (a relayed MediaPlayer(decode=False)) carry no image
            now = time.time()
            self.frames_received += 1
            if isinstance(frame, VideoFrame):
                self.last_frame_size = (frame.width, frame.height)
            for stream in list(self._streams):
                try:
                    stream._offer(frame, now)
                except Exception:  # a bad conversion must not stop the drain for others
                    logger.exception("frame reader failed; closing it")
                    stream.close()
            for sink in list(self._sinks):
                sink(frame, now)
        for stream in list(self._streams):
            stream._end()
        self._streams.clear()

    def video(self, format: str = "rgb24", max_queued: int = 2) -> FrameStream[RemoteVideoFrame]:
        """A new reader of this video track's frames."""
        if self.track.kind != "video":
            raise ValueError(f"this is a {self.track.kind} track; use audio() for it")
        return self.attach(video_stream(format, max_queued))

    def audio(
        self,
        format: str = "s16",
        sample_rate: int | None = None,
        channels: int | None = None,
        max_queued: int = 50,
    ) -> FrameStream[RemoteAudioFrame]:
        """A new reader of this audio track, resampled/mixed to ``sample_rate``/``channels``."""
        if self.track.kind != "audio":
            raise ValueError(f"this is a {self.track.kind} track; use video() for it")
        return self.attach(audio_stream(format, sample_rate, channels, max_queued))

    def attach(self, stream: FrameStream[FrameT]) -> FrameStream[FrameT]:
        """Feed ``stream`` from this track from now on (it ends when the track ends)."""
        if stream.kind != self.track.kind:
            raise ValueError(f"a {stream.kind} reader cannot read a {self.track.kind} track")
        if stream._tap is not None:
            stream._tap._remove(stream)
        stream._tap = self
        if self.ended:
            stream._end()
        else:
            self._streams.append(stream)
        return stream

    def copy_track(self, max_queued: int | None = None) -> TapTrack:
        """A new MediaStreamTrack copy of this track (e.g. to forward to another peer)."""
        return TapTrack(self, max_queued)

    def add_sink(self, sink: Callable[[av.frame.Frame, float], None]) -> None:
        """Call ``sink(frame, received_at)`` for every frame (must be quick; used by recorders)."""
        self._sinks.append(sink)

    def remove_sink(self, sink: Callable[[av.frame.Frame, float], None]) -> None:
        with contextlib.suppress(ValueError):
            self._sinks.remove(sink)

    def _remove(
        self, stream: FrameStream[RemoteVideoFrame] | FrameStream[RemoteAudioFrame]
    ) -> None:
        with contextlib.suppress(ValueError):
            self._streams.remove(stream)

    async def stop(self) -> None:
        """Stop draining (the track itself is left alone) and end every reader."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for stream in list(self._streams):
            stream._end()
        self._streams.clear()
