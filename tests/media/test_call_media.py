"""End to end: two WebRTCCall peers through a real signaling server, with media."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import av
import numpy as np
import pytest

from rtcroom.client import UnknownPeerError, WebRTCCall
from rtcroom.media import (
    PING_CHANNEL_LABEL,
    DisplayMediaSource,
    MediaSourceError,
    RemoteVideoFrame,
    TestPatternSource,
)
from rtcroom.media.frames import FrameStream
from tests.support import signaling_server

from .xvfb import XVFB_SIZE, xvfb_display


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with xvfb_display() as name:
        yield name


def make_call(url: str, **options: object) -> WebRTCCall:
    return WebRTCCall(
        "media-room",
        url,
        ice_servers=[],
        ice_host_addresses=["127.0.0.1"],
        data_channels=["chat"],
        **options,  # type: ignore[arg-type]
    )


async def next_matching(
    stream: FrameStream[RemoteVideoFrame], check: object, limit: int = 300
) -> RemoteVideoFrame:
    async with asyncio.timeout(20):
        for _ in range(limit):
            frame = await stream.next(timeout=10)
            if check(frame):  # type: ignore[operator]
                return frame
    raise AssertionError("no frame matched")


async def test_two_python_peers_with_media_through_a_signaling_server(display: str) -> None:
    async with signaling_server("uvicorn") as server:
        sender = make_call(
            server.url, media=TestPatternSource(video={"width": 320, "height": 240, "fps": 15})
        )
        viewer = make_call(server.url)  # data only: receives, sends nothing
        try:
            await sender.connect()
            await viewer.connect()
            await asyncio.wait_for(viewer.wait_connected(), 20)
            await asyncio.wait_for(sender.wait_connected(), 20)
            assert sender.peer_id is not None and viewer.peer_id is not None
            peer = sender.peer_id

            video = viewer.remote_video(peer)
            audio = viewer.remote_audio(peer, sample_rate=16_000, channels=1)
            frame = await video.next(timeout=15)
            assert frame.to_ndarray().shape == (240, 320, 3)
            sound = await audio.next(timeout=15)
            assert sound.sample_rate == 16_000 and sound.to_ndarray().shape[1] == 1

            sender.mute_video(True)
            assert sender.is_video_muted and not sender.is_audio_muted
            await next_matching(video, lambda f: f.to_ndarray().max() < 40)
            sender.mute_video(False)
            await next_matching(video, lambda f: f.to_ndarray().mean() > 60)

            await sender.start_screen_share(DisplayMediaSource({"frameRate": 10}, display=display))
            assert sender.is_screen_sharing
            await next_matching(video, lambda f: (f.width, f.height) == XVFB_SIZE)
            await sender.stop_screen_share()
            assert not sender.is_screen_sharing
            await next_matching(video, lambda f: (f.width, f.height) == (320, 240))

            local = sender.start_recording("local")
            remote = viewer.start_recording(peer, video_bits_per_second=400_000)
            assert local is not None and remote is not None
            assert viewer.is_recording(peer) and sender.is_recording("local")
            assert viewer.start_recording("peer-nobody") is None
            first = await viewer.get_quality_summary(peer)
            await asyncio.sleep(2.0)
            summary = await viewer.get_quality_summary(peer)
            assert first is not None and summary is not None
            assert summary.bitrate and summary.bitrate.video and summary.bitrate.video.inbound
            assert summary.bitrate.video.inbound > 1_000
            assert summary.rtt is not None and summary.rtt_source == "ping"
            assert summary.video and summary.video.frame_width == 320
            assert set(await viewer.get_all_quality_summaries()) == {peer}
            assert await viewer.get_quality_summary("peer-nobody") is None
            assert await viewer.get_raw_stats(peer)

            files = {**await viewer.stop_all_recordings(), **await sender.stop_all_recordings()}
            assert set(files) == {"local", peer}
            for path in files.values():
                with av.open(str(path)) as container:
                    assert {s.type for s in container.streams} == {"audio", "video"}
                    assert sum(1 for _ in container.decode(video=0)) >= 10
                path.unlink()

            # The RTT probe's channel is rtcroom's own: the application never sees it.
            assert PING_CHANNEL_LABEL not in viewer.get_data_channel_labels()
            assert PING_CHANNEL_LABEL not in sender.get_data_channel_labels()
            with pytest.raises(UnknownPeerError, match="no peer"):
                viewer.remote_video("peer-nobody")

            # When the viewer leaves, the sender unsubscribes what fed that connection (aiortc
            # would leave the relay queueing frames for a sender that is gone).
            pc = sender.sessions[viewer.peer_id].pc
            sent = [t.sender.track for t in pc.getTransceivers() if t.sender.track is not None]
            assert {t.kind for t in sent} == {"audio", "video"}
            await viewer.hangup()
            for _ in range(500):
                if all(t.readyState == "ended" for t in sent):
                    break
                await asyncio.sleep(0.02)
            assert all(t.readyState == "ended" for t in sent)
            assert sender.local_media is not None
            assert sender.local_media.audio_track is not None
            assert sender.local_media.audio_track.readyState == "live", "the source goes on"
        finally:
            await asyncio.gather(sender.hangup(), viewer.hangup())


async def test_reader_asked_for_before_the_track_arrives_gets_it() -> None:
    async with signaling_server("aiohttp") as server:
        first = make_call(server.url)
        second = make_call(server.url, media=TestPatternSource(video={"width": 160, "height": 120}))
        try:
            await first.connect()
            await second.connect()
            assert second.peer_id is not None
            for _ in range(500):
                if second.peer_id in first.sessions:
                    break
                await asyncio.sleep(0.02)
            stream = first.remote_video(second.peer_id, format="gray")
            frame = await stream.next(timeout=20)
            assert frame.to_ndarray().shape == (120, 160)
            assert np.asarray(frame.to_ndarray()).mean() > 60
            copy = first.remote_track(second.peer_id, "audio")
            assert copy is not None and copy.kind == "audio"
            assert (await asyncio.wait_for(copy.recv(), 10)).sample_rate == 48_000
            # When the peer leaves, its readers end instead of waiting forever.
            await second.hangup()
            async with asyncio.timeout(20):
                async for _ in stream:
                    pass
            copy.stop()
        finally:
            await asyncio.gather(first.hangup(), second.hangup())


def test_media_option_is_checked_early() -> None:
    url = "ws://127.0.0.1:9/api/call/signal"
    with pytest.raises(TypeError, match="media must be False"):
        WebRTCCall("room", url, media="camera")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="both width and height"):
        WebRTCCall("room", url, media={"video": {"width": 640}, "audio": False})
    call = WebRTCCall("room", url, media=TestPatternSource())
    assert not call.is_data_only and call.local_media is not None
    assert WebRTCCall("room", url).is_data_only


async def test_missing_camera_fails_connect_with_a_clear_error() -> None:
    async with signaling_server("uvicorn") as server:
        call = make_call(
            server.url, media={"video": {"deviceId": "/dev/video-none"}, "audio": False}
        )
        with pytest.raises(MediaSourceError, match="camera"):
            await call.connect()
        await call.hangup()


async def rtt_of(call: WebRTCCall, peer: str, attempts: int = 100) -> float | None:
    """The summary's rtt, polled every 0.1 s (pings go out once a second)."""
    for _ in range(attempts):
        summary = await call.get_quality_summary(peer)
        if summary is not None and summary.rtt is not None:
            return summary.rtt
        await asyncio.sleep(0.1)
    return None


