"""Glare: both sides offer at once. aiortc cannot roll back, yet every order must settle."""

from __future__ import annotations

import asyncio

import pytest

from rtcroom.client import WebRTCCall
from tests.support import signaling_server

from .helpers import WAIT, Recorder, connected_pair


async def _force_glare_and_check(a: WebRTCCall, b: WebRTCCall) -> None:
    assert a.peer_id and b.peer_id
    sa, sb = a.sessions[b.peer_id], b.sessions[a.peer_id]
    # Both renegotiate in the same loop turn, so each offer is set locally before the
    # other's arrives through the server: a true collision on both sides.
    await asyncio.wait_for(asyncio.gather(sa.renegotiate(), sb.renegotiate()), WAIT)
    assert sa.offer_collisions >= 1 and sb.offer_collisions >= 1
    assert sa.pc.signalingState == sb.pc.signalingState == "stable"
    ra, rb = Recorder(a), Recorder(b)
    assert a.send_string("chat", "after glare a") and b.send_string("chat", "after glare b")
    await rb.until(lambda: any(m.data == "after glare a" for m in rb.messages()))
    await ra.until(lambda: any(m.data == "after glare b" for m in ra.messages()))
    # Still one connection each, still connected, and a plain renegotiation still works.
    await asyncio.wait_for(sa.renegotiate(), WAIT)
    assert a.state == b.state == "connected"
    await ra.close()
    await rb.close()


async def test_glare_with_default_politeness() -> None:
    async with signaling_server("uvicorn") as srv, connected_pair(srv.url) as (a, b):
        assert a.peer_id and b.peer_id
        # The browser rule: the greater id is impolite.
        assert a.sessions[b.peer_id].polite == (a.peer_id < b.peer_id)
        assert b.sessions[a.peer_id].polite == (b.peer_id < a.peer_id)
        await _force_glare_and_check(a, b)


@pytest.mark.parametrize("first_is_polite", [True, False])
async def test_glare_with_politeness_overridden(first_is_polite: bool) -> None:
    async with signaling_server("uvicorn") as srv:
        a = WebRTCCall(
            "room",
            srv.url,
            data_channels=["chat"],
            ice_servers=[],
            ice_host_addresses=["127.0.0.1"],
            polite=first_is_polite,
        )
        b = WebRTCCall(
            "room",
            srv.url,
            data_channels=["chat"],
            ice_servers=[],
            ice_host_addresses=["127.0.0.1"],
            polite=not first_is_polite,
        )
        try:
            await a.connect()
            await b.connect()
            await asyncio.gather(a.wait_connected(timeout=WAIT), b.wait_connected(timeout=WAIT))
            assert a.peer_id and b.peer_id
            assert a.sessions[b.peer_id].polite is first_is_polite
            assert b.sessions[a.peer_id].polite is (not first_is_polite)
            await _force_glare_and_check(a, b)
        finally:
            await asyncio.gather(a.hangup(), b.hangup())
