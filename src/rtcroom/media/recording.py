"""Recording a stream (local or one peer's) to a file with PyAV, like Agentuity's MediaRecorder.

The container and codecs follow Agentuity's MIME-type choice, except that VP8 comes before VP9:
libvpx's VP9 encoder costs several times more CPU than VP8, and a Python peer records in real
time on the same cores that decode. Encoding and muxing run in a worker thread so the event loop
(and the call) never waits for the encoder; the hand-off queue is bounded and drops the oldest
frame if the encoder falls behind. While paused, frames are not written and the paused time is
cut out of the timestamps, so the file plays straight through.
"""

from __future__ import annotations

import asyncio
import collections
import fractions
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import av
from av import AudioFrame, VideoFrame
from av.frame import Frame

from .errors import RecordingError
from .frames import TrackTap

logger = logging.getLogger(__name__)

RecordingState = Literal["inactive", "recording", "paused"]

VIDEO_MIME_TYPES = (
    "video/webm;codecs=vp8,opus",
    "video/webm;codecs=vp9,opus",
    "video/webm",
    "video/mp4",
)
AUDIO_MIME_TYPES = ("audio/webm;codecs=opus", "audio/webm", "audio/ogg")

_CODECS = {
    "vp8": "libvpx",
    "vp9": "libvpx-vp9",
    "opus": "libopus",
    "h264": "libx264",
    "avc1": "libx264",
    "aac": "aac",
    "mp4a": "aac",
}
_CONTAINERS = {  # mime base -> (FFmpeg muxer, file suffix, default video codec, default audio)
    "video/webm": ("webm", ".webm", "libvpx", "libopus"),
    "audio/webm": ("webm", ".webm", None, "libopus"),
    "video/mp4": ("mp4", ".mp4", "libx264", "aac"),
    "audio/mp4": ("mp4", ".m4a", None, "aac"),
    "audio/ogg": ("ogg", ".ogg", None, "libopus"),
}
VIDEO_TIME_BASE = fractions.Fraction(1, 1000)
AUDIO_RATE = 48_000


@dataclass(frozen=True)
class ContainerChoice:
    mime_type: str
    format: str
    suffix: str
    video_codec: str | None
    audio_codec: str | None


def parse_mime_type(mime_type: str) -> ContainerChoice:
    """Map ``video/webm;codecs=vp8,opus`` and friends to an FFmpeg muxer and encoders."""
    base, _, params = mime_type.replace(" ", "").lower().partition(";")
    if base not in _CONTAINERS:
        raise RecordingError(
            f"unsupported recording MIME type {mime_type!r}; use one of "
            f"{', '.join(VIDEO_MIME_TYPES + AUDIO_MIME_TYPES)}"
        )
    fmt, suffix, video, audio = _CONTAINERS[base]
    if params.startswith("codecs="):
        names = [n.strip("\"'").split(".")[0] for n in params[7:].split(",") if n]
        chosen_video, chosen_audio = None, None
        for name in names:
            codec = _CODECS.get(name)
            if codec is None:
                raise RecordingError(f"unknown codec {name!r} in MIME type {mime_type!r}")
            if codec in ("libopus", "aac"):
                chosen_audio = codec
            else:
                chosen_video = codec
        if base.startswith("audio/") and chosen_video:
            raise RecordingError(f"{mime_type!r}: an audio/* type cannot name a video codec")
        video = chosen_video if base.startswith("video/") and chosen_video else video
        audio = chosen_audio or audio
    return ContainerChoice(mime_type, fmt, suffix, video, audio)


def is_type_supported(mime_type: str) -> bool:
    """Like ``MediaRecorder.isTypeSupported``: can this PyAV build write that type?"""
    try:
        choice = parse_mime_type(mime_type)
    except RecordingError:
        return False
    codecs = av.codecs_available
    return choice.format in av.formats_available and all(
        c is None or c in codecs for c in (choice.video_codec, choice.audio_codec)
    )


