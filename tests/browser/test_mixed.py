"""Browser (rtcroom.js in Chromium) ↔ Python peer (``rtcroom.client.WebRTCCall`` on aiortc)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from fractions import Fraction

import av
import numpy as np
import pytest
import pytest_asyncio
from aiortc import AudioStreamTrack, MediaStreamTrack, VideoStreamTrack
from playwright.async_api import Page

from rtcroom.client import TrackAddedEvent, WebRTCCall
from tests.client.helpers import Recorder, make_call
from tests.support import run_uvicorn

from .conftest import OpenPage
from .harness import events, frames_rising, harness_app, peer_id, start_call, wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

WAIT = 20.0
RED_BGR = (40, 40, 220)  # what the Python peer's camera shows


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def base_url() -> AsyncIterator[str]:
    """Room for 3 browsers and 1 Python peer."""
    async with run_uvicorn(harness_app(max_peers=4)) as port:
        yield f"http://127.0.0.1:{port}"


def signal_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/api/call/signal"


def room() -> str:
    return f"room-{uuid.uuid4().hex[:8]}"


class RedFrames(VideoStreamTrack):
    """A 320x240 solid red picture at aiortc's default 30 fps."""

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        picture = np.empty((240, 320, 3), np.uint8)
        picture[:] = RED_BGR
        frame = av.VideoFrame.from_ndarray(picture, format="bgr24")
        frame.pts, frame.time_base = pts, Fraction(time_base)
        return frame


class RedCamera:
    """A TrackSource for the Python peer."""

    def __init__(self) -> None:
        self.stopped = False

    async def get_tracks(self) -> list[MediaStreamTrack]:
        return [RedFrames()]

    def stop(self) -> None:
        self.stopped = True


async def browser_join(page: Page, base: str, room_id: str, **options: object) -> str:
    await start_call(
        page,
        roomId=room_id,
        signalUrl="/api/call/signal",
        iceServers=[],
        **{"media": False, "dataChannels": [{"label": "chat"}], **options},
    )
    return await peer_id(page)


async def join_in_order(
    python_first: bool, page: Page, py: WebRTCCall, base: str, room_id: str, **browser: object
) -> str:
    if python_first:
        await py.connect()
        return await browser_join(page, base, room_id, **browser)
    browser_id = await browser_join(page, base, room_id, **browser)
    await py.connect()
    return browser_id


ORDERS = [pytest.param(True, id="python-first"), pytest.param(False, id="browser-first")]


@pytest.mark.parametrize("python_first", ORDERS)
async def test_string_json_binary_both_ways(
    open_page: OpenPage, base_url: str, python_first: bool
) -> None:
    room_id = room()
    page = await open_page()
    py = make_call(signal_url(base_url), room_id)
    rec = Recorder(py)
    try:
        browser_id = await join_in_order(python_first, page, py, base_url, room_id)
        await py.wait_connected(timeout=WAIT)
        await wait_for(
            page, "(p) => window.call.getDataChannelState(p, 'chat') === 'open'", py.peer_id
        )
        assert py.send_string("chat", "hello browser")
        assert py.send_json("chat", {"n": 1, "list": [1, "two"]})
        assert py.send_binary("chat", b"\x00\x01\xfe\xff")
        got = await wait_for(page, "() => window.messages.length >= 3 && window.messages")
        assert got == [
            {"from": py.peer_id, "label": "chat", "data": "hello browser"},
            {"from": py.peer_id, "label": "chat", "data": {"n": 1, "list": [1, "two"]}},
            {"from": py.peer_id, "label": "chat", "data": {"bytes": [0, 1, 254, 255]}},
        ]
        await page.evaluate(
            """(p) => { window.call.sendStringTo(p, 'chat', 'hello python');
                        window.call.sendJSON('chat', {k: [true, null]});
                        window.call.sendBinary('chat', new Uint8Array([9, 8, 7])); }""",
            py.peer_id,
        )
        await rec.until(lambda: len(rec.messages("chat")) >= 3, WAIT)
        received = [(m.peer_id, m.data) for m in rec.messages("chat")]
        assert received == [
            (browser_id, "hello python"),
            (browser_id, {"k": [True, None]}),
            (browser_id, b"\x09\x08\x07"),
        ]
        assert isinstance(rec.messages("chat")[2].raw, bytes)
    finally:
        await rec.close()
        await py.hangup()


