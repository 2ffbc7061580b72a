"""A reader slower than the video: memory stays flat and frames stay recent.

25 s of 640x480 video at 30 fps instead of the issue's minute: an unbounded queue grows by
~14 MB/s here (30 decoded 640x480 frames a second), so a leak shows up within seconds, and the
whole media test directory must stay within a few minutes on 2 cores.
"""

from __future__ import annotations

import asyncio
import time

from aiortc import RTCPeerConnection

from rtcroom.media import TestPatternSource, TrackTap, read_frame_number

from .peers import peer_pair

DURATION = 25.0


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def test_slow_reader_memory_flat_and_unread_tracks_drained() -> None:
    source = TestPatternSource(video={"width": 640, "height": 480, "fps": 30})
    tracks = await source.get_tracks()
    pattern = next(t for t in tracks if t.kind == "video")

    def add(pc: RTCPeerConnection) -> None:
        for track in tracks:
            pc.addTrack(track)

    try:
        async with peer_pair(add) as (_, answerer):
            video_tap = TrackTap(await answerer.track("video"))
            audio_tap = TrackTap(await answerer.track("audio"))  # nobody reads this one
            frames = video_tap.video(max_queued=3)
            await frames.next(timeout=10)

            started = time.monotonic()
            baseline: float | None = None
            samples = []
            ages = []
            while time.monotonic() - started < DURATION:
                frame = await frames.next(timeout=10)
                frame.to_ndarray()
                ages.append(pattern.frames_sent - read_frame_number(frame.frame))
                await asyncio.sleep(0.4)  # a reader at 2.5 fps against 30 fps of video
                elapsed = time.monotonic() - started
                if baseline is None and elapsed > 5:
                    baseline = rss_mb()  # after warm-up (encoder/decoder buffers allocated)
                elif baseline is not None:
                    samples.append(rss_mb())

            assert baseline is not None and samples
            growth = max(samples) - baseline
            assert growth < 40, f"memory grew {growth:.0f} MB while reading slowly"
            assert frames.queued <= 3
            assert frames.dropped > 150, "most frames must have been dropped, not queued"
            # What the slow reader sees is recent: a few frames behind the sender, not seconds.
            late = sorted(ages)[len(ages) * 9 // 10]
            assert late < 30, f"90% of frames should be < 1 s old, the 90th percentile was {late}"
            # The unread audio track was drained, not left to pile up inside aiortc.
            assert audio_tap.frames_received > DURATION * 30
            assert video_tap.frames_received > DURATION * 10
            await video_tap.stop()
            await audio_tap.stop()
    finally:
        source.stop()
