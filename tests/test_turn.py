"""Server-issued STUN/TURN, checked against a real coturn started in the loopback namespace."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import aioice
import httpx
import pytest

from rtcroom import IceServers, JoinTokens, tokens
from rtcroom.turn import turn_credentials

from .coturn import TURN_SECRET, Coturn, coturn
from .secure_support import SECRET, connect, secure_server

__all__ = ["coturn"]  # the fixture


def turn_entry(ice_servers: list[dict[str, Any]]) -> dict[str, Any]:
    [entry] = [s for s in ice_servers if any(u.startswith("turn:") for u in s["urls"])]
    return entry


def _address(url: str) -> tuple[str, int]:
    host, _, port = url.removeprefix("turn:").partition("?")[0].rpartition(":")
    return host, int(port)


def relay_only(entry: dict[str, Any], controlling: bool) -> aioice.Connection:
    """An ICE agent forced to relay (RFC 9429's "relay" policy), with the given credentials."""
    return aioice.Connection(
        ice_controlling=controlling,
        components=1,
        turn_server=_address(entry["urls"][0]),
        turn_username=entry["username"],
        turn_password=entry["credential"],
        transport_policy=aioice.TransportPolicy.RELAY,
    )


async def relay_candidates(entry: dict[str, Any]) -> list[aioice.Candidate]:
    agent = relay_only(entry, True)
    try:
        await asyncio.wait_for(agent.gather_candidates(), 20)
        return [c for c in agent.local_candidates if c.type == "relay"]
    finally:
        await agent.close()


def ice_servers_for(coturn: Coturn, **options: Any) -> IceServers:
    return IceServers(
        [f"stun:127.0.0.1:{coturn.port}"], [coturn.url], turn_secret=coturn.secret, **options
    )


# --- what clients are told -------------------------------------------------------------------


def test_turn_credentials_follow_coturns_rest_scheme() -> None:
    username, password = turn_credentials("s3cret", "alice", ttl=600, now=1_700_000_000)
    assert username == "1700000600:alice"
    assert len(base64.b64decode(password)) == 20  # an HMAC-SHA1
    assert turn_credentials("s3cret", "alice", 600, 1_700_000_000)[1] == password
    assert turn_credentials("other", "alice", 600, 1_700_000_000)[1] != password


def test_ice_server_options_are_checked_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="RTCROOM_TURN_SECRET"):
        IceServers(turn=["turn:127.0.0.1:3478"])
    with pytest.raises(ValueError, match="is not a stun"):
        IceServers(stun=["turn:127.0.0.1:3478"])
    with pytest.raises(TypeError, match="write"):
        IceServers(stun="stun:127.0.0.1:3478")
    assert TURN_SECRET not in repr(IceServers(turn=["turn:h:1"], turn_secret=TURN_SECRET))


async def test_joined_is_unchanged_without_ice_servers(transport: str) -> None:
    async with secure_server(transport) as server:
        client = await connect(server.url)
        assert set(await client.join("r")) == {"t", "peerId", "roomId", "peers"}
        await client.close()


async def test_joined_carries_ice_servers_with_the_token_identity(transport: str) -> None:
    ice = IceServers(["stun:127.0.0.1:3478"], ["turn:127.0.0.1:3478"], turn_secret="t" * 32)
    async with secure_server(transport, auth=JoinTokens(SECRET), ice_servers=ice) as server:
        client = await connect(
            f"{server.url}?token={tokens.create(SECRET, room='r', identity='alice')}"
        )
        before = int(time.time())
        joined = await client.join("r")
        stun_entry, turn = joined["iceServers"]
        assert stun_entry == {"urls": ["stun:127.0.0.1:3478"]}
        expiry, _, user = turn["username"].partition(":")
        assert user == "alice"
        assert before + 86400 <= int(expiry) <= int(time.time()) + 86400
        await client.close()
    async with secure_server(transport, ice_servers=ice) as server:  # no auth: the peer id
        client = await connect(server.url)
        joined = await client.join("r")
        assert turn_entry(joined["iceServers"])["username"].endswith(":" + joined["peerId"])
        await client.close()


