"""Recordings: real files that PyAV decodes, with the paused interval cut out."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import av
import pytest
from aiortc import RTCPeerConnection

from rtcroom.media import (
    LocalMedia,
    RecordingError,
    RecordingOptions,
    Recordings,
    TestPatternSource,
    TrackTap,
    choose_mime_type,
    is_type_supported,
    read_frame_number,
)

from .peers import peer_pair


def probe(path: Path) -> tuple[float, dict[str, str], list[tuple[float, int]]]:
    """(duration in s, codec per stream type, [(time, stamped frame number)] of the video)."""
    with av.open(str(path)) as container:
        codecs = {s.type: s.codec_context.name for s in container.streams}
        frames = []
        if container.streams.video:
            for frame in container.decode(video=0):
                frames.append((float(frame.time), read_frame_number(frame)))
        end = 0.0
        container.seek(0)
        for packet in container.demux():
            if packet.pts is not None and packet.time_base is not None:
                end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    return end, codecs, frames


def test_mime_type_choice_follows_agentuity_order() -> None:
    assert choose_mime_type(has_video=True, has_audio=True) == "video/webm;codecs=vp8,opus"
    assert choose_mime_type(has_video=False, has_audio=True) == "audio/webm;codecs=opus"
    assert choose_mime_type(has_video=True, has_audio=True, wanted="video/mp4") == "video/mp4"
    assert choose_mime_type(False, False) is None
    assert not is_type_supported("video/x-nonsense")
    assert is_type_supported("audio/ogg")


async def test_remote_recording_excludes_the_paused_interval(tmp_path: Path) -> None:
    source = TestPatternSource(video={"width": 320, "height": 240, "fps": 20})
    tracks = await source.get_tracks()

    def add(pc: RTCPeerConnection) -> None:
        for track in tracks:
            pc.addTrack(track)

    recordings = Recordings()
    try:
        async with peer_pair(add) as (_, answerer):
            taps = [TrackTap(await answerer.track(k)) for k in ("audio", "video")]
            await taps[1].video().next(timeout=10)  # media is flowing
            handle = recordings.start(
                "peer-1",
                taps,
                RecordingOptions(path=tmp_path / "call.webm", video_bits_per_second=500_000),
            )
            assert handle is not None and handle.state == "recording"
            assert recordings.is_recording("peer-1")
            await asyncio.sleep(2.0)
            handle.pause()
            assert handle.state == "paused" and not recordings.is_recording("peer-1")
            await asyncio.sleep(2.0)
            handle.resume()
            assert handle.state == "recording"
            await asyncio.sleep(1.5)
            path = await handle.stop()
            assert handle.state == "inactive" and not recordings.is_recording("peer-1")
    finally:
        source.stop()

    assert path == tmp_path / "call.webm" and path.stat().st_size > 10_000
    duration, codecs, frames = probe(path)
    assert codecs == {"video": "vp8", "audio": "opus"}
    assert 2.8 <= duration <= 4.3, f"3.5 s recorded (2 s paused left out), file is {duration:.2f} s"
    # The pattern's frame numbers jump by about 2 s worth of frames across the pause, while the
    # file's timestamps do not jump: the paused interval is absent, not frozen or black.
    jumps = [(b[1] - a[1], b[0] - a[0]) for a, b in itertools.pairwise(frames)]
    number_jump, time_gap = max(jumps)
    assert number_jump >= 25, f"expected a ~40-frame jump across the pause, got {number_jump}"
    assert time_gap < 0.5, f"the file must not hold the pause, but has a {time_gap:.2f} s gap"


async def test_stop_all_returns_every_active_recording(tmp_path: Path) -> None:
    local = LocalMedia(TestPatternSource(video={"width": 320, "height": 240, "fps": 15}))
    local_tracks = await local.get_tracks()
    sent = [local.subscribe(t) for t in local_tracks]

    def add(pc: RTCPeerConnection) -> None:
        for track in sent:
            pc.addTrack(track)

    recordings = Recordings()
    try:
        async with peer_pair(add) as (_, answerer):
            local_taps = [TrackTap(local.subscribe(t)) for t in local_tracks]
            remote_audio = TrackTap(await answerer.track("audio"))
            await remote_audio.audio().next(timeout=10)
            one = recordings.start("local", local_taps)
            two = recordings.start(
                "peer-audio", [remote_audio], RecordingOptions(audio_bits_per_second=32_000)
            )
            assert one is not None and two is not None
            assert two.mime_type == "audio/webm;codecs=opus"
            with pytest.raises(RecordingError, match="already being recorded"):
                recordings.start("local", local_taps)
            assert recordings.start("nobody", []) is None
            await asyncio.sleep(1.5)
            results = await recordings.stop_all()
            assert recordings.active == {}
    finally:
        local.stop()

    assert set(results) == {"local", "peer-audio"}
    for stream_id, path in results.items():
        duration, codecs, _ = probe(path)
        assert 0.8 <= duration <= 2.5, f"{stream_id}: {duration:.2f} s"
        expected = {"video": "vp8", "audio": "opus"} if stream_id == "local" else {"audio": "opus"}
        assert codecs == expected
        path.unlink()


@pytest.mark.parametrize(
    ("mime", "expected"),
    [
        ("video/mp4", {"video": "h264", "audio": "aac"}),
        ("video/webm;codecs=vp9,opus", {"video": "vp9", "audio": "opus"}),
        ("audio/ogg", {"audio": "opus"}),
    ],
)
async def test_requested_mime_types_are_written(mime: str, expected: dict[str, str]) -> None:
    source = TestPatternSource(video={"width": 160, "height": 120, "fps": 15})
    tracks = [t for t in await source.get_tracks() if t.kind in expected]
    taps = [TrackTap(t) for t in tracks]
    try:
        handle = Recordings().start("local", taps, RecordingOptions(mime_type=mime))
        assert handle is not None and handle.mime_type == mime
        await asyncio.sleep(1.2)
        path = await handle.stop()
    finally:
        source.stop()
    duration, codecs, _ = probe(path)
    assert codecs == expected
    assert 0.6 <= duration <= 2.2
    path.unlink()
