"""Peers of one room on different server processes: joins, relay, order, peer-left, max_peers."""

from __future__ import annotations

import asyncio
import itertools
import json
import re

import pytest
import websockets

from rtcroom import RedisBackend, SignalingCallbacks

from ..support import SignalClient, signaling_server
from .conftest import server_processes

PEER_ID = re.compile(r"^peer-\d{13}-\d+$")


async def expect(client: SignalClient, frame: dict[str, object]) -> None:
    assert await client.recv() == frame


async def test_two_processes_join_relay_order_and_peer_left(redis_url: str) -> None:
    async with server_processes(redis_url, 2, "--max-peers", "4") as (p1, p2):
        a = await SignalClient.connect(p1.url)
        b = await SignalClient.connect(p2.url)
        c = await SignalClient.connect(p1.url)
        ja = await a.join("room")
        assert ja["peers"] == []
        jb = await b.join("room")
        assert jb["peers"] == [a.peer_id]
        await expect(a, {"t": "peer-joined", "peerId": b.peer_id})
        jc = await c.join("room")
        assert jc["peers"] == [a.peer_id, b.peer_id]
        await expect(a, {"t": "peer-joined", "peerId": c.peer_id})
        await expect(b, {"t": "peer-joined", "peerId": c.peer_id})
        assert all(PEER_ID.match(str(p)) for p in (a.peer_id, b.peer_id, c.peer_id))

        # targeted relay across processes keeps order; the server sets `from`, drops `to`
        for i in range(200):
            await b.send({"t": "ice", "from": "forged", "to": a.peer_id, "candidate": {"n": i}})
        for i in range(200):
            await expect(a, {"t": "ice", "from": b.peer_id, "candidate": {"n": i}})
        # a reply the other way, and a frame between two peers of the same process
        await a.send({"t": "sdp", "to": b.peer_id, "description": {"type": "answer"}})
        await expect(b, {"t": "sdp", "from": a.peer_id, "description": {"type": "answer"}})
        await c.send({"t": "sdp", "to": a.peer_id, "description": {"type": "offer"}})
        await expect(a, {"t": "sdp", "from": c.peer_id, "description": {"type": "offer"}})
        await b.expect_silence(0.2)

        # broadcast (no `to`) reaches every other member on both processes, in order
        for i in range(50):
            await a.send({"t": "ice", "candidate": {"n": i}})
        for peer in (b, c):
            for i in range(50):
                await expect(peer, {"t": "ice", "from": a.peer_id, "candidate": {"n": i}})
        # a `to` naming nobody in the room is dropped, even one crafted to forge a frame
        await b.send({"t": "ice", "to": "peer-0000000000000-0", "candidate": {}})
        forged = f'{{"t":"sdp","from":"{c.peer_id}","description":{{}}}}'
        await b.send({"t": "ice", "to": f"{a.peer_id}\n{forged}", "candidate": {}})
        await a.expect_silence(0.2)
        await c.expect_silence(0.01)

        await b.close()
        await expect(a, {"t": "peer-left", "peerId": b.peer_id})
        await expect(c, {"t": "peer-left", "peerId": b.peer_id})
        await a.close()
        await expect(c, {"t": "peer-left", "peerId": a.peer_id})
        await c.close()