async def test_the_ice_servers_endpoint_checks_the_token(transport: str) -> None:
    ice = IceServers(turn=["turn:127.0.0.1:3478"], turn_secret="t" * 32, turn_ttl=600)
    async with secure_server(transport, auth=JoinTokens(SECRET), ice_servers=ice) as server:
        good = tokens.create(SECRET, room="r", identity="bob")
        bad = tokens.create("x" * 32, room="r", identity="bob")
        async with httpx.AsyncClient() as http:
            missing = await http.get(server.ice_url)
            assert missing.status_code == 401
            assert missing.json() == {
                "error": "Join token missing (pass ?token=... or Authorization: Bearer)",
                "code": 4401,
            }
            forged = await http.get(server.ice_url, params={"token": bad})
            assert forged.status_code == 403 and forged.json()["code"] == 4403
            ok = await http.get(server.ice_url, headers={"Authorization": f"Bearer {good}"})
            assert ok.status_code == 200 and ok.headers["cache-control"] == "no-store"
            body = ok.json()
            assert turn_entry(body["iceServers"])["username"] == f"{body['expiresAt']}:bob"
            assert 590 <= body["expiresAt"] - time.time() <= 600


# --- a real coturn ---------------------------------------------------------------------------


async def test_credentials_from_a_real_joined_frame_get_a_relay_candidate(
    transport: str, coturn: Coturn
) -> None:
    async with secure_server(
        transport, auth=JoinTokens(SECRET), ice_servers=ice_servers_for(coturn)
    ) as server:
        client = await connect(
            f"{server.url}?token={tokens.create(SECRET, room='r', identity='carol')}"
        )
        joined = await client.join("r")
        await client.close()
    candidates = await relay_candidates(turn_entry(joined["iceServers"]))
    assert [c.host for c in candidates] == ["127.0.0.1"]


async def test_two_relay_only_peers_connect_through_coturn_and_exchange_data(
    coturn: Coturn,
) -> None:
    async with secure_server(
        "uvicorn", auth=JoinTokens(SECRET), ice_servers=ice_servers_for(coturn)
    ) as server:
        alice = await connect(
            f"{server.url}?token={tokens.create(SECRET, room='r', identity='alice')}"
        )
        joined = await alice.join("r")  # one peer takes them from joined ...
        async with httpx.AsyncClient() as http:  # ... the other fetches them first
            bob_token = tokens.create(SECRET, room="r", identity="bob")
            fetched = (await http.get(server.ice_url, params={"token": bob_token})).json()
        await alice.close()
    a = relay_only(turn_entry(joined["iceServers"]), True)
    b = relay_only(turn_entry(fetched["iceServers"]), False)
    try:
        await asyncio.wait_for(asyncio.gather(a.gather_candidates(), b.gather_candidates()), 20)
        assert {c.type for c in a.local_candidates} == {"relay"}
        assert {c.type for c in b.local_candidates} == {"relay"}
        for me, other in ((a, b), (b, a)):
            for candidate in other.local_candidates:
                await me.add_remote_candidate(candidate)
            await me.add_remote_candidate(None)
            me.remote_username, me.remote_password = other.local_username, other.local_password
        await asyncio.wait_for(asyncio.gather(a.connect(), b.connect()), 20)
        await a.send(b"through the relay")
        assert await asyncio.wait_for(b.recv(), 10) == b"through the relay"
        await b.send(b"and back")
        assert await asyncio.wait_for(a.recv(), 10) == b"and back"
    finally:
        await a.close()
        await b.close()


@pytest.mark.parametrize("case", ["expired", "another secret"])
async def test_coturn_refuses_expired_or_foreign_credentials(coturn: Coturn, case: str) -> None:
    if case == "expired":
        username, password = turn_credentials(coturn.secret, "mallory", ttl=-60)
    else:
        username, password = turn_credentials("not-" + coturn.secret, "mallory")
    entry = {"urls": [coturn.url], "username": username, "credential": password}
    assert await relay_candidates(entry) == []
    # Control: the same call with valid credentials does get a relay.
    username, password = turn_credentials(coturn.secret, "mallory")
    valid = {"urls": [coturn.url], "username": username, "credential": password}
    assert len(await relay_candidates(valid)) == 1
