"""The Python peer on a token-protected server: the token rides in the signal URL's query."""

from __future__ import annotations

import asyncio

from rtcroom import JoinTokens, tokens
from rtcroom.client import DataChannelMessageEvent, WebRTCCall
from tests.secure_support import SECRET, secure_server

LOCAL = {"ice_servers": [], "ice_host_addresses": ["127.0.0.1"], "data_channels": ["chat"]}


async def test_two_python_peers_join_with_tokens_and_exchange_data() -> None:
    async with secure_server("uvicorn", auth=JoinTokens(SECRET)) as server:
        urls = [
            f"{server.url}?token={tokens.create(SECRET, room='py-*', identity=who)}"
            for who in ("alice", "bob")
        ]
        async with WebRTCCall("py-room", urls[0], **LOCAL) as alice:
            async with WebRTCCall("py-room", urls[1], **LOCAL) as bob:
                await asyncio.gather(
                    alice.wait_connected(timeout=20), bob.wait_connected(timeout=20)
                )
                identities = server.hub.local_identities()
                assert identities[alice.peer_id or ""].sub == "alice"
                assert identities[bob.peer_id or ""].sub == "bob"
                async with alice.events() as events:
                    bob.send_string("chat", "hi alice")
                    async with asyncio.timeout(20):
                        async for event in events:
                            if isinstance(event, DataChannelMessageEvent):
                                assert (event.peer_id, event.data) == (bob.peer_id, "hi alice")
                                break