@pytest.mark.parametrize("python_first", ORDERS)
async def test_browser_camera_is_decoded_by_python(
    open_page: OpenPage, base_url: str, python_first: bool
) -> None:
    room_id = room()
    page = await open_page()
    py = make_call(signal_url(base_url), room_id)
    rec = Recorder(py)
    try:
        browser_id = await join_in_order(
            python_first, page, py, base_url, room_id, media={"video": True, "audio": True}
        )
        await rec.until(
            lambda: {e.track.kind for e in rec.of(TrackAddedEvent)} >= {"video", "audio"}, WAIT
        )
        video = next(e for e in rec.of(TrackAddedEvent) if e.track.kind == "video")
        assert video.peer_id == browser_id
        frames = [await asyncio.wait_for(video.track.recv(), WAIT) for _ in range(10)]
        assert {(f.width, f.height) for f in frames} == {(640, 480)}  # Chromium's fake camera
        assert frames[-1].pts > frames[0].pts
        audio = next(e for e in rec.of(TrackAddedEvent) if e.track.kind == "audio")
        sound = await asyncio.wait_for(audio.track.recv(), WAIT)
        assert sound.sample_rate == 48000
    finally:
        await rec.close()
        await py.hangup()


@pytest.mark.parametrize("python_first", ORDERS)
async def test_python_video_is_decoded_by_the_browser(
    open_page: OpenPage, base_url: str, python_first: bool
) -> None:
    room_id = room()
    page = await open_page()
    camera = RedCamera()
    py = make_call(signal_url(base_url), room_id, media=camera)
    try:
        await join_in_order(python_first, page, py, base_url, room_id)
        first, second = await frames_rising(page, py.peer_id)
        assert second > first
        size = await page.evaluate("(p) => window.inbound(p, 'video')", py.peer_id)
        assert (size["frameWidth"], size["frameHeight"]) == (320, 240)
        # What the browser shows is the Python peer's red picture (VP8 shifts colours a bit).
        rgb = await wait_for(
            page,
            "async (p) => { const c = await window.meanColor(p); return c && c[0] > 150 && c; }",
            py.peer_id,
        )
        r, g, b = rgb
        assert r > 150 and g < 90 and b < 90, rgb
    finally:
        await py.hangup()
    assert camera.stopped


async def cross_offers(page: Page, py: WebRTCCall, browser_id: str) -> None:
    """Make the browser and the Python peer offer at once (glare)."""
    session = py.sessions[browser_id]
    # Hold the browser's incoming signaling for 0.5 s (a slow network), so the two offers
    # cross: the browser offers before it sees Python's offer, and Python has its own offer
    # out when the browser's arrives.
    await page.evaluate(
        "() => { window.call._queue = window.call._queue.then("
        "() => new Promise((r) => setTimeout(r, 500))); }"
    )
    offer = asyncio.create_task(session.renegotiate())
    for _ in range(200):
        if session.pc.signalingState == "have-local-offer":
            break
        await asyncio.sleep(0.005)
    await page.evaluate("window.call.startScreenShare()")  # adds video: the browser offers
    await asyncio.wait_for(offer, WAIT)
    assert session.offer_collisions >= 1, "the offers did not cross"


