"""Browser↔browser calls through rtcroom.js in real Chromium (fake camera and microphone)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from playwright.async_api import Page

from .conftest import OpenPage
from .harness import events, frames_rising, peer_id, start_call, wait_for, wait_state

pytestmark = pytest.mark.asyncio(loop_scope="module")

SIGNAL = "/api/call/signal"


def room() -> str:
    return f"room-{uuid.uuid4().hex[:8]}"


async def join(page: Page, room_id: str, **options: Any) -> None:
    options.setdefault("iceServers", [])
    await start_call(page, roomId=room_id, signalUrl=SIGNAL, **options)
    await peer_id(page)  # joined


async def connected_pair(open_page: OpenPage, **options: Any) -> tuple[Page, Page, str, str]:
    """Two pages in one new room, both 'connected'. Returns (a, b, a's id, b's id)."""
    room_id = room()
    a, b = await open_page(), await open_page()
    await join(a, room_id, **options)
    await join(b, room_id, **options)
    await wait_state(a, "connected")
    await wait_state(b, "connected")
    return a, b, await peer_id(a), await peer_id(b)


async def test_video_flows_both_ways(open_page: OpenPage) -> None:
    a, b, ida, idb = await connected_pair(open_page)
    first, second = await frames_rising(a, idb)
    assert second > first, f"a's decoder stalled on b's video: {first} -> {second}"
    first, second = await frames_rising(b, ida)
    assert second > first, f"b's decoder stalled on a's video: {first} -> {second}"
    size = await b.evaluate("(p) => window.inbound(p, 'video')", ida)
    assert (size["frameWidth"], size["frameHeight"]) == (640, 480)  # the fake camera
    remote_ids = await a.evaluate("window.call.remotePeerIds")
    assert remote_ids == [idb]


async def test_chat_both_ways_string_json_binary(open_page: OpenPage) -> None:
    a, b, ida, idb = await connected_pair(
        open_page, media=False, dataChannels=[{"label": "chat", "ordered": True}]
    )
    assert await a.evaluate("window.call.isDataOnly") is True
    await wait_for(a, "(p) => window.call.getDataChannelState(p, 'chat') === 'open'", idb)
    await wait_for(b, "(p) => window.call.getDataChannelState(p, 'chat') === 'open'", ida)
    assert await a.evaluate("window.call.sendString('chat', 'hello from a')") is True
    assert await b.evaluate("(p) => window.call.sendJSONTo(p, 'chat', {n: 1, s: 'b'})", ida)
    assert await b.evaluate("window.call.sendBinary('chat', new Uint8Array([0, 1, 255]))")
    assert await a.evaluate("window.call.sendString('nope', 'x')") is False  # no such channel

    got_b = await wait_for(b, "() => window.messages.length >= 1 && window.messages")
    assert got_b == [{"from": ida, "label": "chat", "data": "hello from a"}]
    got_a = await wait_for(a, "() => window.messages.length >= 2 && window.messages")
    assert got_a == [
        {"from": idb, "label": "chat", "data": {"n": 1, "s": "b"}},
        {"from": idb, "label": "chat", "data": {"bytes": [0, 1, 255]}},
    ]
    assert await a.evaluate("window.call.getDataChannelLabels()") == ["chat"]
    assert await a.evaluate("window.call.closeDataChannel('chat')") is True
    await wait_for(b, "(p) => window.call.getDataChannelState(p, 'chat') === null", ida)


async def test_channel_created_after_connect(open_page: OpenPage) -> None:
    a, b, ida, idb = await connected_pair(open_page, media=False, dataChannels=[{"label": "c"}])
    await a.evaluate("window.call.createDataChannel({label: 'extra', ordered: false})")
    await wait_for(b, "(p) => window.call.getDataChannelState(p, 'extra') === 'open'", ida)
    await wait_for(a, "(p) => window.call.sendStringTo(p, 'extra', 'late')", idb)
    got = await wait_for(b, "() => window.messages.length >= 1 && window.messages")
    assert got == [{"from": ida, "label": "extra", "data": "late"}]


async def test_mute_is_seen_by_the_remote(open_page: OpenPage) -> None:
    a, b, _, idb = await connected_pair(open_page)
    await wait_for(a, "async (p) => (await window.brightness(p)) > 20", idb)  # the test pattern
    await b.evaluate("window.call.muteVideo(true); window.call.muteAudio(true)")
    state = await b.evaluate("window.call.getState()")
    assert state["isVideoMuted"] is True and state["isAudioMuted"] is True
    tracks = await b.evaluate("window.call.localStream.getTracks().map((t) => t.enabled)")
    assert tracks == [False, False]
    await wait_for(a, "async (p) => (await window.brightness(p)) < 3", idb)  # black frames
    await b.evaluate("window.call.muteVideo(false)")
    await wait_for(a, "async (p) => (await window.brightness(p)) > 20", idb)


async def test_screen_share_swaps_video_and_back(open_page: OpenPage) -> None:
    a, b, _, idb = await connected_pair(open_page)
    # What the other side decodes: 4:3 from the fake camera, 16:9 from the fake screen (the
    # exact size may shrink under CPU load; the shape does not).
    shape = (
        "async ([p, w, h]) => { const v = await window.inbound(p, 'video');"
        " return v && v.frameWidth > 0 && v.frameWidth * h === v.frameHeight * w"
        " && [v.frameWidth, v.frameHeight]; }"
    )
    sending = "window.call.localStream.getVideoTracks().map((t) => t.getSettings().width)"
    await wait_for(a, shape, [idb, 4, 3])
    await b.evaluate("window.call.startScreenShare()")
    assert await b.evaluate("window.call.isScreenSharing") is True
    assert await b.evaluate(sending) == [1280]  # the display source is sent now
    width, height = await wait_for(a, shape, [idb, 16, 9])
    assert 640 <= width <= 1280 and height == width * 9 // 16
    await b.evaluate("window.call.stopScreenShare()")
    assert await b.evaluate("window.call.isScreenSharing") is False
    assert await b.evaluate(sending) == [640]  # the camera again
    await wait_for(a, shape, [idb, 4, 3])
    names = [e[0] for e in await events(b)]
    assert names.count("onScreenShareStart") == 1 and names.count("onScreenShareStop") == 1


async def test_screen_share_in_a_data_only_call_renegotiates(open_page: OpenPage) -> None:
    a, b, _, idb = await connected_pair(open_page, media=False, dataChannels=[{"label": "c"}])
    await b.evaluate("window.call.startScreenShare()")
    first, second = await frames_rising(a, idb)
    assert second > first
    await b.evaluate("window.call.stopScreenShare()")
    await wait_for(a, "(p) => window.call.getRemoteStream(p).getVideoTracks().length === 0", idb)


async def test_recording_gives_a_webm_blob(open_page: OpenPage) -> None:
    a, _, _, idb = await connected_pair(open_page)
    result = await a.evaluate(
        """async (remote) => {
        const local = window.call.startRecording('local');
        const other = window.call.startRecording(remote);
        const states = [local.state, window.call.isRecording('local')];
        await new Promise((r) => setTimeout(r, 700));
        local.pause();
        states.push(local.state, window.call.isRecording('local'));
        local.resume();
        states.push(local.state);
        await new Promise((r) => setTimeout(r, 700));
        const blob = await local.stop();
        const head = [...new Uint8Array(await blob.slice(0, 4).arrayBuffer())];
        const all = await window.call.stopAllRecordings();
        const otherBlob = all.get(remote);
        return { states, head, size: blob.size, type: blob.type, after: local.state,
                 missing: window.call.startRecording('nobody'),
                 otherHead: [...new Uint8Array(await otherBlob.slice(0, 4).arrayBuffer())],
                 otherSize: otherBlob.size, stillRecording: window.call.isRecording(remote) };
    }""",
        idb,
    )
    assert result["states"] == ["recording", True, "paused", False, "recording"]
    assert result["head"] == [0x1A, 0x45, 0xDF, 0xA3], "not a webm (EBML) file"
    assert result["size"] > 1000 and result["type"].startswith("video/webm")
    assert result["after"] == "inactive"
    assert result["missing"] is None
    assert result["otherHead"] == [0x1A, 0x45, 0xDF, 0xA3] and result["otherSize"] > 1000
    assert result["stillRecording"] is False


async def test_quality_summary_rtt_then_bitrates(open_page: OpenPage) -> None:
    a, _, _, idb = await connected_pair(open_page)
    await frames_rising(a, idb)
    first = await a.evaluate("(p) => window.call.getQualitySummary(p)", idb)
    assert isinstance(first["rtt"], int | float) and first["rtt"] >= 0
    assert "bitrate" not in first  # rates need an interval
    assert first["candidatePair"] == {
        "localType": "host",
        "remoteType": "host",
        "protocol": "udp",
        "usingRelay": False,
    }
    await asyncio.sleep(1.0)
    second = await a.evaluate("(p) => window.call.getQualitySummary(p)", idb)
    assert second["bitrate"]["video"]["inbound"] > 10_000
    assert second["bitrate"]["video"]["outbound"] > 10_000
    assert second["bitrate"]["audio"]["inbound"] > 1_000
    assert 0 <= second["packetLossPercent"] < 5  # loopback: next to none in the last second
    assert second["video"]["frameWidth"] == 640
    all_summaries = await a.evaluate(
        "async () => [...(await window.call.getAllQualitySummaries()).keys()]"
    )
    assert all_summaries == [idb]
    assert await a.evaluate("window.call.getQualitySummary('nobody')") is None


async def test_three_browsers_form_a_mesh(open_page: OpenPage) -> None:
    room_id = room()
    pages = [await open_page() for _ in range(3)]
    for page in pages:
        await join(page, room_id, media=False, dataChannels=[{"label": "chat"}])
    ids = [await peer_id(p) for p in pages]
    for page, me in zip(pages, ids, strict=True):
        others = sorted(i for i in ids if i != me)
        await wait_for(
            page,
            "(o) => o.every((p) => window.call.getDataChannelState(p, 'chat') === 'open')",
            others,
        )
        assert sorted(await page.evaluate("window.call.remotePeerIds")) == others
        assert await page.evaluate("window.call.sendString('chat', window.call.peerId)")
    for page, me in zip(pages, ids, strict=True):
        got = await wait_for(page, "() => window.messages.length >= 2 && window.messages")
        assert sorted(m["data"] for m in got) == sorted(i for i in ids if i != me)
        assert all(m["from"] == m["data"] for m in got)


async def test_peer_leaving_returns_the_other_to_signaling(open_page: OpenPage) -> None:
    a, b, _, idb = await connected_pair(open_page, media=False, dataChannels=[{"label": "c"}])
    await b.evaluate("window.call.hangup()")
    assert await b.evaluate("window.call.state") == "idle"
    await wait_state(a, "signaling")
    assert ["onPeerLeft", idb] in await events(a)
    assert await a.evaluate("window.call.remotePeerIds") == []
    disconnect = [e for e in await events(b) if e[0] == "onDisconnect"]
    assert disconnect == [["onDisconnect", "hangup"]]


async def test_glare_both_sides_renegotiate_at_once(open_page: OpenPage) -> None:
    """Both peers add video at the same moment: two offers cross (glare). Perfect negotiation
    lets the polite side roll back, and both end up receiving the other's screen."""
    a, b, ida, idb = await connected_pair(open_page, media=False, dataChannels=[{"label": "c"}])
    await asyncio.gather(
        a.evaluate("window.call.startScreenShare()"), b.evaluate("window.call.startScreenShare()")
    )
    for page, remote in ((a, idb), (b, ida)):
        first, second = await frames_rising(page, remote)
        assert second > first
        assert await page.evaluate("window.call.state") == "connected"
    assert await a.evaluate("(p) => window.call.sendStringTo(p, 'c', 'still here')", idb)
    got = await wait_for(b, "() => window.messages.length >= 1 && window.messages")
    assert got == [{"from": ida, "label": "c", "data": "still here"}]


