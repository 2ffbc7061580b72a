"""Two real aiortc peers through a real server: every kind of message, both ways."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

from rtcroom.client import (
    BufferFullError,
    DataChannelMessageEvent,
    NotConnectedError,
    UnknownChannelError,
    UnknownPeerError,
    WebRTCCall,
)
from tests.support import signaling_server

from .helpers import WAIT, Recorder, connected_pair, make_call


async def test_string_json_and_binary_both_ways() -> None:
    async with signaling_server("uvicorn") as srv, connected_pair(srv.url) as (a, b):
        ra, rb = Recorder(a), Recorder(b)
        assert a.peer_id is not None and b.peer_id is not None
        assert a.send_string("chat", "hello from a")
        assert a.send_json("chat", {"n": 1, "list": [1, 2]})
        assert a.send_binary("chat", b"\x00\x01binary")
        assert b.send_string_to(a.peer_id, "chat", "hello from b")
        assert b.send_json_to(a.peer_id, "chat", [True, None])
        assert b.send_binary_to(a.peer_id, "chat", bytearray(b"\xffback"))
        # Text that is JSON arrives parsed (as in the browser client), raw text kept.
        assert a.send_string("chat", "42")
        await rb.until(lambda: len(rb.messages()) == 4)
        await ra.until(lambda: len(ra.messages()) == 3)

        got_b = [(m.peer_id, m.data, m.raw) for m in rb.messages()]
        assert got_b == [
            (a.peer_id, "hello from a", "hello from a"),
            (a.peer_id, {"n": 1, "list": [1, 2]}, '{"n":1,"list":[1,2]}'),
            (a.peer_id, b"\x00\x01binary", b"\x00\x01binary"),
            (a.peer_id, 42, "42"),
        ]
        got_a = [(m.peer_id, m.label, m.data) for m in ra.messages()]
        assert got_a == [
            (b.peer_id, "chat", "hello from b"),
            (b.peer_id, "chat", [True, None]),
            (b.peer_id, "chat", b"\xffback"),
        ]
        await ra.close()
        await rb.close()


async def test_ten_megabytes_with_back_pressure_arrive_intact() -> None:
    payload = os.urandom(10 * 1024 * 1024)
    chunk = 64 * 1024
    cap = 2 * 1024 * 1024
    async with (
        signaling_server("uvicorn") as srv,
        connected_pair(srv.url, max_buffered_amount=cap) as (a, b),
    ):
        received = hashlib.sha256()
        count = 0
        done = asyncio.Event()

        def on_message(event: object) -> None:
            nonlocal count
            if isinstance(event, DataChannelMessageEvent) and isinstance(event.data, bytes):
                received.update(event.data)
                count += len(event.data)
                if count >= len(payload):
                    done.set()

        b._bus.callbacks.on_event = on_message
        peak = 0
        for offset in range(0, len(payload), chunk):
            assert a.send_binary("chat", payload[offset : offset + chunk])
            peak = max(peak, a.buffered_amount("chat"))
            await a.drain("chat", low=cap // 2, timeout=WAIT)
        await asyncio.wait_for(done.wait(), 60)
        assert count == len(payload)
        assert received.hexdigest() == hashlib.sha256(payload).hexdigest()
        # The sender never queued more than its cap: memory stayed bounded.
        assert peak <= cap


async def test_send_past_the_buffer_cap_raises_until_drained() -> None:
    async with (
        signaling_server("uvicorn") as srv,
        connected_pair(srv.url, max_buffered_amount=256 * 1024) as (a, _b),
    ):
        block = b"x" * (64 * 1024)
        with pytest.raises(BufferFullError, match=r"await call\.drain\('chat'\)"):
            for _ in range(100):
                a.send_binary("chat", block)
        await a.drain("chat", low=0, timeout=WAIT)
        assert a.buffered_amount("chat") == 0
        assert a.send_binary("chat", block)


async def test_misuse_raises_typed_errors_or_returns_false() -> None:
    async with signaling_server("uvicorn") as srv:
        call = make_call(srv.url)
        with pytest.raises(NotConnectedError, match=r"connect\(\)"):
            call.send_string("chat", "too early")
        with pytest.raises(NotConnectedError):
            call.create_data_channel("later")
        await call.connect()
        try:
            # Alone in the room: a known channel with nobody to receive it is not an error.
            assert call.send_string("chat", "nobody here") is False
            with pytest.raises(UnknownChannelError, match="'nope'"):
                call.send_string("nope", "x")
            with pytest.raises(UnknownPeerError, match="peer-0"):
                call.send_json_to("peer-0", "chat", {})
            with pytest.raises(TypeError, match="send_binary"):
                call.send_string("chat", b"bytes")  # type: ignore[arg-type]
            with pytest.raises(TypeError, match="JSON"):
                call.send_json("chat", {1j})
            assert call.get_data_channel_state("peer-0", "chat") is None
        finally:
            await call.hangup()
        with pytest.raises(NotConnectedError):
            call.send_binary("chat", b"after hangup")


def test_bad_options_are_refused_with_a_clear_message() -> None:
    url = "ws://127.0.0.1:1/api/call/signal"
    with pytest.raises(ValueError, match="ws://"):
        WebRTCCall("r", "http://example.invalid/signal")
    with pytest.raises(ValueError, match="room_id"):
        WebRTCCall("", url)
    with pytest.raises(TypeError, match="media must be False"):
        WebRTCCall("r", url, media="camera")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unique"):
        WebRTCCall("r", url, data_channels=["a", "a"])
    with pytest.raises(ValueError, match="IP address"):
        WebRTCCall("r", url, ice_host_addresses=["localhost"])
    with pytest.raises(ValueError, match="connection_timeout"):
        WebRTCCall("r", url, connection_timeout=0)