@pytest.mark.parametrize("python_first", ORDERS)
async def test_glare_between_browser_and_python(
    open_page: OpenPage, base_url: str, python_first: bool
) -> None:
    """Both sides offer at once; the join order decides who is polite (the newcomer's id is
    greater, so it is the impolite side). The call settles and data flows both ways."""
    room_id = room()
    page = await open_page()
    py = make_call(signal_url(base_url), room_id)
    rec = Recorder(py)
    try:
        browser_id = await join_in_order(python_first, page, py, base_url, room_id)
        await py.wait_connected(timeout=WAIT)
        session = py.sessions[browser_id]
        assert session.polite == python_first == (py.peer_id < browser_id)
        await cross_offers(page, py, browser_id)
        await rec.until(lambda: any(e.track.kind == "video" for e in rec.of(TrackAddedEvent)), WAIT)
        await wait_for(
            page,
            "(p) => window.call.state === 'connected' &&"
            " window.call._sessions.get(p).pc.signalingState === 'stable'",
            py.peer_id,
        )
        assert session.pc.signalingState == "stable"
        assert py.send_string("chat", "after glare")
        got = await wait_for(page, "() => window.messages.length >= 1 && window.messages")
        assert got[-1]["data"] == "after glare"
        await page.evaluate("(p) => window.call.sendStringTo(p, 'chat', 'me too')", py.peer_id)
        await rec.until(lambda: any(m.data == "me too" for m in rec.messages("chat")), WAIT)
        if not python_first:  # Python impolite: the browser's screen reaches it
            video = next(e.track for e in rec.of(TrackAddedEvent) if e.track.kind == "video")
            frame = await asyncio.wait_for(video.recv(), WAIT)
            assert (frame.width, frame.height) == (1280, 720)
    finally:
        await rec.close()
        await py.hangup()


async def test_video_after_glare_when_python_is_polite(open_page: OpenPage, base_url: str) -> None:
    room_id = room()
    page = await open_page()
    py = make_call(signal_url(base_url), room_id)
    rec = Recorder(py)
    try:
        browser_id = await join_in_order(True, page, py, base_url, room_id)
        await py.wait_connected(timeout=WAIT)
        await cross_offers(page, py, browser_id)
        await rec.until(lambda: any(e.track.kind == "video" for e in rec.of(TrackAddedEvent)), WAIT)
        video = next(e.track for e in rec.of(TrackAddedEvent) if e.track.kind == "video")
        frame = await asyncio.wait_for(video.recv(), 5)
        assert (frame.width, frame.height) == (1280, 720)
    finally:
        await rec.close()
        await py.hangup()


async def test_three_browsers_and_a_python_peer_form_a_mesh(
    open_page: OpenPage, base_url: str
) -> None:
    room_id = room()
    pages = [await open_page() for _ in range(3)]
    py = make_call(signal_url(base_url), room_id)
    rec = Recorder(py)
    try:
        ids = [await browser_join(pages[0], base_url, room_id)]
        await py.connect()  # second to join: it answers one browser and is offered by two
        for page in pages[1:]:
            ids.append(await browser_join(page, base_url, room_id))
        await py.wait_connected(peers=3, timeout=WAIT)
        everyone = [*ids, py.peer_id]
        for page, me in zip(pages, ids, strict=True):
            others = sorted(i for i in everyone if i != me)
            await wait_for(
                page,
                "(o) => o.every((p) => window.call.getDataChannelState(p, 'chat') === 'open')",
                others,
            )
            assert sorted(await page.evaluate("window.call.remotePeerIds")) == others
            assert await page.evaluate("window.call.state") == "connected"
        assert sorted(py.remote_peer_ids) == sorted(ids)
        for page in pages:
            await page.evaluate("window.call.sendString('chat', window.call.peerId)")
        assert py.send_string("chat", py.peer_id)
        for page, me in zip(pages, ids, strict=True):
            got = await wait_for(page, "() => window.messages.length >= 3 && window.messages")
            assert sorted(m["data"] for m in got) == sorted(i for i in everyone if i != me)
        await rec.until(lambda: len(rec.messages("chat")) >= 3, WAIT)
        assert sorted(m.data for m in rec.messages("chat")) == sorted(ids)
        assert all(m.peer_id == m.data for m in rec.messages("chat"))
    finally:
        await rec.close()
        await py.hangup()