async def test_quality_summary_uses_the_selected_pair_and_the_last_interval(
    open_page: OpenPage,
) -> None:
    """Against two hand-made stats reports: the reference client takes any succeeded pair and
    cumulative, audio-only loss; rtcroom.js takes the selected pair and the last interval."""
    page = await open_page()
    summary = await page.evaluate(
        """() => {
        const report = (t, lostA, recvA, lostV, recvV, bytes) => new Map([
            ['T', {id: 'T', type: 'transport', selectedCandidatePairId: 'P2'}],
            ['P1', {id: 'P1', type: 'candidate-pair', state: 'succeeded', nominated: false,
                    currentRoundTripTime: 0.5, localCandidateId: 'L1', remoteCandidateId: 'R'}],
            ['P2', {id: 'P2', type: 'candidate-pair', state: 'succeeded', nominated: true,
                    currentRoundTripTime: 0.02, localCandidateId: 'L2', remoteCandidateId: 'R'}],
            ['P3', {id: 'P3', type: 'candidate-pair', state: 'succeeded', nominated: false,
                    currentRoundTripTime: 0.9, localCandidateId: 'L1', remoteCandidateId: 'R'}],
            ['L1', {id: 'L1', type: 'local-candidate', candidateType: 'relay', protocol: 'udp'}],
            ['L2', {id: 'L2', type: 'local-candidate', candidateType: 'host', protocol: 'udp'}],
            ['R', {id: 'R', type: 'remote-candidate', candidateType: 'srflx'}],
            ['A', {id: 'A', type: 'inbound-rtp', kind: 'audio', timestamp: t, jitter: 0.004,
                   packetsLost: lostA, packetsReceived: recvA, bytesReceived: bytes}],
            ['V', {id: 'V', type: 'inbound-rtp', kind: 'video', timestamp: t,
                   packetsLost: lostV, packetsReceived: recvV, bytesReceived: bytes * 10,
                   frameWidth: 640, frameHeight: 480, framesPerSecond: 30, framesDropped: 1}],
        ]);
        const first = report(1000, 100, 900, 0, 1000, 1000);    // 100 lost early on
        const second = report(3000, 100, 1900, 50, 1950, 5000); // none audio, 50 video since
        return [window.rtc.qualitySummary(first), window.rtc.qualitySummary(second, first)];
    }"""
    )
    first, second = summary
    assert first["rtt"] == 20  # the selected pair (P2), not the last succeeded one (P3)
    assert first["candidatePair"] == {
        "localType": "host",
        "remoteType": "srflx",
        "protocol": "udp",
        "usingRelay": False,
    }
    assert first["packetLossPercent"] == 5  # 100 of 2000 since the start
    assert "bitrate" not in first
    # Last interval: 50 lost of 50 + 1000 + 950 (audio + video), not 150/4000 cumulative.
    assert second["packetLossPercent"] == 2.5
    assert second["bitrate"]["audio"]["inbound"] == 16_000  # 4000 bytes in 2 s
    assert second["bitrate"]["video"]["inbound"] == 160_000
    assert second["jitter"] == 4
    assert second["video"] == {
        "framesPerSecond": 30,
        "framesDropped": 1,
        "frameWidth": 640,
        "frameHeight": 480,
    }
