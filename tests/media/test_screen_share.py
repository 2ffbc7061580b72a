"""Screen share from a real Xvfb display through FFmpeg's x11grab."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiortc import RTCPeerConnection

from rtcroom.media import (
    DisplayMediaSource,
    LocalMedia,
    RemoteVideoFrame,
    ScreenShareError,
    TestPatternSource,
    TrackTap,
)
from rtcroom.media.frames import FrameStream

from .peers import negotiate, peer_pair
from .xvfb import XVFB_SIZE, xvfb_display


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with xvfb_display() as name:
        yield name


async def wait_for_size(
    stream: FrameStream[RemoteVideoFrame], size: tuple[int, int], limit: int = 600
) -> RemoteVideoFrame:
    seen = []
    async with asyncio.timeout(20):
        for _ in range(limit):
            frame = await stream.next(timeout=10)
            if (frame.width, frame.height) == size:
                return frame
            seen.append((frame.width, frame.height))
    raise AssertionError(f"never got {size}; last sizes {seen[-5:]}")


async def test_screen_share_replaces_video_and_back(display: str) -> None:
    local = LocalMedia(TestPatternSource(video={"width": 320, "height": 240, "fps": 15}))
    tracks = [local.subscribe(t) for t in await local.get_tracks()]

    def add(pc: RTCPeerConnection) -> None:
        for track in tracks:
            pc.addTrack(track)

    try:
        async with peer_pair(add) as (offerer, answerer):
            video = TrackTap(await answerer.track("video")).video(max_queued=2)
            await wait_for_size(video, (320, 240))

            again = await local.start_screen_share(
                [offerer.pc], DisplayMediaSource({"frameRate": 10}, display=display)
            )
            assert again == [], "a video sender existed, so no renegotiation is needed"
            assert local.is_screen_sharing
            await wait_for_size(video, XVFB_SIZE)

            await local.stop_screen_share([offerer.pc])
            assert not local.is_screen_sharing
            frame = await wait_for_size(video, (320, 240))
            assert frame.to_ndarray().mean() > 60, "the camera pattern is back"
    finally:
        local.stop()


async def test_screen_share_in_audio_only_call_needs_renegotiation(display: str) -> None:
    local = LocalMedia(TestPatternSource(video=False))
    tracks = [local.subscribe(t) for t in await local.get_tracks()]
    try:
        async with peer_pair(lambda pc: pc.addTrack(tracks[0])) as (offerer, answerer):
            pcs = await local.start_screen_share(
                [offerer.pc], DisplayMediaSource({"frameRate": 10}, display=display)
            )
            assert pcs == [offerer.pc]
            await negotiate(offerer, answerer)
            remote = await answerer.track("video")
            stream = TrackTap(remote).video()
            await wait_for_size(stream, XVFB_SIZE)
            await local.stop_screen_share([offerer.pc])
            # No camera to go back to: video stops, and sharing again works.
            await asyncio.sleep(0.5)
            stream.clear()
            with pytest.raises(TimeoutError):
                await stream.next(timeout=1.0)
            pcs = await local.start_screen_share(
                [offerer.pc], DisplayMediaSource({"frameRate": 10}, display=display)
            )
            if pcs:
                await negotiate(offerer, answerer)
            await wait_for_size(stream, XVFB_SIZE)
            await local.stop_screen_share([offerer.pc])
    finally:
        local.stop()


async def test_screen_share_without_display_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(ValueError, match="set DISPLAY"):
        DisplayMediaSource()
    local = LocalMedia(TestPatternSource(video=False))
    with pytest.raises(ScreenShareError, match="Failed to get screen video track"):
        await local.start_screen_share([], TestPatternSource(video=False))


async def test_a_share_whose_source_ends_stops_itself() -> None:
    from rtcroom.client import CallCallbacks, WebRTCCall
    from rtcroom.media import CustomStreamSource, TestPatternVideoTrack
    from tests.support import signaling_server

    options = {"ice_servers": [], "ice_host_addresses": ["127.0.0.1"]}
    camera = TestPatternSource(video={"width": 320, "height": 240, "fps": 15}, audio=False)
    seen: list[str] = []
    async with signaling_server("uvicorn") as server:
        async with (
            WebRTCCall(
                "share",
                server.url,
                media=camera,
                callbacks=CallCallbacks(
                    on_screen_share_start=lambda: seen.append("start"),
                    on_screen_share_stop=lambda: seen.append("stop"),
                ),
                **options,  # type: ignore[arg-type]
            ) as sharer,
            WebRTCCall("share", server.url, **options) as viewer,  # type: ignore[arg-type]
        ):
            await asyncio.wait_for(viewer.wait_connected(), 20)
            assert sharer.peer_id is not None
            video = viewer.remote_video(sharer.peer_id)
            await wait_for_size(video, (320, 240))
            window = TestPatternVideoTrack(200, 100, fps=15)  # stands in for a window
            await sharer.start_screen_share(CustomStreamSource([window]))
            await wait_for_size(video, (200, 100))
            window.stop()  # the shared window closes
            await wait_for_size(video, (320, 240))
            assert not sharer.is_screen_sharing
            assert seen == ["start", "stop"]
