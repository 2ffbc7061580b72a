"""Track sources: push numpy, media files, capture devices, custom tracks."""

from __future__ import annotations

import asyncio
import fractions
import itertools
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc import RTCPeerConnection

from rtcroom.media import (
    CustomStreamSource,
    MediaFileSource,
    MediaSourceError,
    PushAudioTrack,
    PushSource,
    PushVideoTrack,
    TestPatternVideoTrack,
    TrackTap,
    UserMediaSource,
)
from rtcroom.media.devices import display_media_plan, user_media_plan

from .peers import peer_pair


async def test_pushed_numpy_frames_and_audio_reach_the_remote() -> None:
    source = PushSource(video={"fps": 15}, audio={"sample_rate": 48_000})
    assert source.video is not None and source.audio is not None
    tracks = await source.get_tracks()

    def add(pc: RTCPeerConnection) -> None:
        for track in tracks:
            pc.addTrack(track)

    red = np.zeros((120, 160, 3), np.uint8)
    red[..., 0] = 255
    t = np.arange(48_000) / 48_000
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)

    async def produce() -> None:
        assert source.video is not None and source.audio is not None
        await source.audio.push(tone)
        for _ in range(60):
            await source.video.push(red)

    try:
        async with peer_pair(add) as (_, answerer):
            producer = asyncio.create_task(produce())
            video = TrackTap(await answerer.track("video")).video(max_queued=1)
            audio = TrackTap(await answerer.track("audio")).audio(channels=1, max_queued=1000)
            frame = await video.next(timeout=10)
            for _ in range(5):
                frame = await video.next(timeout=10)
            image = frame.to_ndarray()
            assert image.shape == (120, 160, 3)
            r, g, b = image.reshape(-1, 3).mean(axis=0)
            assert r > 200 and g < 50 and b < 50, f"expected red, got {(r, g, b)}"
            loud = 0
            for _ in range(60):
                pcm = (await audio.next(timeout=10)).to_ndarray()
                if np.sqrt(np.mean(pcm.astype(np.float64) ** 2)) > 3000:
                    loud += 1
            assert loud >= 20, "the pushed tone must be heard"
            await asyncio.wait_for(producer, 20)
    finally:
        source.stop()


