"""States, room full, timeouts and the reference client's races, against a real server."""

from __future__ import annotations

import asyncio

import pytest
import websockets

from rtcroom.client import (
    CallCallbacks,
    CallEndedError,
    ConnectionTimeoutError,
    DisconnectEvent,
    ErrorEvent,
    ReconnectingEvent,
    RoomFullError,
    SignalingConnectionError,
    StateChangeEvent,
)
from tests.support import SignalClient, free_port, signaling_server

from .helpers import WAIT, Recorder, eventually, make_call, members_become, room_members


def _transitions(rec: Recorder) -> list[tuple[str, str, str]]:
    return [(str(e.previous), str(e.state), e.reason) for e in rec.of(StateChangeEvent)]


async def test_states_of_a_normal_call_match_agentuity() -> None:
    async with signaling_server("uvicorn") as srv:
        first, second = make_call(srv.url), make_call(srv.url)
        r1, r2 = Recorder(first), Recorder(second)
        await first.connect()
        assert first.state == "signaling" and first.peer_id is not None
        await second.connect()
        await asyncio.gather(
            first.wait_connected(timeout=WAIT), second.wait_connected(timeout=WAIT)
        )
        await second.hangup()
        await eventually(lambda: first.state == "signaling")
        await first.hangup()
        await r1.until(lambda: len(r1.of(DisconnectEvent)) == 1)
        await r2.until(lambda: len(r2.of(DisconnectEvent)) == 1)

        assert _transitions(r1) == [
            ("idle", "connecting", "connect() called"),
            ("connecting", "signaling", "WebSocket opened"),
            ("signaling", "negotiating", "received SDP"),
            ("negotiating", "connected", "peer connected"),
            ("connected", "signaling", "all peers left"),
            ("signaling", "idle", "hangup"),
        ]
        assert _transitions(r2) == [
            ("idle", "connecting", "connect() called"),
            ("connecting", "signaling", "WebSocket opened"),
            ("signaling", "negotiating", "creating offer"),
            ("negotiating", "connected", "peer connected"),
            ("connected", "idle", "hangup"),
        ]
        assert [e.reason for e in r2.of(DisconnectEvent)] == ["hangup"]
        await members_become(srv.hub, "room", [])
        await r1.close()
        await r2.close()


async def test_room_full_is_a_typed_error_and_the_call_goes_idle() -> None:
    async with signaling_server("uvicorn", max_peers=1) as srv:
        inside, late = make_call(srv.url), make_call(srv.url)
        rec = Recorder(late)
        await inside.connect()
        try:
            with pytest.raises(RoomFullError, match=r"Room is full \(max 1 peers\)"):
                await late.connect()
            assert late.state == "idle"
            assert _transitions(rec)[-1] == ("signaling", "idle", "room-full")
            await rec.until(
                lambda: any(isinstance(e.error, RoomFullError) for e in rec.of(ErrorEvent))
            )
            assert await room_members(srv.hub, "room") == [inside.peer_id]
        finally:
            await inside.hangup()
            await rec.close()


async def test_connection_timeout_ends_a_negotiation_that_never_finishes() -> None:
    async with signaling_server("uvicorn") as srv:
        silent = await SignalClient.connect(srv.url)  # joins, never answers an offer
        await silent.join("room")
        call = make_call(srv.url, connection_timeout=1.0)
        rec = Recorder(call)
        try:
            await call.connect()
            await rec.until(lambda: len(rec.of(DisconnectEvent)) == 1)
            assert call.state == "idle"
            assert [e.reason for e in rec.of(DisconnectEvent)] == ["timeout"]
            assert _transitions(rec)[-1] == ("negotiating", "idle", "connection-timeout")
            assert any(isinstance(e.error, ConnectionTimeoutError) for e in rec.of(ErrorEvent))
            await members_become(srv.hub, "room", [silent.peer_id])
        finally:
            await call.hangup()
            await silent.close()
            await rec.close()


@pytest.mark.parametrize("when", ["at once", "after the join is sent"])
async def test_hangup_while_connect_is_pending_leaves_no_zombie(when: str) -> None:
    async with signaling_server("uvicorn", max_peers=2) as srv:
        present = make_call(srv.url)
        await present.connect()
        socket_open = asyncio.Event()

        def on_state_change(old: str, new: str, reason: str) -> None:
            if new == "signaling":
                socket_open.set()  # the join frame goes out right after this

        call = make_call(srv.url, callbacks=CallCallbacks(on_state_change=on_state_change))
        pending = asyncio.create_task(call.connect())
        if when == "after the join is sent":
            await asyncio.wait_for(socket_open.wait(), WAIT)
            await asyncio.sleep(0)
        else:
            await asyncio.sleep(0)
        await call.hangup()
        with pytest.raises(CallEndedError):
            await pending
        assert call.state == "idle"
        # The server's room shows only the peer that stayed; the slot is free again.
        await members_become(srv.hub, "room", [present.peer_id])
        third = make_call(srv.url)
        await third.connect()
        await asyncio.gather(
            present.wait_connected(timeout=WAIT), third.wait_connected(timeout=WAIT)
        )
        assert call.state == "idle"
        await asyncio.gather(present.hangup(), third.hangup())


async def test_hangup_followed_at_once_by_connect_keeps_the_new_session() -> None:
    async with signaling_server("uvicorn") as srv:
        call = make_call(srv.url, reconnect_base_delay=0.05)
        rec = Recorder(call)
        await call.connect()
        await call.hangup()
        await call.connect()
        peer_id = call.peer_id
        await asyncio.sleep(1.0)  # the old socket's close must not trigger a reconnect
        assert call.state == "signaling" and call.peer_id == peer_id
        assert rec.of(ReconnectingEvent) == []
        assert await room_members(srv.hub, "room") == [peer_id]
        await call.hangup()
        await rec.close()


async def test_unreachable_server_fails_connect_with_a_clear_error() -> None:
    url = f"ws://127.0.0.1:{free_port()}/api/call/signal"
    call = make_call(url)
    with pytest.raises(SignalingConnectionError, match="is the server running"):
        await call.connect()
    assert call.state == "idle"


async def test_a_server_that_never_answers_the_join_times_out() -> None:
    async def mute(ws: websockets.ServerConnection) -> None:
        await asyncio.wait_for(ws.wait_closed(), WAIT)  # accepts, never says `joined`

    async with websockets.serve(mute, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        call = make_call(f"ws://127.0.0.1:{port}/", connection_timeout=0.5)
        rec = Recorder(call)
        with pytest.raises(ConnectionTimeoutError, match="did not answer the join"):
            await call.connect()
        assert call.state == "idle"
        assert _transitions(rec)[-1] == ("signaling", "idle", "connection-timeout")
        await rec.close()
