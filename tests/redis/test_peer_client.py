"""Two Python peers (rtcroom.client.WebRTCCall) on different server processes: a data channel
through the cluster."""

from __future__ import annotations

import asyncio

from rtcroom.client import DataChannelConfig, DataChannelMessageEvent, WebRTCCall

from .conftest import server_processes

# Both peers on this machine: no ICE servers, gather only on loopback.
LOCAL = {"ice_servers": [], "ice_host_addresses": ["127.0.0.1"]}
WAIT = 20.0


async def test_webrtc_calls_on_two_processes_exchange_data(redis_url: str) -> None:
    chat = [DataChannelConfig("chat")]
    async with server_processes(redis_url, 2) as (p1, p2):
        async with (
            WebRTCCall("call", p1.url, data_channels=chat, **LOCAL) as alice,
            WebRTCCall("call", p2.url, data_channels=chat, **LOCAL) as bob,
        ):
            await asyncio.gather(
                alice.wait_connected(timeout=WAIT), bob.wait_connected(timeout=WAIT)
            )
            assert set(alice.remote_peer_ids) == {bob.peer_id}
            assert set(bob.remote_peer_ids) == {alice.peer_id}

            async def first_message() -> DataChannelMessageEvent:
                async with alice.events() as events:
                    assert bob.send_json("chat", {"text": "hi from another process"})
                    async for event in events:
                        if isinstance(event, DataChannelMessageEvent):
                            return event
                raise AssertionError("event stream ended")

            event = await asyncio.wait_for(first_message(), WAIT)
            assert event.peer_id == bob.peer_id
            assert event.data == {"text": "hi from another process"}
