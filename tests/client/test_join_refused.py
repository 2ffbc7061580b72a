"""A join the server refuses ends ``connect()`` at once with the server's reason."""

from __future__ import annotations

import asyncio

import orjson
import websockets

from rtcroom.client import (
    ErrorEvent,
    InvalidSignalError,
    JoinRefusedError,
    ReconnectingEvent,
    RoomFullError,
    SignalingError,
    StateChangeEvent,
)
from tests.support import signaling_server

from .helpers import WAIT, Recorder, eventually, make_call, room_members

UNAVAILABLE = "Rooms temporarily unavailable (try again in a few seconds)"


async def test_a_room_id_the_server_refuses_fails_connect_with_its_message() -> None:
    async with signaling_server("uvicorn") as srv:
        call = make_call(srv.url, room="r" * 300)
        rec = Recorder(call)
        try:
            raised = None
            try:
                await call.connect()
            except JoinRefusedError as exc:
                raised = exc
            assert raised is not None, "connect() returned although the join was refused"
            assert not isinstance(raised, RoomFullError)
            assert isinstance(raised, SignalingError)
            assert "roomId too long (max 256 characters)" in str(raised)
            assert call.state == "idle"
            transitions = [(e.previous, e.state, e.reason) for e in rec.of(StateChangeEvent)]
            assert transitions[-1] == ("signaling", "idle", "join-refused")
            await rec.until(lambda: any(e.error is raised for e in rec.of(ErrorEvent)))
            assert await srv.hub.get_rooms() == {}
            # The same call object joins a valid room afterwards.
            call.room_id = "room"
            await call.connect()
            assert call.state == "signaling"
            assert await room_members(srv.hub, "room") == [call.peer_id]
        finally:
            await call.hangup()
            await rec.close()


def _frame(**fields: object) -> str:
    return orjson.dumps(fields).decode()


async def _refusing_server(ws: websockets.ServerConnection) -> None:
    async for raw in ws:
        if orjson.loads(raw).get("t") == "join":
            await ws.send(_frame(t="error", message=UNAVAILABLE))


async def test_any_error_frame_in_reply_to_join_is_a_refusal() -> None:
    async with websockets.serve(_refusing_server, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        call = make_call(f"ws://127.0.0.1:{port}/", connection_timeout=WAIT)
        try:
            await asyncio.wait_for(call.connect(), WAIT / 2)
        except JoinRefusedError as exc:
            assert exc.message.startswith(UNAVAILABLE)
            assert "refused to join room 'room'" in str(exc)
        else:
            raise AssertionError("connect() returned although the join was refused")
        assert call.state == "idle"


async def test_a_refused_rejoin_is_one_failed_reconnect_attempt() -> None:
    """After a dropped socket, "temporarily unavailable" is retried with the backoff."""
    joins = 0

    async def flaky(ws: websockets.ServerConnection) -> None:
        nonlocal joins
        async for raw in ws:
            if orjson.loads(raw).get("t") != "join":
                continue
            joins += 1
            if joins == 1:
                await ws.send(_frame(t="joined", peerId="peer-1", peers=[]))
                await ws.close()  # the socket drops under the call
            elif joins == 2:
                await ws.send(_frame(t="error", message=UNAVAILABLE))
            else:
                await ws.send(_frame(t="joined", peerId="peer-3", peers=[]))

    async with websockets.serve(flaky, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        call = make_call(f"ws://127.0.0.1:{port}/", reconnect_base_delay=0.05)
        rec = Recorder(call)
        try:
            await call.connect()
            await eventually(lambda: call.peer_id == "peer-3" and call.state == "signaling")
            assert len(rec.of(ReconnectingEvent)) == 2
            refusals = [e.error for e in rec.of(ErrorEvent)]
            assert [type(e) for e in refusals] == [JoinRefusedError]
        finally:
            await call.hangup()
            await rec.close()


async def test_a_broken_joined_fails_connect_at_once() -> None:
    async def broken(ws: websockets.ServerConnection) -> None:
        async for raw in ws:
            if orjson.loads(raw).get("t") == "join":
                await ws.send(_frame(t="joined", peerId={"not": "an id"}, peers=[]))

    async with websockets.serve(broken, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        call = make_call(f"ws://127.0.0.1:{port}/", connection_timeout=WAIT)
        try:
            await asyncio.wait_for(call.connect(), WAIT / 2)
        except InvalidSignalError as exc:
            assert exc.frame_type == "joined"
            assert "a JSON object as 'peerId'" in str(exc)
        else:
            raise AssertionError("connect() returned although 'joined' named no peer id")
        assert call.state == "idle" and call.remote_peer_ids == []
