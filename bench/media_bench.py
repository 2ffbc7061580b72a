"""Media benchmark for a Python peer: CPU per sent and per received 640x480 video stream, and
end-to-end frame latency.

    unshare -n sh -c 'ip link set lo up; PYTHONPATH=src python bench/media_bench.py'

Two processes on loopback: the sender encodes a 640x480 30 fps test pattern (VP8) to N peer
connections through one MediaRelay; the receiver (this process) decodes every stream and drains it
through rtcroom's TrackTap. Each process measures its own CPU time over the measuring window, so
"per stream" is (CPU seconds / wall second) / N, in percent of one core. Latency: the sender
stamps a frame number into each picture and notes when the frame left the pattern; the receiver
reads the number from the decoded picture (same machine, same clock).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import statistics
import time
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from av import VideoFrame

from rtcroom.ice import host_addresses, rtc_configuration
from rtcroom.media import (
    LocalMedia,
    QualityMonitor,
    TestPatternVideoTrack,
    TrackTap,
    read_frame_number,
)

WIDTH, HEIGHT, FPS = 640, 480, 30


class StampedPattern(TestPatternVideoTrack):
    """The test pattern, remembering when each numbered frame was handed to the encoders.

    ``noisy``: sensor-like noise (luma +-8, new every frame) over the picture below the
    frame-number stamp, so the encoder works about as hard as on a camera; the plain pattern
    compresses to almost nothing. The noisy pictures are precomputed (drawing costs a copy)."""

    def __init__(self, noisy: bool) -> None:
        super().__init__(WIDTH, HEIGHT, FPS)
        self.sent_at: dict[int, float] = {}
        rng = np.random.default_rng(7)
        base = self._base[:HEIGHT].astype(np.int16)
        self._noise = (
            [
                np.clip(base + rng.integers(-8, 9, base.shape), 16, 235).astype(np.uint8)
                for _ in range(16)
            ]
            if noisy
            else []
        )

    async def recv(self) -> VideoFrame:
        frame = await super().recv()
        number = self.frames_sent - 1
        if self._noise:
            yuv = frame.to_ndarray()
            top = 64  # keep the frame-number stamp readable
            yuv[top:HEIGHT] = self._noise[number % len(self._noise)][top:]
            noisy = VideoFrame.from_ndarray(yuv, format="yuv420p")
            noisy.pts, noisy.time_base = frame.pts, frame.time_base
            frame = noisy
        self.sent_at[number % 65536] = time.time()
        return frame


async def _sender(
    conn: Connection, streams: int, warmup: float, measure: float, noisy: bool
) -> None:
    pattern = StampedPattern(noisy)
    local = LocalMedia(None)
    pcs = []
    for _ in range(streams):
        pc = RTCPeerConnection(rtc_configuration([]))
        pc.addTrack(local.subscribe(pattern))
        with host_addresses(["127.0.0.1"]):
            await pc.setLocalDescription(await pc.createOffer())
        conn.send({"type": pc.localDescription.type, "sdp": pc.localDescription.sdp})
        answer = await asyncio.to_thread(conn.recv)
        await pc.setRemoteDescription(RTCSessionDescription(**answer))
        pcs.append(pc)
    await asyncio.sleep(warmup)
    cpu0, wall0 = time.process_time(), time.monotonic()
    await asyncio.sleep(measure)
    cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0)
    conn.send({"cpu": cpu, "sent_at": dict(pattern.sent_at), "frames": pattern.frames_sent})
    await asyncio.to_thread(conn.recv)  # receiver done
    for pc in pcs:
        await pc.close()
    pattern.stop()


def sender_main(conn: Connection, streams: int, warmup: float, measure: float, noisy: bool) -> None:
    asyncio.run(_sender(conn, streams, warmup, measure, noisy))


async def run_round(
    streams: int, warmup: float, measure: float, latency: bool, noisy: bool
) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=sender_main, args=(child, streams, warmup, measure, noisy))
    proc.start()
    pcs, taps, monitors = [], [], []
    received_at: dict[int, float] = {}
    try:
        for _ in range(streams):
            offer = await asyncio.to_thread(parent.recv)
            pc = RTCPeerConnection(rtc_configuration([]))
            tracks: list[Any] = []
            pc.on("track", tracks.append)
            await pc.setRemoteDescription(RTCSessionDescription(**offer))
            with host_addresses(["127.0.0.1"]):
                await pc.setLocalDescription(await pc.createAnswer())
            parent.send({"type": pc.localDescription.type, "sdp": pc.localDescription.sdp})
            tap = TrackTap(tracks[0])
            if latency:

                def note(frame: Any, at: float) -> None:
                    received_at.setdefault(read_frame_number(frame), at)

                tap.add_sink(note)
            pcs.append(pc)
            taps.append(tap)
            monitors.append(QualityMonitor(pc))
        await asyncio.sleep(warmup)
        for monitor in monitors:
            await monitor.summary()
        cpu0, wall0 = time.process_time(), time.monotonic()
        frames0 = sum(t.frames_received for t in taps)
        await asyncio.sleep(measure)
        bitrates = []
        for monitor in monitors:
            summary = await monitor.summary()
            video = summary.bitrate.video if summary.bitrate else None
            bitrates.append(video.inbound or 0.0 if video else 0.0)
        wall = time.monotonic() - wall0
        cpu = (time.process_time() - cpu0) / wall
        fps = (sum(t.frames_received for t in taps) - frames0) / wall / streams
        report = await asyncio.to_thread(parent.recv)
        parent.send("done")
    finally:
        for tap in taps:
            await tap.stop()
        for pc in pcs:
            await pc.close()
        await asyncio.to_thread(proc.join, 20)
    delays = [
        (received_at[n] - sent) * 1000
        for n, sent in report["sent_at"].items()
        if n in received_at and n > FPS * warmup
    ]
    return {
        "streams": streams,
        "send_cpu": report["cpu"],
        "recv_cpu": cpu,
        "fps": fps,
        "kbps": statistics.mean(bitrates) / 1000,
        "latency": delays,
    }


def pattern_cost(frames: int = 150) -> float:
    """CPU share of one core that drawing the 30 fps pattern alone takes."""
    track = TestPatternVideoTrack(WIDTH, HEIGHT, FPS)
    track._pacer.period = 1e-9  # draw as fast as possible
    start = time.process_time()

    async def draw() -> None:
        for _ in range(frames):
            await track.recv()

    asyncio.run(draw())
    return (time.process_time() - start) / frames * FPS


def rgb_conversion_cost(frames: int = 100) -> float:
    """CPU share of one core to convert a 30 fps 640x480 stream to RGB numpy arrays."""
    source = TestPatternVideoTrack(WIDTH, HEIGHT, FPS)
    frame = asyncio.run(source.recv())
    start = time.process_time()
    for _ in range(frames):
        frame.to_ndarray(format="rgb24")
    return (time.process_time() - start) / frames * FPS


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warmup", type=float, default=4.0)
    parser.add_argument("--measure", type=float, default=10.0)
    parser.add_argument("--max-streams", type=int, default=2)
    args = parser.parse_args()
    drawing = await asyncio.to_thread(pattern_cost)
    print(f"640x480 VP8 at {FPS} fps, {args.measure:g} s measured after {args.warmup:g} s warm-up")
    print(f"drawing the test pattern alone: {drawing * 100:.1f}% of a core (in the send column)")
    rgb = await asyncio.to_thread(rgb_conversion_cost)
    print(f"reading every received frame as RGB (to_ndarray): {rgb * 100:.1f}% of a core more")
    print(
        "| picture | streams | sender CPU per stream | receiver CPU per stream "
        "| received fps per stream | VP8 kbit/s per stream |"
    )
    print("|---|---|---|---|---|---|")
    for noisy in (False, True):
        for streams in range(1, args.max_streams + 1):
            row = await run_round(streams, args.warmup, args.measure, False, noisy)
            print(
                f"| {'camera-like noise' if noisy else 'test pattern'} | {streams} "
                f"| {row['send_cpu'] / streams * 100:.0f}% "
                f"| {row['recv_cpu'] / streams * 100:.0f}% "
                f"| {row['fps']:.1f} | {row['kbps']:.0f} |",
                flush=True,
            )
    for noisy in (False, True):
        row = await run_round(1, args.warmup, args.measure, True, noisy)
        delays = sorted(row["latency"])
        if delays:
            p95 = delays[int(len(delays) * 0.95)]
            print(
                f"end-to-end frame latency, {'camera-like noise' if noisy else 'test pattern'}, "
                f"1 stream: median {statistics.median(delays):.1f} ms, p95 {p95:.1f} ms, "
                f"max {delays[-1]:.1f} ms over {len(delays)} frames"
            )


if __name__ == "__main__":
    asyncio.run(main())
