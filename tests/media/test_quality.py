"""Connection quality summaries from aiortc stats, and RTT from the data-channel ping."""

from __future__ import annotations

import asyncio

from aiortc import RTCPeerConnection

from rtcroom.media import (
    PING_CHANNEL_LABEL,
    QualityMonitor,
    RttProbe,
    TestPatternSource,
    TrackTap,
    create_ping_channel,
)

from .peers import peer_pair


async def test_media_call_summary_has_bitrates_from_the_second_call() -> None:
    source = TestPatternSource(video={"width": 320, "height": 240, "fps": 15})
    tracks = await source.get_tracks()

    def add(pc: RTCPeerConnection) -> None:
        for track in tracks:
            pc.addTrack(track)

    def answer_with_media(pc: RTCPeerConnection) -> None:
        for track in answer_tracks:
            pc.addTrack(track)

    answer_source = TestPatternSource(video={"width": 160, "height": 120, "fps": 10})
    answer_tracks = await answer_source.get_tracks()
    try:
        async with peer_pair(add, answer_with_media) as (offerer, _):
            tap = TrackTap(await offerer.track("video"))
            TrackTap(await offerer.track("audio"))  # drained, so nothing piles up
            monitor = QualityMonitor(offerer.pc, video_tap=lambda: tap)
            first = await monitor.summary()
            assert (
                first.bitrate is None
                or first.bitrate.video is None
                or (first.bitrate.video.outbound is None)
            ), "the first summary has no interval to measure bitrate over"
            assert first.candidate_pair is not None
            assert first.candidate_pair.local_type == "host"
            assert first.candidate_pair.protocol == "udp"
            assert first.candidate_pair.using_relay is False

            await asyncio.sleep(2.5)
            second = await monitor.summary()
            assert second.bitrate is not None and second.bitrate.video and second.bitrate.audio
            assert second.bitrate.video.outbound and second.bitrate.video.outbound > 10_000
            assert second.bitrate.audio.outbound and second.bitrate.audio.outbound > 5_000
            assert second.bitrate.video.inbound and second.bitrate.video.inbound > 1_000
            assert second.bitrate.audio.inbound and second.bitrate.audio.inbound > 1_000
            assert second.packet_loss_percent is not None and second.packet_loss_percent < 5
            assert second.jitter is not None and second.jitter >= 0
            assert second.video is not None
            assert (second.video.frame_width, second.video.frame_height) == (160, 120)
            assert second.video.frames_per_second and 4 <= second.video.frames_per_second <= 16
            assert second.timestamp > first.timestamp
            as_json = second.to_dict()
            assert as_json["bitrate"]["video"]["outbound"] > 0
            assert as_json["candidatePair"]["usingRelay"] is False
            assert "packetLossPercent" in as_json and "rtt_source" not in as_json
            raw = await monitor.get_raw_stats()
            assert {s.type for s in raw.values()} >= {"outbound-rtp", "inbound-rtp", "transport"}
    finally:
        source.stop()
        answer_source.stop()


async def test_rtt_is_measured_in_a_data_only_call() -> None:
    offer_probe, answer_probe = RttProbe(interval=0.2), RttProbe(interval=0.2)

    def setup(pc: RTCPeerConnection) -> None:
        pc.createDataChannel("chat")
        offer_probe.attach(create_ping_channel(pc))

    def setup_answer(pc: RTCPeerConnection) -> None:
        answer_probe.watch(pc)

    async with peer_pair(setup, setup_answer) as (offerer, answerer):
        monitor = QualityMonitor(offerer.pc, rtt_probe=offer_probe)
        other = QualityMonitor(answerer.pc, rtt_probe=answer_probe)
        for _ in range(200):  # up to 10 s
            if offer_probe.rtt is not None and answer_probe.rtt is not None:
                break
            await asyncio.sleep(0.05)
        summary = await monitor.summary()
        assert summary.rtt is not None and 0 < summary.rtt < 1000
        assert summary.rtt_source == "ping"
        assert summary.bitrate is None and summary.video is None
        assert (await other.summary()).rtt is not None
        assert answer_probe.channel is not None
        assert answer_probe.channel.label == PING_CHANNEL_LABEL
        await offer_probe.close()
        await answer_probe.close()


async def test_a_peer_that_does_not_ping_is_sent_nothing() -> None:
    """Like a browser app written for Agentuity: it gets the channel but not a single message."""
    probe = RttProbe(interval=0.1)
    received: list[object] = []
    opened = asyncio.Event()

    def setup(pc: RTCPeerConnection) -> None:
        probe.attach(create_ping_channel(pc))

    def unaware(pc: RTCPeerConnection) -> None:
        @pc.on("datachannel")
        def on_channel(channel: object) -> None:
            opened.set()
            channel.on("message", received.append)  # type: ignore[attr-defined]

    async with peer_pair(setup, unaware):
        await asyncio.wait_for(opened.wait(), 10)
        await asyncio.sleep(1.5)
        assert received == [] and probe.rtt is None
        await probe.close()
