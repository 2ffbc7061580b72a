"""Two aiortc peers on different server processes open a data channel through the cluster."""

from __future__ import annotations

import asyncio
from typing import Any

from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from rtcroom.ice import host_addresses, rtc_configuration

from ..support import SignalClient
from .conftest import server_processes

WAIT = 20.0


async def describe(pc: RTCPeerConnection, kind: str) -> dict[str, Any]:
    """Create and set a local offer/answer; aiortc gathers its candidates into the SDP."""
    with host_addresses(["127.0.0.1"]):
        desc = await (pc.createOffer() if kind == "offer" else pc.createAnswer())
        await pc.setLocalDescription(desc)
    local = pc.localDescription
    return {"type": local.type, "sdp": local.sdp}


async def next_sdp(client: SignalClient) -> dict[str, Any]:
    while True:  # skip anything else (there is no trickle from aiortc)
        msg = await client.recv(WAIT)
        if msg["t"] == "sdp":
            return msg


async def test_aiortc_peers_on_two_processes_open_a_data_channel(redis_url: str) -> None:
    async with server_processes(redis_url, 2) as (p1, p2):
        a = await SignalClient.connect(p1.url)
        b = await SignalClient.connect(p2.url)
        await a.join("call")
        joined = await b.join("call")
        assert joined["peers"] == [a.peer_id]
        assert b.peer_id
        pc_a = RTCPeerConnection(rtc_configuration([]))
        pc_b = RTCPeerConnection(rtc_configuration([]))
        try:
            # the newcomer offers, as the protocol says, and creates the data channel
            channel_b = pc_b.createDataChannel("chat")
            opened = asyncio.get_running_loop().create_future()
            channel_b.on("open", lambda: opened.done() or opened.set_result(None))
            echoed: asyncio.Queue[str] = asyncio.Queue()
            channel_b.on("message", echoed.put_nowait)

            @pc_a.on("datachannel")
            def on_channel(channel: RTCDataChannel) -> None:
                channel.on("message", lambda m: channel.send(f"echo from A: {m}"))

            offer = await describe(pc_b, "offer")
            await b.send({"t": "sdp", "to": a.peer_id, "description": offer})
            got = await next_sdp(a)
            assert got["from"] == b.peer_id and got["description"]["type"] == "offer"
            await pc_a.setRemoteDescription(RTCSessionDescription(**got["description"]))
            answer = await describe(pc_a, "answer")
            await a.send({"t": "sdp", "to": b.peer_id, "description": answer})
            got = await next_sdp(b)
            assert got["from"] == a.peer_id
            await pc_b.setRemoteDescription(RTCSessionDescription(**got["description"]))

            await asyncio.wait_for(opened, WAIT)
            channel_b.send("hello across processes")
            assert await asyncio.wait_for(echoed.get(), WAIT) == (
                "echo from A: hello across processes"
            )
        finally:
            await pc_a.close()
            await pc_b.close()
        await a.close()
        await b.close()