def choose_mime_type(has_video: bool, has_audio: bool, wanted: str | None = None) -> str | None:
    """Agentuity's rule: the requested type if supported, else the first supported default."""
    if wanted and is_type_supported(wanted):
        return wanted
    candidates = VIDEO_MIME_TYPES if has_video else AUDIO_MIME_TYPES if has_audio else ()
    return next((m for m in candidates if is_type_supported(m)), None)


@dataclass(frozen=True)
class RecordingOptions:
    """Agentuity's ``RecordingOptions`` plus where to write the file."""

    mime_type: str | None = None
    audio_bits_per_second: int | None = None
    video_bits_per_second: int | None = None
    path: str | os.PathLike[str] | None = None


class _Writer:
    """Owns the PyAV container; every method runs in the recording's worker thread."""

    def __init__(
        self, path: Path, choice: ContainerChoice, options: RecordingOptions, kinds: set[str]
    ) -> None:
        self.path, self.choice, self.options = path, choice, options
        self.kinds = kinds
        self.container: Any = None
        self.video: Any = None
        self.audio: Any = None
        self.pending: list[tuple[str, Frame, int]] = []
        self.last_video_pts = -1
        self.waited_since: float | None = None

    def _open(self) -> None:
        self.container = av.open(str(self.path), mode="w", format=self.choice.format)

    def _add_video(self, frame: VideoFrame) -> None:
        stream = self.container.add_stream(self.choice.video_codec, rate=30)
        stream.width, stream.height = frame.width // 2 * 2, frame.height // 2 * 2
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = VIDEO_TIME_BASE
        stream.bit_rate = self.options.video_bits_per_second or 2_500_000
        if self.choice.video_codec in ("libvpx", "libvpx-vp9"):
            stream.codec_context.options = {"deadline": "realtime", "cpu-used": "8"}
        elif self.choice.video_codec == "libx264":
            stream.codec_context.options = {"preset": "veryfast", "tune": "zerolatency"}
        self.video = stream

    def _add_audio(self) -> None:
        stream = self.container.add_stream(self.choice.audio_codec, rate=AUDIO_RATE)
        stream.layout = "stereo"
        stream.bit_rate = self.options.audio_bits_per_second or 128_000
        self.audio = stream

    def write(self, kind: str, frame: Frame, pts: int) -> None:
        if self.container is None:
            # Streams must all exist before the first packet; wait (briefly) for one frame of
            # each expected kind so the file gets both.
            self.pending.append((kind, frame, pts))
            have = {k for k, _, _ in self.pending}
            now = time.monotonic()
            self.waited_since = self.waited_since or now
            if not (have >= self.kinds or now - self.waited_since > 3.0 or len(self.pending) > 400):
                return
            self._open()
            if self.choice.video_codec and "video" in have:
                first = next(f for k, f, _ in self.pending if k == "video")
                assert isinstance(first, VideoFrame)
                self._add_video(first)
            if self.choice.audio_codec and "audio" in have:
                self._add_audio()
            pending, self.pending = self.pending, []
            for item in pending:
                self._encode(*item)
            return
        self._encode(kind, frame, pts)

    def _encode(self, kind: str, frame: Frame, pts: int) -> None:
        if kind == "video" and self.video is not None:
            assert isinstance(frame, VideoFrame)
            pts = max(pts, self.last_video_pts + 1)
            self.last_video_pts = pts
            # Never touch the caller's frame (an encoder or a reader may hold it): copy or
            # convert it into a frame of our own before setting its timestamp.
            if (frame.width, frame.height, frame.format.name) != (
                self.video.width,
                self.video.height,
                "yuv420p",
            ):
                frame = frame.reformat(self.video.width, self.video.height, "yuv420p")
            else:
                frame = VideoFrame.from_ndarray(frame.to_ndarray(), format="yuv420p")
            frame.pts, frame.time_base = pts, VIDEO_TIME_BASE
            for packet in self.video.encode(frame):
                self.container.mux(packet)
        elif kind == "audio" and self.audio is not None:
            assert isinstance(frame, AudioFrame)
            frame.pts, frame.time_base = pts, fractions.Fraction(1, AUDIO_RATE)
            for packet in self.audio.encode(frame):
                self.container.mux(packet)

    def close(self) -> None:
        if self.container is None and self.pending:
            self.kinds = {k for k, _, _ in self.pending}
            self.waited_since = 0.0
            kind, frame, pts = self.pending.pop()
            self.write(kind, frame, pts)
        if self.container is None:
            raise RecordingError(
                "nothing was recorded: no frame arrived from the stream while recording"
            )
        for stream in (self.video, self.audio):
            if stream is not None:
                for packet in stream.encode(None):
                    self.container.mux(packet)
        self.container.close()


