"""Synthetic test media: a moving colour-bar video pattern and a sine tone.

The video pattern stamps its frame number into the picture as a row of black and white blocks,
so a receiver can tell which frame it got (``read_frame_number``) — the benchmark uses that for
end-to-end latency and the tests use it to check that a slow reader gets recent frames.
"""

from __future__ import annotations

import fractions
import math

import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

from .clock import VIDEO_CLOCK_RATE, VIDEO_TIME_BASE, Pacer

FRAME_NUMBER_BITS = 16
AUDIO_FRAME_SECONDS = 0.020  # 20 ms, the Opus frame WebRTC uses

# Limited-range BT.601 YUV of the classic 75% colour bars: white, yellow, cyan, green, magenta,
# red, blue. Tests rely on the pattern being clearly brighter than black.
_BARS_YUV = [
    (180, 128, 128),
    (162, 44, 142),
    (131, 156, 44),
    (112, 72, 58),
    (84, 184, 198),
    (65, 100, 212),
    (35, 212, 114),
]


def _check_size(width: int, height: int) -> None:
    if width < 32 or height < 32 or width % 2 or height % 2:
        raise ValueError(
            f"video size {width}x{height} is not usable: width and height must be even and >= 32"
        )


def _block_size(width: int) -> int:
    return max(2, (width // (FRAME_NUMBER_BITS + 4)) // 2 * 2)


def color_bars_yuv420p(width: int, height: int) -> np.ndarray:
    """A yuv420p colour-bar picture as the (height * 3 // 2, width) array PyAV expects."""
    _check_size(width, height)
    y = np.empty((height, width), np.uint8)
    u = np.empty((height // 2, width // 2), np.uint8)
    v = np.empty((height // 2, width // 2), np.uint8)
    for i, (yy, uu, vv) in enumerate(_BARS_YUV):
        x0, x1 = width * i // len(_BARS_YUV), width * (i + 1) // len(_BARS_YUV)
        y[:, x0:x1] = yy
        u[:, x0 // 2 : x1 // 2] = uu
        v[:, x0 // 2 : x1 // 2] = vv
    return np.concatenate([y, u.reshape(-1, width), v.reshape(-1, width)])


def stamp_frame_number(yuv: np.ndarray, width: int, number: int) -> None:
    """Write ``number`` (mod 2**16) into the top-left luma blocks of a yuv420p array."""
    block = _block_size(width)
    for bit in range(FRAME_NUMBER_BITS):
        value = 235 if (number >> bit) & 1 else 16
        yuv[0:block, bit * block : (bit + 1) * block] = value


def read_frame_number(frame: VideoFrame) -> int:
    """The number stamped by the test pattern (survives VP8/H.264 compression)."""
    luma = frame.to_ndarray(format="gray")
    block = _block_size(frame.width)
    half = block // 2
    number = 0
    for bit in range(FRAME_NUMBER_BITS):
        if luma[half, bit * block + half] > 128:
            number |= 1 << bit
    return number


class TestPatternVideoTrack(MediaStreamTrack):
    """Colour bars with a moving white box and a frame-number stamp, paced to ``fps``."""

    __test__ = False  # not a pytest test class despite the name
    kind = "video"

    def __init__(self, width: int = 640, height: int = 480, fps: float = 30.0) -> None:
        super().__init__()
        _check_size(width, height)
        if not 0 < fps <= 240:
            raise ValueError(f"fps must be between 0 and 240, got {fps}")
        self.width, self.height, self.fps = width, height, fps
        self._base = color_bars_yuv420p(width, height)
        self._pacer = Pacer(1.0 / fps, VIDEO_CLOCK_RATE)
        self.frames_sent = 0

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self._pacer.next_pts()
        number = self.frames_sent
        self.frames_sent += 1
        yuv = self._base.copy()
        box = max(8, self.height // 6) // 2 * 2
        x = (number * 8) % (self.width - box) // 2 * 2
        y0 = (self.height - box) // 2
        yuv[y0 : y0 + box, x : x + box] = 235
        stamp_frame_number(yuv, self.width, number)
        frame = VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = pts
        frame.time_base = VIDEO_TIME_BASE
        return frame


class ToneAudioTrack(MediaStreamTrack):
    """A continuous sine tone as signed 16-bit PCM in 20 ms frames, paced to real time."""

    kind = "audio"

    def __init__(
        self,
        frequency: float = 440.0,
        sample_rate: int = 48_000,
        channels: int = 1,
        amplitude: float = 0.5,
    ) -> None:
        super().__init__()
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {channels}")
        if not 0 <= amplitude <= 1:
            raise ValueError(f"amplitude is a fraction of full scale (0..1), got {amplitude}")
        if sample_rate % 50:
            raise ValueError(f"sample_rate must be a multiple of 50 Hz, got {sample_rate}")
        self.frequency, self.sample_rate, self.channels = frequency, sample_rate, channels
        self.amplitude = amplitude
        self._samples = int(sample_rate * AUDIO_FRAME_SECONDS)
        self._pacer = Pacer(AUDIO_FRAME_SECONDS, sample_rate)
        self._phase = 0

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self._pacer.next_pts()
        n = np.arange(self._phase, self._phase + self._samples)
        self._phase += self._samples
        wave = self.amplitude * 32767 * np.sin(2 * math.pi * self.frequency * n / self.sample_rate)
        pcm = np.repeat(wave.astype(np.int16), self.channels).reshape(1, -1)
        frame = AudioFrame.from_ndarray(
            pcm, format="s16", layout="mono" if self.channels == 1 else "stereo"
        )
        frame.sample_rate = self.sample_rate
        frame.pts = pts
        frame.time_base = fractions.Fraction(1, self.sample_rate)
        return frame
