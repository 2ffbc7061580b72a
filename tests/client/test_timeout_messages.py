"""Timeout errors say what was awaited and the likely cause, and stay typed."""

from __future__ import annotations

import asyncio

import pytest

from rtcroom.client import ConnectionTimeoutError, ErrorEvent
from tests.support import signaling_server

from .helpers import Recorder, make_call

# TEST-NET-1 (RFC 5737): assigned to no host, so ICE can bind no socket and gathers nothing.
UNASSIGNED = ["192.0.2.1"]


async def test_waiting_alone_in_the_room_says_so() -> None:
    async with signaling_server("uvicorn") as srv:
        call = make_call(srv.url, room="lonely")
        try:
            await call.connect()
            with pytest.raises(ConnectionTimeoutError) as caught:
                await call.wait_connected(timeout=0.3)
            assert isinstance(caught.value, TimeoutError)  # code catching TimeoutError still works
            message = str(caught.value)
            assert "wait_connected: 0 of 1 peer(s) connected after 0.3 s" in message
            assert "no other peer is in room 'lonely'" in message
        finally:
            await call.hangup()


async def test_no_ice_path_names_the_ice_options() -> None:
    async with signaling_server("uvicorn") as srv:
        first = make_call(srv.url, ice_host_addresses=UNASSIGNED, connection_timeout=3.0)
        second = make_call(srv.url, ice_host_addresses=UNASSIGNED, connection_timeout=3.0)
        rec = Recorder(second)
        try:
            await first.connect()
            first_id = first.peer_id
            await second.connect()
            with pytest.raises(ConnectionTimeoutError) as caught:
                await second.wait_connected(timeout=1.0)
            assert "ICE gathered no local address" in str(caught.value)
            assert "ice_host_addresses" in str(caught.value)
            # connection_timeout then ends the call with the same diagnosis.
            await rec.until(lambda: bool(rec.of(ErrorEvent)))
            error = next(e.error for e in rec.of(ErrorEvent))
            assert "not connected within connection_timeout=3 s" in str(error)
            assert f"peer {first_id}:" in str(error)
            assert "ice_servers" in str(error) and "ice_host_addresses" in str(error)
            assert second.state == "idle"
        finally:
            await asyncio.gather(first.hangup(), second.hangup())
            await rec.close()


async def test_a_channel_the_offerer_never_opens_is_named() -> None:
    async with signaling_server("uvicorn") as srv:
        answerer = make_call(srv.url, data_channels=["chat", "files"])
        offerer = make_call(srv.url, data_channels=["chat"])
        try:
            await answerer.connect()
            await offerer.connect()
            await offerer.wait_connected(timeout=20)
            with pytest.raises(ConnectionTimeoutError) as caught:
                await answerer.wait_connected(timeout=1.0)
            assert "data channel(s) ['files'] are not open" in str(caught.value)
        finally:
            await asyncio.gather(answerer.hangup(), offerer.hangup())


async def test_waiting_for_an_event_says_what_timed_out() -> None:
    call = make_call("ws://127.0.0.1:9/api/call/signal")
    async with call.events() as stream:
        with pytest.raises(TimeoutError, match=r"no call event within 0\.05 s"):
            await stream.next(timeout=0.05)
