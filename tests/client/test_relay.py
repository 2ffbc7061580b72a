"""Python peers forced to relay only, through a real coturn, with the TURN credentials the server
hands out in ``joined`` (the app gives no ICE servers)."""

from __future__ import annotations

import asyncio

from rtcroom import IceServers, JoinTokens, tokens
from rtcroom.client import DataChannelMessageEvent, WebRTCCall
from tests.coturn import Coturn, coturn
from tests.secure_support import SECRET, secure_server

from .helpers import WAIT

__all__ = ["coturn"]  # the fixture


async def test_relay_only_python_peers_connect_through_coturn_with_server_credentials(
    coturn: Coturn,
) -> None:
    ice = IceServers([], [coturn.url], turn_secret=coturn.secret)
    async with secure_server("uvicorn", auth=JoinTokens(SECRET), ice_servers=ice) as server:
        url = server.url + "?token={}"
        options = {"ice_transport_policy": "relay", "data_channels": ["chat"]}
        alice_url = url.format(tokens.create(SECRET, room="r", identity="alice"))
        bob_url = url.format(tokens.create(SECRET, room="r", identity="bob"))
        async with WebRTCCall("r", alice_url, **options) as alice:  # type: ignore[arg-type]
            async with WebRTCCall("r", bob_url, **options) as bob:  # type: ignore[arg-type]
                await asyncio.gather(
                    alice.wait_connected(timeout=WAIT), bob.wait_connected(timeout=WAIT)
                )
                async with bob.events() as events:
                    alice.send_string("chat", "through coturn")
                    async with asyncio.timeout(WAIT):
                        async for event in events:
                            if isinstance(event, DataChannelMessageEvent):
                                assert event.data == "through coturn"
                                break
                summary = await alice.get_quality_summary(bob.peer_id or "")
                assert summary is not None and summary.candidate_pair is not None
                assert summary.candidate_pair.local_type == "relay"
                assert summary.to_dict()["candidatePair"]["usingRelay"] is True


async def test_a_peer_that_comes_after_the_first_credentials_expired_still_relays(
    coturn: Coturn,
) -> None:
    """The call fetched fresh TURN credentials before its first ones expired: the connection it
    makes to a later peer gets a relay from coturn (which refuses expired credentials)."""
    ice = IceServers([], [coturn.url], turn_secret=coturn.secret, turn_ttl=3)
    async with secure_server("uvicorn", auth=JoinTokens(SECRET), ice_servers=ice) as server:
        options = {"ice_transport_policy": "relay", "data_channels": ["chat"]}
        alice_token = tokens.create(SECRET, room="r", identity="alice")
        bob_url = f"{server.url}?token={tokens.create(SECRET, room='r', identity='bob')}"
        async with WebRTCCall("r", server.url, token=alice_token, **options) as alice:  # type: ignore[arg-type]
            await asyncio.sleep(4)  # alice's credentials from joined have expired by now
            async with WebRTCCall("r", bob_url, **options) as bob:  # type: ignore[arg-type]
                await asyncio.gather(
                    alice.wait_connected(timeout=WAIT), bob.wait_connected(timeout=WAIT)
                )
                summary = await alice.get_quality_summary(bob.peer_id or "")
                assert summary is not None and summary.candidate_pair is not None
                assert summary.candidate_pair.local_type == "relay"
