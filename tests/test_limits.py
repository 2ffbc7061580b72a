"""Origin and abuse limits over real sockets; abusers use other loopback addresses
(127.0.0.0/8 is all loopback) so per-address limits tell them from the honest clients."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from rtcroom import Limits

from .secure_support import closed_with, connect, refused_status, secure_server
from .support import SignalClient, join_room

ALLOWED = ("https://app.example.com", "https://*.example.org")


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.net",
        "https://app.example.com.evil.net",
        "null",
        "http://app.example.com",
    ],
)
async def test_a_page_from_another_origin_gets_403_before_the_upgrade(
    transport: str, origin: str
) -> None:
    async with secure_server(transport, limits=Limits(allowed_origins=ALLOWED)) as server:
        status, body = await refused_status(server.url, origin=origin)
        assert status == 403
        assert body == b"Origin not allowed\n"
        assert server.hub.addresses.sockets("127.0.0.1") == 0


async def test_listed_origins_the_servers_own_host_and_non_browsers_are_allowed(
    transport: str,
) -> None:
    async with secure_server(transport, limits=Limits(allowed_origins=ALLOWED)) as server:
        own = f"http://127.0.0.1:{server.port}"
        for origin in ("https://app.example.com", "https://team.example.org", own, None):
            client = await connect(server.url, origin=origin)  # type: ignore[arg-type]
            await client.join(f"room-{origin}")
            await client.close()


async def test_too_many_sockets_from_one_address_get_429(transport: str) -> None:
    async with secure_server(transport, limits=Limits(max_sockets_per_address=3)) as server:
        clients = [await connect(server.url, source="127.0.0.2") for _ in range(3)]
        status, body = await refused_status(server.url, source="127.0.0.2")
        assert (status, body) == (429, b"Too many open sockets from your address\n")
        other = await connect(server.url, source="127.0.0.3")  # another address is not affected
        await other.join("r")
        await clients[0].close()
        for _ in range(100):  # the server counts the close once it has seen it
            if server.hub.addresses.sockets("127.0.0.2") == 2:
                break
            await asyncio.sleep(0.02)
        again = await connect(server.url, source="127.0.0.2")
        await again.join("r")
        for c in [*clients[1:], other, again]:
            await c.close()


async def test_a_join_flood_from_one_address_gets_an_error_frame(transport: str) -> None:
    limits = Limits(join_rate=0.5, join_burst=2)
    async with secure_server(transport, limits=limits, max_peers=10) as server:
        clients = [await connect(server.url, source="127.0.0.2") for _ in range(3)]
        await clients[0].join("r")
        await clients[1].join("r")
        await clients[2].send({"t": "join", "roomId": "r"})
        assert await clients[2].recv() == {
            "t": "error",
            "message": "Too many joins from your address (limit 0.5 per second); try again shortly",
        }
        await clients[2].expect_silence(0.1)  # still open, nothing else
        honest = await connect(server.url, source="127.0.0.1")
        await honest.join("r")
        for c in [*clients, honest]:
            await c.close()


async def test_a_frame_flood_closes_that_socket_with_1008(transport: str) -> None:
    limits = Limits(frame_rate=5, frame_burst=10)
    async with secure_server(transport, limits=limits) as server:
        a, b = await join_room(server.url, "r", 2)
        with contextlib.suppress(ConnectionClosed):
            for i in range(200):
                await a.send({"t": "ice", "candidate": {"candidate": f"c{i}"}})
        assert await closed_with(a) == (1008, "Too many frames (limit 5 per second, bursts of 10)")
        received = []
        with contextlib.suppress(TimeoutError):
            while True:
                msg = await b.recv(timeout=1)
                received.append(msg)
                if msg["t"] == "peer-left":
                    break
        assert received[-1] == {"t": "peer-left", "peerId": a.peer_id}
        assert 9 <= len(received) - 1 <= 11  # the burst (less the join) got through, no more
        await b.close()


async def test_the_room_cap_refuses_new_rooms_not_joins_into_existing_ones(transport: str) -> None:
    async with secure_server(transport, limits=Limits(max_rooms=2)) as server:
        a = await connect(server.url)
        b = await connect(server.url)
        await a.join("one")
        await b.join("two")
        c = await connect(server.url)
        await c.send({"t": "join", "roomId": "three"})
        assert await c.recv() == {
            "t": "error",
            "message": "Too many rooms on this server (max 2); try again later",
        }
        await c.join("one")  # an existing room still admits
        await b.close()
        d = await connect(server.url)
        for _ in range(100):  # room "two" is gone once the server has seen the close
            if "two" not in await server.hub.get_rooms():
                break
            await asyncio.sleep(0.02)
        await d.join("three")
        for x in (a, c, d):
            await x.close()


async def test_a_socket_that_never_joins_is_closed_with_4408(transport: str) -> None:
    async with secure_server(transport, limits=Limits(join_timeout=0.5)) as server:
        idle = await connect(server.url)
        a, b = await join_room(server.url, "r", 2)
        assert await closed_with(idle) == (4408, "No join within 0.5 s")
        await asyncio.sleep(0.3)  # the joined pair is past its timeout and still relays
        await a.send({"t": "ice", "to": b.peer_id, "candidate": {"candidate": "x"}})
        assert await b.recv() == {"t": "ice", "from": a.peer_id, "candidate": {"candidate": "x"}}
        await a.close()
        await b.close()


# --- the flood: abusers on other addresses, an honest pair that must not notice -----------------

FLOOD_LIMITS = Limits(
    max_sockets_per_address=20,
    join_rate=5,
    join_burst=10,
    frame_rate=50,
    frame_burst=100,
    join_timeout=1.0,
)
HONEST_FRAMES = 100


async def _frame_flooder(url: str, source: str) -> tuple[int | None, str]:
    client = await connect(url, source=source)
    await client.join(f"flood-{source}")
    with contextlib.suppress(ConnectionClosed):
        for i in range(5000):
            await client.send({"t": "ice", "candidate": {"candidate": "x" * 200, "i": i}})
    return await closed_with(client)


async def _socket_hoarder(url: str, source: str) -> tuple[int, list[SignalClient]]:
    held: list[SignalClient] = []
    for _ in range(100):
        try:
            held.append(await connect(url, source=source))
        except InvalidStatus as exc:
            return exc.response.status_code, held
    return 0, held


async def _join_spammer(url: str, source: str) -> tuple[list[str], float]:
    """15 joins as fast as it can; the error messages and how long it took."""
    clients, errors = [], []
    started = time.monotonic()
    for i in range(15):
        client = await connect(url, source=source)
        clients.append(client)
        await client.send({"t": "join", "roomId": f"spam-{i}"})
        msg = await client.recv()
        if msg["t"] == "error":
            errors.append(msg["message"])
    elapsed = time.monotonic() - started
    for client in clients:
        await client.close()
    return errors, elapsed


async def _oversized(url: str, source: str) -> tuple[int | None, str]:
    client = await connect(url, source=source)
    await client.join("big")
    with contextlib.suppress(ConnectionClosed):
        await client.send({"t": "ice", "candidate": {"candidate": "x" * (2 << 20)}})
    return await closed_with(client)


async def _idlers(url: str, source: str) -> list[tuple[int | None, str]]:
    idle = [await connect(url, source=source) for _ in range(10)]
    return list(await asyncio.gather(*(closed_with(c) for c in idle)))


async def _honest_pair(url: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    a, b = await join_room(url, "honest", 2)

    async def talk(me: SignalClient, other: SignalClient) -> list[dict[str, object]]:
        async def send() -> None:
            for i in range(HONEST_FRAMES):
                await me.send({"t": "ice", "to": other.peer_id, "candidate": {"n": i}})
                await asyncio.sleep(0.025)  # 40 frames/s: a busy but honest client

        sender = asyncio.create_task(send())
        got = [await me.recv(timeout=10) for _ in range(HONEST_FRAMES)]
        await sender
        await me.expect_silence(0.2)
        return got

    got_a, got_b = await asyncio.gather(talk(a, b), talk(b, a))
    await a.close()
    await b.close()
    return got_a, got_b


async def test_an_honest_pair_keeps_relaying_through_a_flood(transport: str) -> None:
    async with secure_server(transport, limits=FLOOD_LIMITS) as server:
        url = server.url
        honest = asyncio.create_task(_honest_pair(url))
        flooders = [asyncio.create_task(_frame_flooder(url, f"127.0.0.{n}")) for n in (2, 3)]
        hoarder = asyncio.create_task(_socket_hoarder(url, "127.0.0.4"))
        spammer = asyncio.create_task(_join_spammer(url, "127.0.0.5"))
        oversized = asyncio.create_task(_oversized(url, "127.0.0.6"))
        idlers = asyncio.create_task(_idlers(url, "127.0.0.7"))
        async with asyncio.timeout(60):
            got_a, got_b = await honest
            for flooder in flooders:
                assert (await flooder)[0] == 1008
            status, held = await hoarder
            assert status == 429 and len(held) == 20
            errors, elapsed = await spammer
            assert errors and all(e.startswith("Too many joins") for e in errors)
            # Admitted: the burst plus what the rate refilled meanwhile, no more.
            limits = FLOOD_LIMITS
            assert 15 - len(errors) <= limits.join_burst + limits.join_rate * elapsed + 1
            assert (await oversized)[0] == 1009
            assert {code for code, _ in await idlers} == {4408}
        # The honest pair got every frame, in order, and nothing else (no error, no close).
        a_id, b_id = got_b[0]["from"], got_a[0]["from"]
        assert a_id != b_id
        assert got_a == [{"t": "ice", "from": b_id, "candidate": {"n": i}} for i in range(100)]
        assert got_b == [{"t": "ice", "from": a_id, "candidate": {"n": i}} for i in range(100)]
        for client in held:
            with contextlib.suppress(ConnectionClosed):
                await client.close()