async def test_data_only_call_has_rtt_from_the_ping_channel() -> None:
    async with signaling_server("uvicorn") as server:
        first, second = make_call(server.url), make_call(server.url)
        try:
            await first.connect()
            await second.connect()
            await asyncio.wait_for(first.wait_connected(), 20)
            assert second.peer_id is not None and first.peer_id is not None
            assert (rtt := await rtt_of(first, second.peer_id)) is not None and rtt > 0
            assert await rtt_of(second, first.peer_id) is not None
            summary = await first.get_quality_summary(second.peer_id)
            assert summary is not None and summary.rtt_source == "ping"
            assert summary.bitrate is None, "no media in a data-only call"
        finally:
            await asyncio.gather(first.hangup(), second.hangup())


async def test_rtt_ping_can_be_switched_off() -> None:
    async with signaling_server("uvicorn") as server:
        first, second = make_call(server.url), make_call(server.url)
        second.rtt_ping = False  # the newcomer offers, so it decides
        try:
            await first.connect()
            await second.connect()
            await asyncio.wait_for(first.wait_connected(), 20)
            assert second.peer_id is not None
            pc = first.sessions[second.peer_id].pc
            assert pc.sctp is not None
            assert await rtt_of(first, second.peer_id, attempts=15) is None
        finally:
            await asyncio.gather(first.hangup(), second.hangup())


async def test_mute_survives_hangup_and_the_next_connect_sends_again() -> None:
    async with signaling_server("uvicorn") as server:
        sender = make_call(
            server.url, media=TestPatternSource(video={"width": 160, "height": 120, "fps": 15})
        )
        viewer = make_call(server.url)
        try:
            await viewer.connect()
            await sender.connect()
            assert sender.peer_id is not None
            await viewer.remote_video(sender.peer_id).next(timeout=20)
            sender.mute_video(True)
            await sender.hangup()
            assert sender.is_video_muted, "flags are kept across hangup (as in Agentuity)"
            await sender.connect()
            assert sender.peer_id is not None
            for _ in range(500):
                if sender.peer_id in viewer.sessions:
                    break
                await asyncio.sleep(0.02)
            video = viewer.remote_video(sender.peer_id)
            # Fresh tracks, still muted: black, unlike Agentuity's fresh enabled tracks.
            await next_matching(video, lambda f: f.to_ndarray().max() < 40)
            sender.mute_video(False)
            await next_matching(video, lambda f: f.to_ndarray().mean() > 60)
        finally:
            await asyncio.gather(sender.hangup(), viewer.hangup())


async def test_screen_share_in_an_audio_only_call_renegotiates() -> None:
    from rtcroom.media import CustomStreamSource, TestPatternVideoTrack

    async with signaling_server("aiohttp") as server:
        sender = make_call(server.url, media=TestPatternSource(video=False))
        viewer = make_call(server.url)
        try:
            await sender.connect()
            await viewer.connect()
            await asyncio.wait_for(sender.wait_connected(), 20)
            assert sender.peer_id is not None
            await viewer.remote_audio(sender.peer_id).next(timeout=20)
            video = viewer.remote_video(sender.peer_id)  # no video track yet: it waits
            window = TestPatternVideoTrack(200, 100, fps=15)
            await asyncio.wait_for(sender.start_screen_share(CustomStreamSource([window])), 30)
            frame = await video.next(timeout=20)
            assert (frame.width, frame.height) == (200, 100)
            await sender.stop_screen_share()
            assert not sender.is_screen_sharing and window.readyState == "ended"
        finally:
            await asyncio.gather(sender.hangup(), viewer.hangup())
