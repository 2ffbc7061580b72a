"""Mute: the remote side gets black frames and silence (not a frozen frame), then content again."""

from __future__ import annotations

import numpy as np
from aiortc import RTCPeerConnection

from rtcroom.media import (
    LocalMedia,
    RemoteAudioFrame,
    RemoteVideoFrame,
    TestPatternSource,
    TrackTap,
)
from rtcroom.media.frames import FrameStream
from rtcroom.media.patterns import read_frame_number

from .peers import peer_pair

FRESH = 25  # frames to skip after a switch, so what is already in flight has gone by


async def latest_video(stream: FrameStream[RemoteVideoFrame]) -> RemoteVideoFrame:
    frame = await stream.next(timeout=10)
    for _ in range(FRESH):
        frame = await stream.next(timeout=10)
    return frame


async def audio_rms(stream: FrameStream[RemoteAudioFrame]) -> float:
    for _ in range(FRESH):
        await stream.next(timeout=10)
    pcm = np.concatenate([(await stream.next(timeout=10)).to_ndarray() for _ in range(10)])
    return float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2)))


async def test_mute_sends_black_and_silence_then_content_again() -> None:
    local = LocalMedia(TestPatternSource(video={"width": 320, "height": 240, "fps": 30}))
    tracks = [local.subscribe(t) for t in await local.get_tracks()]

    def add(pc: RTCPeerConnection) -> None:
        for track in tracks:
            pc.addTrack(track)

    try:
        async with peer_pair(add) as (_, answerer):
            video = TrackTap(await answerer.track("video")).video(max_queued=1)
            audio = TrackTap(await answerer.track("audio")).audio(max_queued=1000)

            before = await latest_video(video)
            assert before.to_ndarray().mean() > 60
            assert await audio_rms(audio) > 3000

            local.mute_video(True)
            local.mute_audio(True)
            assert local.is_video_muted and local.is_audio_muted
            black = await latest_video(video)
            assert black.to_ndarray().max() < 40, "muted video must be black"
            assert await audio_rms(audio) < 50, "muted audio must be silent"
            # Black frames keep flowing (not a frozen last frame): frames still arrive.
            again = await video.next(timeout=5)
            assert again.to_ndarray().max() < 40

            local.mute_video(False)
            local.mute_audio(False)
            after = await latest_video(video)
            assert after.to_ndarray().mean() > 60
            later = await latest_video(video)
            # The pattern moves on after unmute: it is live, not the frame from before.
            assert read_frame_number(later.frame) > read_frame_number(before.frame)
            assert await audio_rms(audio) > 3000
    finally:
        local.stop()


async def test_mute_flags_apply_to_tracks_opened_later() -> None:
    local = LocalMedia(TestPatternSource())
    local.mute_audio(True)
    tracks = await local.get_tracks()
    try:
        audio = next(t for t in tracks if t.kind == "audio")
        frame = await audio.recv()
        assert not np.any(frame.to_ndarray()), "audio muted before opening stays muted"
        video = next(t for t in tracks if t.kind == "video")
        assert (await video.recv()).to_ndarray(format="gray").mean() > 60
    finally:
        local.stop()