class RecordingHandle:
    """One running recording. ``await stop()`` finishes the file and returns its path."""

    def __init__(
        self,
        stream_id: str,
        taps: Iterable[TrackTap],
        options: RecordingOptions | None = None,
        on_stop: Callable[[RecordingHandle], None] | None = None,
        close_taps: bool = False,
    ) -> None:
        """``close_taps``: the taps were made for this recording; stop them when it stops."""
        self.stream_id = stream_id
        self._close_taps = close_taps
        self.options = options or RecordingOptions()
        self._taps = [t for t in taps if not t.ended]
        kinds = {t.track.kind for t in self._taps}
        if not kinds:
            raise RecordingError(f"stream {stream_id!r} has no live audio or video to record")
        mime = choose_mime_type("video" in kinds, "audio" in kinds, self.options.mime_type)
        if mime is None:
            raise RecordingError(
                f"this PyAV build can write none of {VIDEO_MIME_TYPES + AUDIO_MIME_TYPES}"
            )
        self.mime_type = mime
        choice = parse_mime_type(mime)
        if self.options.path is not None:
            self.path = Path(self.options.path)
        else:
            fd, name = tempfile.mkstemp(prefix=f"rtcroom-{_safe(stream_id)}-", suffix=choice.suffix)
            os.close(fd)
            self.path = Path(name)
        self._writer = _Writer(self.path, choice, self.options, kinds)
        self._on_stop = on_stop
        self._state: RecordingState = "recording"
        self._started = time.monotonic()
        self._paused_total = 0.0
        self._paused_at: float | None = None
        self._audio_next: int | None = None
        self._resamplers: dict[int, av.AudioResampler] = {}
        self._video_queue: collections.deque[tuple[str, Frame, int]] = collections.deque()
        self._audio_queue: collections.deque[tuple[str, Frame, int]] = collections.deque()
        self.frames_dropped = 0
        self._wake = threading.Event()
        self._closing = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._work, name=f"rtcroom-recorder-{stream_id}", daemon=True
        )
        self._thread.start()
        self._stopped: asyncio.Future[Path] | None = None
        for tap in self._taps:
            tap.add_sink(self._on_frame)

    @property
    def state(self) -> RecordingState:
        return self._state

    def pause(self) -> None:
        """Stop writing frames until ``resume()``; the gap is cut out of the file."""
        if self._state == "recording":
            self._state = "paused"
            self._paused_at = time.monotonic()

    def resume(self) -> None:
        if self._state == "paused" and self._paused_at is not None:
            self._paused_total += time.monotonic() - self._paused_at
            self._paused_at = None
            self._state = "recording"

    def _media_seconds(self) -> float:
        return time.monotonic() - self._started - self._paused_total

    def _on_frame(self, frame: Frame, received_at: float) -> None:
        if self._state != "recording":
            return
        t = self._media_seconds()
        if isinstance(frame, VideoFrame):
            self._enqueue(self._video_queue, ("video", frame, round(t * 1000)), 30)
        elif isinstance(frame, AudioFrame):
            # Audio timestamps count samples, so dropped (paused) audio leaves no gap.
            resampler = self._resamplers.get(frame.sample_rate)
            if resampler is None:
                resampler = av.AudioResampler(format="s16", layout="stereo", rate=AUDIO_RATE)
                self._resamplers = {frame.sample_rate: resampler}
            for out in resampler.resample(frame):
                if self._audio_next is None:
                    self._audio_next = round(t * AUDIO_RATE)
                self._enqueue(self._audio_queue, ("audio", out, self._audio_next), 250)
                self._audio_next += out.samples

    def _enqueue(
        self,
        queue: collections.deque[tuple[str, Frame, int]],
        item: tuple[str, Frame, int],
        limit: int,
    ) -> None:
        if len(queue) >= limit:
            queue.popleft()
            self.frames_dropped += 1
        queue.append(item)
        self._wake.set()

    def _work(self) -> None:
        try:
            while True:
                self._wake.wait(0.5)
                self._wake.clear()
                while self._video_queue or self._audio_queue:
                    # Interleave by timestamp so the muxer needs little buffering.
                    v = self._video_queue[0] if self._video_queue else None
                    a = self._audio_queue[0] if self._audio_queue else None
                    if v is not None and (a is None or v[2] / 1000 <= a[2] / AUDIO_RATE):
                        self._writer.write(*self._video_queue.popleft())
                    else:
                        self._writer.write(*self._audio_queue.popleft())
                if self._closing:
                    self._writer.close()
                    return
        except BaseException as exc:  # reported by stop()
            self._error = exc

    async def stop(self) -> Path:
        """Stop recording, finish the file, and return its path."""
        if self._stopped is None:
            self._stopped = asyncio.ensure_future(self._finish())
        return await asyncio.shield(self._stopped)

    async def _finish(self) -> Path:
        self.resume()
        self._state = "inactive"
        for tap in self._taps:
            tap.remove_sink(self._on_frame)
            if self._close_taps:
                await tap.stop()
                tap.track.stop()  # our own subscription: unsubscribe it from its relay
        self._closing = True
        self._wake.set()
        if self._on_stop is not None:
            self._on_stop(self)
        await asyncio.to_thread(self._thread.join, 30)
        if self._thread.is_alive():
            raise RecordingError(
                f"recording {self.stream_id!r}: the encoder did not finish in 30 s"
            )
        if self._error is not None:
            if isinstance(self._error, RecordingError):
                raise self._error
            raise RecordingError(
                f"recording {self.stream_id!r} to {self.path} failed: {self._error}"
            ) from self._error
        return self.path