async def test_python_gets_a_ping_rtt_from_a_browser_peer(
    open_page: OpenPage, base_url: str
) -> None:
    """The Python peer offers (it joins second), so it opens the ``rtcroom-ping`` channel; the
    browser client answers its pings and keeps the channel away from the app."""
    room_id = room()
    page = await open_page()
    py = make_call(signal_url(base_url), room_id)
    try:
        browser_id = await join_in_order(False, page, py, base_url, room_id)
        await py.wait_connected(timeout=WAIT)
        summary = None
        for _ in range(int(WAIT / 0.25)):
            summary = await py.get_quality_summary(browser_id)
            if summary is not None and summary.rtt_source == "ping":
                break
            await asyncio.sleep(0.25)
        assert summary is not None and summary.rtt_source == "ping", summary
        assert summary.rtt is not None and 0 < summary.rtt < 1000
        assert await page.evaluate("window.call.getDataChannelLabels()") == ["chat"]
        opened = [e[2] for e in await events(page) if e[0] == "onDataChannelOpen"]
        assert opened == ["chat"]
        assert await page.evaluate("window.messages") == []
    finally:
        await py.hangup()


async def test_browser_video_keeps_flowing_after_python_renegotiates(
    open_page: OpenPage, base_url: str
) -> None:
    """Python answered the browser's camera offer (the browser's payload types), then offers
    again itself: the re-offer keeps those payload types, so the video does not stop."""
    room_id = room()
    page = await open_page()
    py = make_call(signal_url(base_url), room_id)
    rec = Recorder(py)
    arrivals: list[float] = []

    async def read(track: MediaStreamTrack) -> None:
        for _ in range(10_000):
            await track.recv()
            arrivals.append(asyncio.get_running_loop().time())

    reader = None
    try:
        browser_id = await join_in_order(True, page, py, base_url, room_id, media={"video": True})
        await rec.until(lambda: any(e.track.kind == "video" for e in rec.of(TrackAddedEvent)), WAIT)
        video = next(e.track for e in rec.of(TrackAddedEvent) if e.track.kind == "video")
        reader = asyncio.create_task(read(video))
        await py.wait_connected(timeout=WAIT)
        for _ in range(int(WAIT / 0.1)):
            if len(arrivals) >= 5:
                break
            await asyncio.sleep(0.1)
        assert len(arrivals) >= 5, "no video from the browser before the renegotiation"
        await py.sessions[browser_id].renegotiate()
        await asyncio.sleep(1.0)  # the browser now sends with what the re-offer said
        since = asyncio.get_running_loop().time()
        await asyncio.sleep(2.0)
        assert len([t for t in arrivals if t >= since]) >= 10
    finally:
        if reader is not None:
            reader.cancel()
        await rec.close()
        await py.hangup()


async def test_both_add_video_in_glare_when_python_is_polite(
    open_page: OpenPage, base_url: str
) -> None:
    """Both sides add tracks and offer at once: the browser its screen, Python audio then video.
    Python (polite) drops its offer, whose new m-lines had taken mids the browser's offer now
    uses for other media; they are offered again after its answer. Everything arrives."""
    room_id = room()
    page = await open_page()
    py = make_call(signal_url(base_url), room_id)
    rec = Recorder(py)
    try:
        browser_id = await join_in_order(True, page, py, base_url, room_id)
        await py.wait_connected(timeout=WAIT)
        session = py.sessions[browser_id]
        assert session.polite
        session.pc.addTrack(AudioStreamTrack())  # takes the mid of the browser's new video m-line
        session.pc.addTrack(RedFrames())
        await cross_offers(page, py, browser_id)
        await rec.until(lambda: any(e.track.kind == "video" for e in rec.of(TrackAddedEvent)), WAIT)
        video = next(e.track for e in rec.of(TrackAddedEvent) if e.track.kind == "video")
        frame = await asyncio.wait_for(video.recv(), WAIT)
        assert (frame.width, frame.height) == (1280, 720)  # the browser's (fake) screen
        first, second = await frames_rising(page, py.peer_id)
        assert second > first
        size = await page.evaluate("(p) => window.inbound(p, 'video')", py.peer_id)
        assert (size["frameWidth"], size["frameHeight"]) == (320, 240)  # Python's red frames
        await wait_for(
            page, "async (p) => (await window.inbound(p, 'audio'))?.bytesReceived > 0", py.peer_id
        )
    finally:
        await rec.close()
        await py.hangup()
