"""The signaling server goes away under a call: reconnect, give up, and no stale rejoin.

These calls run with ``resume=False``: the behaviour against a server without resume (each
drop rejoins as a new peer). Resume through an outage is tested in test_resume.py."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette

from rtcroom.asgi import SignalingEndpoint, webrtc
from rtcroom.client import (
    DisconnectEvent,
    ReconnectedEvent,
    ReconnectFailedEvent,
    ReconnectingEvent,
    StateChangeEvent,
)
from tests.support import SIGNAL_PATH, free_port, run_uvicorn

from .helpers import WAIT, Recorder, make_call, members_become


@contextlib.asynccontextmanager
async def server_on(port: int) -> AsyncIterator[SignalingEndpoint]:
    endpoint = webrtc(max_peers=4)
    app = Starlette()
    app.router.add_websocket_route(SIGNAL_PATH, endpoint)
    async with run_uvicorn(app, port=port):
        yield endpoint
        await endpoint.hub.close()


def _url(port: int) -> str:
    return f"ws://127.0.0.1:{port}{SIGNAL_PATH}"


async def test_server_restart_under_a_connected_call_reconnects_and_rejoins() -> None:
    port = free_port()
    a = make_call(_url(port), reconnect_base_delay=0.1, resume=False)
    b = make_call(_url(port), reconnect_base_delay=0.1, resume=False)
    ra, rb = Recorder(a), Recorder(b)
    try:
        async with server_on(port):
            await a.connect()
            await b.connect()
            await asyncio.gather(a.wait_connected(timeout=WAIT), b.wait_connected(timeout=WAIT))
            old_ids = {a.peer_id, b.peer_id}
        # The server is gone: both calls notice and start reconnecting.
        await ra.until(lambda: len(ra.of(ReconnectingEvent)) >= 1)
        await rb.until(lambda: len(rb.of(ReconnectingEvent)) >= 1)
        async with server_on(port) as endpoint:
            await ra.until(lambda: len(ra.of(ReconnectedEvent)) == 1)
            await rb.until(lambda: len(rb.of(ReconnectedEvent)) == 1)
            await asyncio.gather(a.wait_connected(timeout=WAIT), b.wait_connected(timeout=WAIT))
            assert a.state == b.state == "connected"
            assert {a.peer_id, b.peer_id}.isdisjoint(old_ids)  # rejoined as new peers
            rooms = await endpoint.hub.get_rooms()
            assert sorted(rooms["room"]) == sorted([a.peer_id, b.peer_id])
            assert a.send_string("chat", "after the restart")
            await rb.until(lambda: any(m.data == "after the restart" for m in rb.messages()))
            reasons = [e.reason for e in ra.of(StateChangeEvent)]
            assert "reconnecting:WebSocket closed" in reasons
            assert ra.of(DisconnectEvent) == []
            await asyncio.gather(a.hangup(), b.hangup())
    finally:
        await asyncio.gather(a.hangup(), b.hangup())
        await ra.close()
        await rb.close()


async def test_reconnect_attempts_exhausted_end_in_reconnect_failed_and_idle() -> None:
    port = free_port()
    call = make_call(_url(port), reconnect_base_delay=0.02, max_reconnect_attempts=3, resume=False)
    rec = Recorder(call)
    try:
        async with server_on(port):
            await call.connect()
        await rec.until(lambda: len(rec.of(DisconnectEvent)) == 1)
        attempts = [e.attempt for e in rec.of(ReconnectingEvent)]
        # While uvicorn shuts down it may still accept one join (which resets the count);
        # after that, exactly three attempts, then the end.
        assert attempts[-3:] == [1, 2, 3] and max(attempts) == 3
        assert len(rec.of(ReconnectFailedEvent)) == 1
        assert call.state == "idle"
        last = rec.of(StateChangeEvent)[-1]
        assert (last.previous, last.state, last.reason) == (
            "connecting",
            "idle",
            "reconnect-failed",
        )
        assert [e.reason for e in rec.of(DisconnectEvent)] == ["error"]
    finally:
        await call.hangup()
        await rec.close()


async def test_a_stale_reconnect_timer_never_rejoins_after_a_timeout() -> None:
    # Agentuity's bug: the connection timeout ends the call while a reconnect is scheduled,
    # then the timer fires and the "ended" call rejoins the room.
    port = free_port()
    call = make_call(_url(port), connection_timeout=0.5, reconnect_base_delay=0.5, resume=False)
    rec = Recorder(call)
    try:
        async with server_on(port):
            await call.connect()
        await rec.until(lambda: len(rec.of(DisconnectEvent)) == 1)
        assert [e.reason for e in rec.of(DisconnectEvent)] == ["timeout"]
        async with server_on(port) as endpoint:
            await asyncio.sleep(2.5)  # past the first reconnect delay (~1 s)
            assert call.state == "idle"
            assert await endpoint.hub.get_rooms() == {}
            await members_become(endpoint.hub, "room", [])
        assert rec.of(ReconnectedEvent) == []
    finally:
        await call.hangup()
        await rec.close()