def _safe(stream_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in stream_id)[:40]


class Recordings:
    """Recordings by stream id: Agentuity's ``startRecording``/``isRecording``/``stopAll``."""

    def __init__(self) -> None:
        self._active: dict[str, RecordingHandle] = {}

    def start(
        self,
        stream_id: str,
        taps: Iterable[TrackTap],
        options: RecordingOptions | None = None,
        close_taps: bool = False,
    ) -> RecordingHandle | None:
        """Start recording, or None when the stream has nothing to record."""
        if stream_id in self._active:
            raise RecordingError(
                f"stream {stream_id!r} is already being recorded; stop that recording first"
            )
        live = [t for t in taps if not t.ended]
        if not live:
            return None
        handle = RecordingHandle(
            stream_id, live, options, on_stop=self._forget, close_taps=close_taps
        )
        self._active[stream_id] = handle
        return handle

    def _forget(self, handle: RecordingHandle) -> None:
        if self._active.get(handle.stream_id) is handle:
            del self._active[handle.stream_id]

    def is_recording(self, stream_id: str) -> bool:
        """True while recording (a paused recording gives False, as in Agentuity)."""
        handle = self._active.get(stream_id)
        return handle is not None and handle.state == "recording"

    @property
    def active(self) -> dict[str, RecordingHandle]:
        return dict(self._active)

    async def stop_all(self) -> dict[str, Path]:
        """Stop every recording; returns stream id -> file for each that finished."""
        handles = list(self._active.values())
        results = await asyncio.gather(*(h.stop() for h in handles), return_exceptions=True)
        out: dict[str, Path] = {}
        for handle, result in zip(handles, results, strict=True):
            if isinstance(result, BaseException):
                logger.error("recording %r failed: %s", handle.stream_id, result)
            else:
                out[handle.stream_id] = result
        return out