async def test_push_video_back_pressure_and_clear() -> None:
    track = PushVideoTrack(fps=30, max_queued=2)
    frame = np.zeros((64, 64, 3), np.uint8)
    await track.push(frame)
    await track.push(frame)
    third = asyncio.create_task(track.push(frame))
    await asyncio.sleep(0.2)
    assert not third.done(), "push() must wait while the queue is full"
    await track.recv()
    await asyncio.wait_for(third, 5)
    assert track.queued == 2
    assert track.clear() == 2 and track.queued == 0
    with pytest.raises(ValueError, match="does not fit format"):
        await track.push(np.zeros((64, 64), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        await track.push(np.zeros((64, 64, 3), np.float32))
    track.stop()


async def test_push_audio_back_pressure_clear_and_silence() -> None:
    track = PushAudioTrack(sample_rate=16_000, max_buffered_seconds=0.5)
    await track.push(np.full(6_000, 1000, np.int16))
    assert track.buffered_seconds == pytest.approx(0.375)
    blocked = asyncio.create_task(track.push(np.full(4_000, 1000, np.int16)))
    await asyncio.sleep(0.1)
    assert not blocked.done(), "more than 0.5 s would be queued: push() waits"
    first = await track.recv()
    assert first.samples == 320 and first.sample_rate == 16_000
    assert int(first.to_ndarray().max()) == 1000
    for _ in range(10):
        await track.recv()
    await asyncio.wait_for(blocked, 5)
    assert track.clear() > 0 and track.buffered_seconds == 0
    silent = await track.recv()
    assert not np.any(silent.to_ndarray()), "nothing queued: silence"
    with pytest.raises(ValueError, match="channel"):
        await track.push(np.zeros((10, 3), np.int16))
    track.stop()


def write_clip(path: Path, seconds: float = 2.0) -> None:
    with av.open(str(path), "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=25)
        stream.width, stream.height, stream.pix_fmt = 200, 150, "yuv420p"
        stream.codec_context.time_base = fractions.Fraction(1, 25)
        for i in range(int(seconds * 25)):
            image = np.full((150, 200, 3), (40 + i) % 255, np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


async def test_media_file_source_sends_the_file(tmp_path: Path) -> None:
    clip = tmp_path / "clip.webm"
    write_clip(clip)
    source = MediaFileSource(clip)
    tracks = await source.get_tracks()
    assert [t.kind for t in tracks] == ["video"]
    try:
        async with peer_pair(lambda pc: pc.addTrack(tracks[0])) as (_, answerer):
            frame = await TrackTap(await answerer.track("video")).video().next(timeout=10)
            assert (frame.width, frame.height) == (200, 150)
    finally:
        source.stop()
    with pytest.raises(MediaSourceError, match="does not exist"):
        MediaFileSource(tmp_path / "missing.mp4")


async def test_missing_camera_gives_a_clear_error() -> None:
    source = UserMediaSource(video={"deviceId": "/dev/video-nonexistent"}, audio=False)
    with pytest.raises(MediaSourceError, match="camera") as info:
        await source.get_tracks()
    assert "/dev/video-nonexistent" in str(info.value) or "v4l2" in str(info.value)


def test_constraints_map_to_ffmpeg_devices() -> None:
    linux = user_media_plan(
        {"width": 1280, "height": {"ideal": 720}, "frameRate": 30, "deviceId": "/dev/video2"},
        {"sampleRate": 48000, "channelCount": 1},
        platform="linux",
    )
    assert linux[0].format == "v4l2" and linux[0].file == "/dev/video2"
    assert linux[0].options == {"video_size": "1280x720", "framerate": "30"}
    assert linux[1].format in ("alsa", "pulse") and linux[1].kinds == ("audio",)
    assert linux[1].options == {"sample_rate": "48000", "channels": "1"}
    mac = user_media_plan(True, True, platform="darwin")
    assert [(p.file, p.format, p.kinds) for p in mac] == [
        ("0:0", "avfoundation", ("video", "audio"))
    ]
    win = user_media_plan({"deviceId": "USB Cam"}, {"deviceId": "Mic (USB)"}, platform="win32")
    assert win[0].file == "video=USB Cam:audio=Mic (USB)" and win[0].format == "dshow"
    assert display_media_plan({"frameRate": 5}, display=":3", platform="linux").file == ":3"
    assert display_media_plan(True, platform="win32").format == "gdigrab"
    assert display_media_plan(True, platform="darwin").format == "avfoundation"
    with pytest.raises(ValueError, match="both width and height"):
        user_media_plan({"width": 640}, False, platform="linux")
    with pytest.raises(TypeError, match="constraint"):
        user_media_plan("yes", False, platform="linux")  # type: ignore[arg-type]


async def test_custom_stream_source_checks_and_stops_tracks() -> None:
    track = TestPatternVideoTrack(64, 48, fps=10)
    source = CustomStreamSource([track])
    assert await source.get_tracks() == [track] and source.type == "custom"
    source.stop()
    assert track.readyState == "ended"
    kept = TestPatternVideoTrack(64, 48)
    CustomStreamSource([kept], stop_tracks=False).stop()
    assert kept.readyState == "live"
    with pytest.raises(TypeError, match="MediaStreamTrack"):
        CustomStreamSource(["not a track"])  # type: ignore[list-item]


async def test_push_video_timestamps_follow_the_wall_clock() -> None:
    track = PushVideoTrack(fps=30)
    image = np.zeros((32, 32, 3), np.uint8)
    times = []
    for _ in range(4):
        await track.push(image)
        frame = await track.recv()
        times.append(float(frame.time))
        await asyncio.sleep(0.2)  # a producer at 5 fps, slower than the track's 30
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(0.15 < gap < 2.0 for gap in gaps), f"timestamps should be ~0.2 s apart: {gaps}"
    for _ in range(3):
        await track.push(image)
    burst = [float((await track.recv()).time) for _ in range(3)]
    assert all(b - a >= 0.025 for a, b in itertools.pairwise(burst)), "paced to 30 fps"
    track.stop()
