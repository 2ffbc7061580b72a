"""Resume in the browser: ``rtcroom serve`` killed (SIGKILL) under a call (browser↔browser,
browser↔Python, the demo page) and restarted on the same port and state directory; the call
goes on without signaling and resumes under the same peer ids. Also what a refused resume and
a token taken over by another socket do."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page

from rtcroom.client import (
    PeerLeftEvent,
    SignalingLostEvent,
    SignalingRestoredEvent,
    TrackAddedEvent,
)
from rtcroom.testing import ServeProcess, free_port
from tests.client.helpers import Recorder, make_call

from .conftest import OpenPage
from .harness import WAIT_MS, events, peer_id, start_call, wait_for, wait_state

pytestmark = pytest.mark.asyncio(loop_scope="module")

BURST = 5  # messages each side sends at each point of the outage
VIDEO_DECODED = "async (p) => ((await window.inbound(p, 'video')) || {}).framesDecoded > 0"


def serve(port: int, state_dir: Path, grace: int = 30) -> ServeProcess:
    return ServeProcess(
        "--max-peers", "4", "--state-dir", str(state_dir), "--resume-grace", str(grace), port=port
    )


async def data_call(open_page: OpenPage, port: int) -> tuple[Page, Page, str, str]:
    """Two data-only pages in one room on the server at ``port``, their chat channels open."""
    room_id = f"room-{uuid.uuid4().hex[:8]}"
    a, b = await open_page(), await open_page()
    for page in (a, b):
        await start_call(
            page,
            roomId=room_id,
            signalUrl=f"ws://127.0.0.1:{port}/api/call/signal",
            media=False,
            iceServers=[],
            dataChannels=[{"label": "chat"}],
        )
        await peer_id(page)
    id_a, id_b = await peer_id(a), await peer_id(b)
    for page, other in ((a, id_b), (b, id_a)):
        await wait_state(page, "connected")
        await wait_for(page, "(p) => window.call.getDataChannelState(p, 'chat') === 'open'", other)
    return a, b, id_a, id_b


async def send_burst(page: Page, to: str, tag: str) -> None:
    sent = await page.evaluate(
        "([to, tag, n]) => Array.from({length: n}, (_, i) => "
        "window.call.sendStringTo(to, 'chat', `${tag}-${i}`))",
        [to, tag, BURST],
    )
    assert sent == [True] * BURST  # data channels do not need signaling


async def chat_from(page: Page, sender: str) -> list[Any]:
    messages: list[dict[str, Any]] = await page.evaluate("window.messages")
    return [m["data"] for m in messages if m["from"] == sender and m["label"] == "chat"]


def expected(tags: list[str]) -> list[str]:
    return [f"{tag}-{i}" for tag in tags for i in range(BURST)]


@pytest.mark.parametrize("outage_s", [2, 10])
async def test_a_call_survives_a_killed_server(
    open_page: OpenPage, tmp_path: Path, outage_s: float
) -> None:
    port = free_port()
    async with serve(port, tmp_path) as server:
        a, b, id_a, id_b = await data_call(open_page, port)
        marks = {page: len(await events(page)) for page in (a, b)}
        server.kill()  # no goodbye frames: the sockets just die

    for page in (a, b):
        await wait_for(page, "() => window.call.signalingState === 'lost'")
    await send_burst(a, id_b, "a-away")
    await send_burst(b, id_a, "b-away")
    # A renegotiation while away (a new track): its offer waits in the outbox for the server.
    await a.evaluate("() => window.call.startScreenShare()")
    await asyncio.sleep(outage_s / 2)
    assert [await p.evaluate("window.call.state") for p in (a, b)] == ["connected", "connected"]
    await send_burst(a, id_b, "a-later")
    await send_burst(b, id_a, "b-later")
    await asyncio.sleep(outage_s / 2)

    async with server.relaunch():
        for page in (a, b):
            await wait_for(page, "() => window.call.signalingState === 'open'", timeout_ms=30_000)
        await send_burst(a, id_b, "a-back")
        await send_burst(b, id_a, "b-back")
        want_b = expected(["a-away", "a-later", "a-back"])
        want_a = expected(["b-away", "b-later", "b-back"])
        await wait_for(b, "(n) => window.messages.length >= n", len(want_b))
        await wait_for(a, "(n) => window.messages.length >= n", len(want_a))
        assert await chat_from(b, id_a) == want_b
        assert await chat_from(a, id_b) == want_a

        # The offer made while away went through: B decodes A's screen.
        await wait_for(b, VIDEO_DECODED, id_a)

        for page, me, other in ((a, id_a, id_b), (b, id_b, id_a)):
            assert await page.evaluate("window.call.peerId") == me
            assert await page.evaluate("window.call.remotePeerIds") == [other]
            assert await page.evaluate("window.call.state") == "connected"
            after = (await events(page))[marks[page] :]
            names = [e[0] for e in after]
            assert ["onSignalingLost", "WebSocket closed"] in after
            assert ["onSignalingRestored", True] in after
            assert "onPeerLeft" not in names and "onPeerJoined" not in names
            assert "onStateChange" not in names  # connected all along
            assert "onError" not in names, after


# B's network to the signaling server is down while window.holdSignaling is set: its sockets go
# to a closed port and fail as an unreachable server does.
HOLD_SIGNALING = """() => {
  const Native = window.WebSocket;
  const Held = function (url, ...rest) {
    return new Native(window.holdSignaling ? 'ws://127.0.0.1:9/' : url, ...rest);
  };
  Held.prototype = Native.prototype;
  Object.setPrototypeOf(Held, Native);
  window.WebSocket = Held;
  window.holdSignaling = true;
}"""


async def test_an_offer_made_while_away_reaches_a_peer_that_resumes_later(
    open_page: OpenPage, tmp_path: Path
) -> None:
    """A renegotiates (shares its screen) while the server is down and resumes first; the
    restarted server has not seen B yet, so A's queued offer goes nowhere. When B is
    re-admitted, A sends it again."""
    port = free_port()
    async with serve(port, tmp_path) as server:
        a, b, id_a, id_b = await data_call(open_page, port)
        await b.evaluate(HOLD_SIGNALING)
        server.kill()
    for page in (a, b):
        await wait_for(page, "() => window.call.signalingState === 'lost'")
    await a.evaluate("() => window.call.startScreenShare()")  # a renegotiation
    async with server.relaunch():
        await wait_for(a, "() => window.call.signalingState === 'open'", timeout_ms=30_000)
        assert await b.evaluate("window.call.signalingState") == "lost"
        await b.evaluate("() => { window.holdSignaling = false; }")
        await wait_for(b, "() => window.call.signalingState === 'open'", timeout_ms=30_000)
        await wait_for(b, VIDEO_DECODED, id_a)
        assert await a.evaluate("window.call.remotePeerIds") == [id_b]
        assert "onPeerLeft" not in [e[0] for e in await events(a)]


async def test_a_peer_that_joined_meanwhile_is_offered_after_the_resume(
    open_page: OpenPage, tmp_path: Path
) -> None:
    """C joins the restarted server before A and B are back: each resume lists C, whom the
    call does not know yet, so A and B offer to it as newcomers do."""
    port = free_port()
    async with serve(port, tmp_path) as server:
        a, b, id_a, id_b = await data_call(open_page, port)
        for page in (a, b):
            await page.evaluate(HOLD_SIGNALING)
        server.kill()
    for page in (a, b):
        await wait_for(page, "() => window.call.signalingState === 'lost'")
    async with server.relaunch():
        c = await open_page()
        await start_call(
            c,
            roomId=await a.evaluate("window.call.options.roomId"),
            signalUrl=f"ws://127.0.0.1:{port}/api/call/signal",
            media=False,
            iceServers=[],
            dataChannels=[{"label": "chat"}],
        )
        id_c = await peer_id(c)
        for page in (a, b):
            await page.evaluate("() => { window.holdSignaling = false; }")
        for page, others in ((a, [id_b, id_c]), (b, [id_a, id_c]), (c, [id_a, id_b])):
            for other in others:
                await wait_for(
                    page, "(p) => window.call.getDataChannelState(p, 'chat') === 'open'", other
                )
            assert sorted(await page.evaluate("window.call.remotePeerIds")) == sorted(others)
        for page in (a, b):
            seen = await events(page)
            assert ["onPeerJoined", id_c] in seen
            assert "onPeerLeft" not in [e[0] for e in seen]
            assert await page.evaluate("window.call.peerId") != id_c
        assert await a.evaluate("(p) => window.call.sendStringTo(p, 'chat', 'hi C')", id_c)
        await wait_for(c, "(p) => window.messages.some((m) => m.from === p)", id_a)


async def test_a_peer_that_does_not_come_back_leaves_after_the_grace_window(
    open_page: OpenPage, tmp_path: Path
) -> None:
    """After a restart A resumes but B stays away (its network to the server is down): A keeps
    B while it may still come back, then drops it with onPeerLeft once the grace window (3 s
    here, from the restarted server's joined) is over."""
    port = free_port()
    async with serve(port, tmp_path, grace=3) as server:
        a, b, _id_a, id_b = await data_call(open_page, port)
        await b.evaluate(HOLD_SIGNALING)
        server.kill()
    await wait_for(a, "() => window.call.signalingState === 'lost'")
    async with server.relaunch():
        await wait_for(a, "() => window.call.signalingState === 'open'", timeout_ms=30_000)
        assert await a.evaluate("window.call.remotePeerIds") == [id_b]  # kept for now
        await wait_for(a, "(p) => window.eventNames().includes('onPeerLeft')", timeout_ms=10_000)
        assert ["onPeerLeft", id_b] in await events(a)
        assert await a.evaluate("window.call.remotePeerIds") == []
        await wait_state(a, "signaling")


async def test_a_refused_resume_joins_again_as_a_new_peer(
    open_page: OpenPage, tmp_path: Path
) -> None:
    """A server with another secret (another state directory) cannot verify the token: the
    call rejoins as today, new peer ids, the app sees the old peer leave and the new join."""
    port = free_port()
    async with serve(port, tmp_path / "first") as server:
        a, b, id_a, id_b = await data_call(open_page, port)
        server.kill()
    for page in (a, b):
        await wait_for(page, "() => window.call.signalingState === 'lost'")
    async with serve(port, tmp_path / "second"):
        new_a = await wait_for(a, "(old) => window.call.peerId !== old && window.call.peerId", id_a)
        new_b = await wait_for(b, "(old) => window.call.peerId !== old && window.call.peerId", id_b)
        await wait_for(a, "(p) => window.call.getDataChannelState(p, 'chat') === 'open'", new_b)
        await wait_state(a, "connected")
        await wait_state(b, "connected")
        assert await a.evaluate("window.call.remotePeerIds") == [new_b]
        assert await a.evaluate("(p) => window.call.sendStringTo(p, 'chat', 'again')", new_b)
        await wait_for(b, "(p) => window.messages.some((m) => m.from === p)", new_a)
        for page, old_other in ((a, id_b), (b, id_a)):
            seen = await events(page)
            assert ["onSignalingRestored", False] in seen
            assert ["onPeerLeft", old_other] in seen
            assert await page.evaluate("window.call.signalingState") == "open"


async def test_a_token_taken_over_by_another_socket_ends_the_call(
    open_page: OpenPage, tmp_path: Path
) -> None:
    """The newer socket wins: the call's own socket is closed with 4410, and it does not
    reconnect (that would only take the token back and forth)."""
    port = free_port()
    async with serve(port, tmp_path):
        a, _b, id_a, _id_b = await data_call(open_page, port)
        taken = await a.evaluate(
            """([url, room]) => new Promise((resolve) => {
                const ws = new WebSocket(url);
                ws.onopen = () => ws.send(JSON.stringify(
                    {t: 'join', roomId: room, resumeToken: window.call._resume.token}));
                ws.onmessage = (e) => resolve(JSON.parse(e.data));
            })""",
            [
                f"ws://127.0.0.1:{port}/api/call/signal",
                await a.evaluate("window.call.options.roomId"),
            ],
        )
        assert taken["t"] == "joined" and taken["peerId"] == id_a and taken["resumed"] is True
        await wait_state(a, "idle")
        errors = [e for e in await events(a) if e[0] == "onError"]
        assert len(errors) == 1 and "(close code 4410)" in errors[0][1], errors
        assert errors[0][1].startswith("SignalingClosedError: ")
        assert "onReconnecting" not in [e[0] for e in await events(a)]


@pytest.mark.parametrize("outage_s", [2, 10])
async def test_a_browser_python_call_survives_a_killed_server(
    open_page: OpenPage, tmp_path: Path, outage_s: float
) -> None:
    """The same across the two clients: rtcroom.js in Chromium and the Python WebRTCCall."""
    port = free_port()
    room_id = f"room-{uuid.uuid4().hex[:8]}"
    url = f"ws://127.0.0.1:{port}/api/call/signal"
    page = await open_page()
    py = make_call(url, room_id)
    rec = Recorder(py)
    try:
        async with serve(port, tmp_path) as server:
            await py.connect()
            await start_call(
                page,
                roomId=room_id,
                signalUrl=url,
                media=False,
                iceServers=[],
                dataChannels=[{"label": "chat"}],
            )
            browser_id = await peer_id(page)
            py_id = py.peer_id
            assert py_id is not None
            await py.wait_connected(timeout=WAIT_MS / 1000)
            await wait_for(
                page, "(p) => window.call.getDataChannelState(p, 'chat') === 'open'", py_id
            )
            await wait_state(page, "connected")
            mark = len(await events(page))
            server.kill()

        await wait_for(page, "() => window.call.signalingState === 'lost'")
        await rec.until(lambda: py.signaling_state == "lost")
        await send_burst(page, py_id, "b-away")
        assert all(py.send_string_to(browser_id, "chat", f"p-away-{i}") for i in range(BURST))
        await asyncio.sleep(outage_s)

        async with server.relaunch():
            await wait_for(page, "() => window.call.signalingState === 'open'", timeout_ms=30_000)
            await rec.until(lambda: py.signaling_state == "open", 30)
            await send_burst(page, py_id, "b-back")
            assert all(py.send_string_to(browser_id, "chat", f"p-back-{i}") for i in range(BURST))
            want_py = expected(["b-away", "b-back"])
            await rec.until(lambda: len(rec.messages("chat")) >= len(want_py))
            assert [m.data for m in rec.messages("chat")] == want_py
            assert {m.peer_id for m in rec.messages("chat")} == {browser_id}
            want_page = [f"p-{tag}-{i}" for tag in ("away", "back") for i in range(BURST)]
            await wait_for(page, "(n) => window.messages.length >= n", len(want_page))
            assert await chat_from(page, py_id) == want_page
            # Signaling works again: the browser's screen is negotiated through the new server.
            await page.evaluate("() => window.call.startScreenShare()")
            await rec.until(lambda: any(e.track.kind == "video" for e in rec.of(TrackAddedEvent)))

            assert py.peer_id == py_id and await page.evaluate("window.call.peerId") == browser_id
            assert await page.evaluate("window.call.remotePeerIds") == [py_id]
            after = [e[0] for e in (await events(page))[mark:]]
            assert "onPeerLeft" not in after and "onStateChange" not in after
            assert not rec.of(PeerLeftEvent)
            assert [e.resumed for e in rec.of(SignalingRestoredEvent)] == [True]
            assert len(rec.of(SignalingLostEvent)) == 1
            assert py.state == "connected"
    finally:
        await rec.close()
        await py.hangup()


async def test_the_demo_page_says_signaling_is_lost_and_keeps_chatting(
    browser: BrowserContext, tmp_path: Path
) -> None:
    """The demo page of a killed ``rtcroom serve``: a banner says the call continues, the chat
    still goes through, and the page says when signaling is back."""
    port = free_port()
    room = f"demo-{uuid.uuid4().hex[:6]}"
    pages: list[Page] = []
    try:
        async with serve(port, tmp_path) as server:
            for _ in range(2):
                page = await browser.new_page()
                pages.append(page)
                await page.goto(f"{server.http_url}/#{room}")
                await wait_for(page, "() => document.querySelector('#server-info').textContent")
                await page.click("#join-data")
            a, b = pages
            for page in pages:
                await page.wait_for_selector("#status[data-state='connected']", timeout=WAIT_MS)
            await say_until_seen(a, b, "before")
            server.kill()

        for page in pages:
            await wait_for(page, "(t) => document.querySelector('#banner').textContent === t", LOST)
        await say_until_seen(b, a, "while away")  # peer to peer: no server needed
        assert await a.get_attribute("#status", "data-state") == "connected"

        async with server.relaunch():
            for page in pages:
                await page.wait_for_selector("#chat-log .sys >> text=Signaling restored.")
                await wait_for(page, "() => !document.querySelector('#banner.show')")
            await say_until_seen(a, b, "after")
            for page in pages:
                assert await page.locator("#chat-log .sys >> text=left").count() == 0
    finally:
        for page in pages:
            await page.close()


LOST = "Signaling lost — call continues. Reconnecting in the background…"


async def say_until_seen(sender: Page, receiver: Page, text: str) -> None:
    await sender.fill("#chat-input", text)
    await sender.press("#chat-input", "Enter")
    await receiver.wait_for_selector(f"#chat-log .msg:not(.me) >> text={text}", timeout=WAIT_MS)
