"""The reference client's faults that rtcroom.js must not have (see the behaviour reference §7)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.support import free_port, run_uvicorn

from .conftest import MAX_PEERS, OpenPage
from .harness import events, harness_app, peer_id, start_call, wait_for, wait_state

pytestmark = pytest.mark.asyncio(loop_scope="module")

SIGNAL = "/api/call/signal"


def room() -> str:
    return f"room-{uuid.uuid4().hex[:8]}"


async def test_hangup_while_the_camera_opens_leaves_no_zombie(open_page: OpenPage) -> None:
    room_id = room()
    a = await open_page()
    state = await a.evaluate(
        """(room) => {
        window.makeCall({roomId: room, signalUrl: '/api/call/signal', iceServers: []});
        window.call.hangup();   // getUserMedia is still pending
        return window.call.state;
    }""",
        room_id,
    )
    assert state == "idle"
    await asyncio.sleep(1.5)  # long enough for the camera to open and a socket to join
    assert await a.evaluate("window.call.state") == "idle"
    assert await a.evaluate("window.call.localStream") is None
    assert "onLocalStream" not in [e[0] for e in await events(a)]
    # A second peer finds the room empty: nobody joined behind the app's back.
    b = await open_page()
    await start_call(b, roomId=room_id, signalUrl=SIGNAL, iceServers=[], media=False)
    await peer_id(b)
    await asyncio.sleep(0.3)
    assert await b.evaluate("window.call.remotePeerIds") == []
    assert await b.evaluate("window.call.state") == "signaling"


async def test_timeout_cancels_the_pending_reconnect(open_page: OpenPage) -> None:
    port = free_port()  # nothing listens here yet
    a = await open_page()
    await start_call(
        a,
        roomId=room(),
        signalUrl=f"ws://127.0.0.1:{port}{SIGNAL}",
        iceServers=[],
        media=False,
        connectionTimeout=2500,
        maxReconnectAttempts=50,
    )
    await wait_for(a, "() => window.eventNames().includes('onReconnecting')")
    await wait_state(a, "idle")
    assert ["onDisconnect", "timeout"] in await events(a)
    # The server comes up: a stale reconnect timer would now join the room after the app was
    # told the call ended.
    async with run_uvicorn(harness_app(), port=port):
        await asyncio.sleep(5.0)
        assert await a.evaluate("window.call.state") == "idle"
        assert "onReconnected" not in [e[0] for e in await events(a)]
        assert await a.evaluate("window.call.peerId") is None


async def test_room_full_ends_in_idle_with_a_clear_error(open_page: OpenPage) -> None:
    room_id = room()
    for _ in range(MAX_PEERS):
        page = await open_page()
        await start_call(page, roomId=room_id, signalUrl=SIGNAL, iceServers=[], media=False)
        await peer_id(page)
    late = await open_page()
    await start_call(late, roomId=room_id, signalUrl=SIGNAL, iceServers=[], media=False)
    await wait_state(late, "idle")
    got = await events(late)
    assert ["onError", f"RoomFullError: Room is full (max {MAX_PEERS} peers)", "signaling"] in got
    assert ["onDisconnect", "error"] in got
    assert await late.evaluate("window.call.error.name") == "RoomFullError"
    await asyncio.sleep(1.5)  # and it stays idle: no retry loop against a full room
    assert "onReconnecting" not in [e[0] for e in await events(late)]


async def test_hangup_then_connect_again_keeps_the_new_session(open_page: OpenPage) -> None:
    room_id = room()
    a = await open_page()
    await start_call(a, roomId=room_id, signalUrl=SIGNAL, iceServers=[], media=False)
    first = await peer_id(a)
    await a.evaluate("window.call.hangup(); window.call.connect()")
    second = await wait_for(a, "(old) => window.call.peerId !== old && window.call.peerId", first)
    await asyncio.sleep(3.0)  # the old socket's late close must not reconnect the new session
    assert await a.evaluate("window.call.peerId") == second
    assert "onReconnecting" not in [e[0] for e in await events(a)]


async def test_connect_after_dispose_reports_an_error(open_page: OpenPage) -> None:
    a = await open_page()
    await start_call(a, roomId=room(), signalUrl=SIGNAL, iceServers=[], media=False)
    await peer_id(a)
    await a.evaluate("window.call.dispose(); window.call.connect()")
    assert await a.evaluate("window.call.state") == "idle"
    assert "disposed" in await a.evaluate("window.call.error.message")


async def test_bad_options_throw_typed_errors(open_page: OpenPage) -> None:
    a = await open_page()
    messages = await a.evaluate(
        """() => {
        const out = [];
        for (const o of [{}, {roomId: 'r'}]) {
            try { new window.rtc.WebRTCCall(o); } catch (e) { out.push(e.name + ': ' + e.message); }
        }
        try { new window.rtc.CustomStreamSource(null); } catch (e) { out.push(e.name); }
        return out;
    }"""
    )
    assert messages[0].startswith("TypeError: WebRTCCall needs a roomId")
    assert messages[1].startswith("TypeError: WebRTCCall needs signalUrl")
    assert messages[2] == "TypeError"


async def test_hangup_while_reconnecting_stays_hung_up(open_page: OpenPage) -> None:
    port = free_port()
    a = await open_page()
    async with run_uvicorn(harness_app(), port=port):
        await start_call(
            a,
            roomId=room(),
            signalUrl=f"ws://127.0.0.1:{port}{SIGNAL}",
            iceServers=[],
            media=False,
        )
        await peer_id(a)
    await wait_for(a, "() => window.eventNames().includes('onReconnecting')")
    await a.evaluate("window.call.hangup()")
    async with run_uvicorn(harness_app(), port=port):
        await asyncio.sleep(3.0)  # past the first reconnect delays
        assert await a.evaluate("window.call.state") == "idle"
        assert "onReconnected" not in [e[0] for e in await events(a)]


async def test_no_media_devices_gives_a_clear_error(open_page: OpenPage) -> None:
    """Plain http from a host other than localhost hides navigator.mediaDevices."""
    a = await open_page()
    await a.evaluate(
        "() => Object.defineProperty(Navigator.prototype, 'mediaDevices', {get: () => undefined})"
    )
    await start_call(a, roomId=room(), signalUrl=SIGNAL, iceServers=[])
    await wait_state(a, "idle")
    error = await a.evaluate("[window.call.error.name, window.call.error.message]")
    assert error[0] == "NotSupportedError"
    assert "https://" in error[1] and "localhost" in error[1]


async def test_a_kicked_page_ends_its_call_without_rejoining(open_page: OpenPage) -> None:
    """The host app's ``hub.kick`` (close 4000) is final for rtcroom.js: one onError, idle."""
    app = harness_app()
    a = await open_page()
    async with run_uvicorn(app) as port:
        await start_call(
            a, roomId=room(), signalUrl=f"ws://127.0.0.1:{port}{SIGNAL}", iceServers=[], media=False
        )
        kicked = await peer_id(a)
        assert await app.state.signaling.hub.kick(kicked)
        await wait_state(a, "idle")
        error = await a.evaluate("[window.call.error.name, window.call.error.code]")
        assert error == ["SignalingClosedError", 4000]
        await asyncio.sleep(1.5)  # past rtcroom.js's first reconnect delay (0.5-1 s)
        names = [e[0] for e in await events(a)]
        assert "onReconnecting" not in names and names.count("onError") == 1
        assert await app.state.signaling.hub.get_rooms() == {}