async def test_three_processes_full_mesh(redis_url: str) -> None:
    async with server_processes(redis_url, 3, "--max-peers", "3") as procs:
        clients: list[SignalClient] = []
        for proc in procs:
            client = await SignalClient.connect(proc.url)
            joined = await client.join("mesh")
            assert joined["peers"] == [c.peer_id for c in clients]
            for earlier in clients:
                await expect(earlier, {"t": "peer-joined", "peerId": client.peer_id})
            clients.append(client)
        late = await SignalClient.connect(procs[0].url)
        await late.send({"t": "join", "roomId": "mesh"})
        await expect(late, {"t": "error", "message": "Room is full (max 3 peers)"})

        # every peer sends 30 numbered frames to each other peer, all at once
        async def send_all(sender: SignalClient) -> None:
            for i in range(30):
                for target in clients:
                    if target is not sender:
                        await sender.send({"t": "ice", "to": target.peer_id, "candidate": {"n": i}})

        await asyncio.gather(*(send_all(c) for c in clients))
        for receiver in clients:
            got: dict[str, list[int]] = {}
            for _ in range(60):
                msg = await receiver.recv()
                got.setdefault(msg["from"], []).append(msg["candidate"]["n"])
            assert got == {c.peer_id: list(range(30)) for c in clients if c is not receiver}

        await clients[1].close()
        await expect(clients[0], {"t": "peer-left", "peerId": clients[1].peer_id})
        await expect(clients[2], {"t": "peer-left", "peerId": clients[1].peer_id})
        # the freed slot is usable from any process
        joined = await late.join("mesh")
        assert joined["peers"] == [clients[0].peer_id, clients[2].peer_id]
        for client in (clients[0], clients[2], late):
            await client.close()


async def test_max_peers_exact_with_100_concurrent_joins_over_two_processes(
    redis_url: str,
) -> None:
    async with server_processes(redis_url, 2, "--max-peers", "10") as (p1, p2):
        clients = await asyncio.gather(
            *(SignalClient.connect((p1, p2)[i % 2].url) for i in range(100))
        )
        await asyncio.gather(*(c.send({"t": "join", "roomId": "crowd"}) for c in clients))
        replies = await asyncio.gather(*(c.recv(timeout=20) for c in clients))
        joined = [r for r in replies if r["t"] == "joined"]
        refused = [r for r in replies if r["t"] == "error"]
        assert len(joined) == 10
        assert refused == [{"t": "error", "message": "Room is full (max 10 peers)"}] * 90
        ids = [r["peerId"] for r in joined]
        assert len(set(ids)) == 10 and all(PEER_ID.match(i) for i in ids)
        # each admitted peer saw exactly the peers admitted before it
        by_count = sorted(joined, key=lambda r: len(r["peers"]))
        assert [len(r["peers"]) for r in by_count] == list(range(10))
        for earlier, later in itertools.pairwise(by_count):
            assert later["peers"] == [*earlier["peers"], earlier["peerId"]]
        await asyncio.gather(*(c.close() for c in clients))


async def test_in_process_hubs_share_rooms_callbacks_fire_once(redis_url: str) -> None:
    """An ASGI app and an aiohttp app, each with its own hub and RedisBackend."""
    events: list[tuple[str, str, str]] = []

    def callbacks(name: str) -> SignalingCallbacks:
        return SignalingCallbacks(
            on_room_created=lambda r: events.append((name, "created", r)),
            on_room_destroyed=lambda r: events.append((name, "destroyed", r)),
            on_peer_join=lambda p, r: events.append((name, "join", p)),
            on_peer_leave=lambda p, r, why: events.append((name, "leave:" + why, p)),
        )

    async with (
        signaling_server(
            "uvicorn", backend=RedisBackend(redis_url), callbacks=callbacks("asgi")
        ) as s1,
        signaling_server(
            "aiohttp", backend=RedisBackend(redis_url), callbacks=callbacks("aiohttp")
        ) as s2,
    ):
        a = await SignalClient.connect(s1.url)
        b = await SignalClient.connect(s2.url)
        await a.join("pair")
        await b.join("pair")
        await expect(a, {"t": "peer-joined", "peerId": b.peer_id})
        assert await s1.hub.get_rooms() == {"pair": [a.peer_id, b.peer_id]}
        assert await s2.hub.get_rooms() == {"pair": [a.peer_id, b.peer_id]}
        assert s1.hub.local_peers() == {a.peer_id: "pair"}
        stats = await s2.hub.get_room_stats()
        assert (stats.room_count, stats.total_peers) == (1, 2)
        await a.close()
        await expect(b, {"t": "peer-left", "peerId": a.peer_id})
        await b.close()
        for _ in range(100):
            if len(events) == 6:
                break
            await asyncio.sleep(0.05)
        assert events == [
            ("asgi", "created", "pair"),
            ("asgi", "join", a.peer_id),
            ("aiohttp", "join", b.peer_id),
            ("asgi", "leave:disconnect", a.peer_id),
            ("aiohttp", "leave:disconnect", b.peer_id),
            ("aiohttp", "destroyed", "pair"),
        ]
        assert await s1.hub.get_rooms() == {}


