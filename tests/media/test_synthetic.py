"""Synthetic audio and video between two Python peers, read back as numpy."""

from __future__ import annotations

import asyncio
import time

import numpy as np
from aiortc import RTCPeerConnection

from rtcroom.media import TestPatternSource, TrackTap, read_frame_number

from .peers import peer_pair


def dominant_frequency(samples: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / sample_rate)[int(np.argmax(spectrum))])


async def test_test_pattern_video_and_tone_arrive_as_numpy() -> None:
    source = TestPatternSource(video={"width": 320, "height": 240, "fps": 15})
    tracks = await source.get_tracks()

    def add_tracks(pc: RTCPeerConnection) -> None:
        for track in tracks:
            pc.addTrack(track)

    try:
        async with peer_pair(add_tracks) as (_, answerer):
            video = TrackTap(await answerer.track("video"))
            audio = TrackTap(await answerer.track("audio"))
            frames = video.video(max_queued=100)
            sound = audio.audio(sample_rate=16_000, channels=1, max_queued=500)

            first = await frames.next(timeout=10)
            image = first.to_ndarray()
            assert image.shape == (240, 320, 3) and image.dtype == np.uint8
            assert image.mean() > 60, "the colour bars should be bright, not black"

            # Count frames over a few seconds: the pattern runs at 15 fps.
            started, count = time.monotonic(), 0
            numbers = []
            while time.monotonic() - started < 3.0:
                frame = await frames.next(timeout=5)
                numbers.append(read_frame_number(frame.frame))
                count += 1
            rate = count / (time.monotonic() - started)
            assert 6 <= rate <= 25, f"expected about 15 fps, got {rate:.1f}"
            assert numbers == sorted(numbers), "frames must arrive in order"

            chunks = []
            async with asyncio.timeout(10):
                while sum(len(c) for c in chunks) < 16_000:
                    piece = await sound.next(timeout=5)
                    assert piece.sample_rate == 16_000 and piece.channels == 1
                    chunks.append(piece.to_ndarray())
            pcm = np.concatenate(chunks)
            assert pcm.dtype == np.int16 and pcm.shape[1] == 1
            assert abs(dominant_frequency(pcm[-8000:, 0], 16_000) - 440) < 15
            assert np.sqrt(np.mean(pcm.astype(np.float64) ** 2)) > 3000
            await video.stop()
            await audio.stop()
    finally:
        source.stop()


async def test_audio_float_stereo_layout() -> None:
    source = TestPatternSource(video=False)
    tracks = await source.get_tracks()
    try:
        async with peer_pair(lambda pc: pc.addTrack(tracks[0])) as (_, answerer):
            tap = TrackTap(await answerer.track("audio"))
            stream = tap.audio(format="flt", channels=2, sample_rate=24_000)
            frame = await stream.next(timeout=10)
            data = frame.to_ndarray()
            assert data.dtype == np.float32 and data.shape == (frame.samples, 2)
            assert frame.sample_rate == 24_000
            for _ in range(20):
                data = (await stream.next(timeout=5)).to_ndarray()
            assert np.abs(data).max() <= 1.0 and np.abs(data).max() > 0.2
            assert np.allclose(data[:, 0], data[:, 1], atol=0.02), "mono tone mixed to stereo"
            await tap.stop()
    finally:
        source.stop()