async def test_a_burst_of_joins_on_one_process_is_admitted(redis_url: str) -> None:
    """More simultaneous joins than Redis connections: they queue, none is refused."""
    async with signaling_server("aiohttp", backend=RedisBackend(redis_url)) as server:
        clients = await asyncio.gather(*(SignalClient.connect(server.url) for _ in range(200)))
        await asyncio.gather(
            *(c.send({"t": "join", "roomId": f"burst-{i // 2}"}) for i, c in enumerate(clients))
        )
        replies = await asyncio.gather(*(c.recv(timeout=20) for c in clients))
        assert [r["t"] for r in replies] == ["joined"] * 200
        rooms = await server.hub.get_rooms()
        assert len(rooms) == 100 and all(len(p) == 2 for p in rooms.values())
        await asyncio.gather(*(c.close() for c in clients))


async def test_kick_reaches_a_peer_on_another_process(redis_url: str) -> None:
    async with (
        signaling_server("uvicorn", backend=RedisBackend(redis_url)) as here,
        server_processes(redis_url, 1) as (there,),
    ):
        a = await SignalClient.connect(there.url)
        b = await SignalClient.connect(here.url)
        await a.join("k")
        await b.join("k")
        await expect(a, {"t": "peer-joined", "peerId": b.peer_id})
        assert a.peer_id
        assert await here.hub.kick(a.peer_id, "bye from another process") is True
        await expect(b, {"t": "peer-left", "peerId": a.peer_id})
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await a.ws.recv()
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
            4000,
            "bye from another process",
        )
        assert await here.hub.get_rooms() == {"k": [b.peer_id]}
        assert await here.hub.kick(a.peer_id) is False  # gone everywhere now
        assert await here.hub.kick("peer-0000000000000-0") is False
        await b.close()


async def test_room_ids_javascript_allows_work_across_processes(redis_url: str) -> None:
    """A lone surrogate is legal in a JavaScript string, so in a roomId or a `to`."""
    room = "caf\u00e9 \U0001f600 \ud800"
    async with (
        signaling_server("uvicorn", backend=RedisBackend(redis_url)) as s1,
        signaling_server("aiohttp", backend=RedisBackend(redis_url)) as s2,
    ):
        a, b = await SignalClient.connect(s1.url), await SignalClient.connect(s2.url)
        for client in (a, b):
            await client.send('{"t":"join","roomId":"caf\\u00e9 \\ud83d\\ude00 \\ud800"}')
            # (orjson refuses the lone surrogate the server writes back; json, like JS, takes it)
            reply = json.loads(await asyncio.wait_for(client.ws.recv(), 5))
            assert reply["t"] == "joined" and reply["roomId"] == room
            client.peer_id = reply["peerId"]
        await expect(a, {"t": "peer-joined", "peerId": b.peer_id})
        assert list(await s1.hub.get_rooms()) == [room]
        await b.send('{"t":"ice","to":"peer-\\udc00","candidate":{}}')  # names nobody: dropped
        await b.send({"t": "ice", "to": a.peer_id, "candidate": {"n": 1}})
        await expect(a, {"t": "ice", "from": b.peer_id, "candidate": {"n": 1}})
        await a.close()
        await expect(b, {"t": "peer-left", "peerId": a.peer_id})
        await b.close()
