"""A server process dies or freezes; Redis stops and comes back. Nothing crashes, no ghosts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from typing import Any

import aiohttp
import pytest
import websockets

from rtcroom import RedisBackend, SignalingCallbacks
from rtcroom.protocol import UNAVAILABLE

from ..support import SignalClient, free_port, signaling_server
from .conftest import RedisServer, server_processes

FAST = {"node_ttl": 2.0, "heartbeat_interval": 0.5}  # dead processes found within 2.5 s
FAST_CLI = ("--redis-node-ttl", "2")
BOUND = 20.0  # generous wait for anything the bound above promises


async def expect(client: SignalClient, frame: dict[str, object], timeout: float = 5.0) -> None:
    assert await client.recv(timeout) == frame


async def test_kill_9_announces_peers_left_and_frees_slots(redis_url: str) -> None:
    async with (
        signaling_server(
            "uvicorn", backend=RedisBackend(redis_url, **FAST), max_peers=3
        ) as survivor,
        server_processes(redis_url, 2, "--max-peers", "3", *FAST_CLI) as (other, doomed),
    ):
        a = await SignalClient.connect(survivor.url)
        b = await SignalClient.connect(other.url)
        c = await SignalClient.connect(doomed.url)
        solo = await SignalClient.connect(doomed.url)
        await a.join("r")
        await b.join("r")
        await c.join("r")
        await solo.join("solo")
        for peer, joiners in ((a, (b, c)), (b, (c,))):
            for j in joiners:
                await expect(peer, {"t": "peer-joined", "peerId": j.peer_id})
        late = await SignalClient.connect(survivor.url)
        await late.send({"t": "join", "roomId": "r"})
        await expect(late, {"t": "error", "message": "Room is full (max 3 peers)"})

        doomed.kill()
        # both survivors, one in-process and one a separate process, announce it
        await expect(a, {"t": "peer-left", "peerId": c.peer_id}, BOUND)
        await expect(b, {"t": "peer-left", "peerId": c.peer_id}, BOUND)
        # no ghosts anywhere: the room whose only member died is gone too
        assert await survivor.hub.get_rooms() == {"r": [a.peer_id, b.peer_id]}

        # the dead peer's slot is free again
        joined = await late.join("r")
        assert joined["peers"] == [a.peer_id, b.peer_id]
        await expect(a, {"t": "peer-joined", "peerId": late.peer_id})
        await expect(b, {"t": "peer-joined", "peerId": late.peer_id})
        await a.send({"t": "ice", "to": b.peer_id, "candidate": {"after": "death"}})
        await expect(b, {"t": "ice", "from": a.peer_id, "candidate": {"after": "death"}})
        for client in (a, b, late):
            await client.close()


async def test_room_emptied_by_a_death_is_destroyed_once_by_the_survivor(redis_url: str) -> None:
    events: list[tuple[str, str]] = []
    happened = asyncio.Event()

    def record(*event: str) -> None:
        events.append(event[:2])
        happened.set()

    callbacks = SignalingCallbacks(
        on_room_created=lambda r: record("created", r),
        on_room_destroyed=lambda r: record("destroyed", r),
        on_peer_leave=lambda p, r, why: record("leave", p),
    )
    async with (
        signaling_server(
            "aiohttp", backend=RedisBackend(redis_url, **FAST), callbacks=callbacks
        ) as survivor,
        server_processes(redis_url, 1, *FAST_CLI) as (doomed,),
    ):
        solo = await SignalClient.connect(doomed.url)
        await solo.join("solo")
        assert await survivor.hub.get_rooms() == {"solo": [solo.peer_id]}
        doomed.kill()
        await asyncio.wait_for(happened.wait(), BOUND)
        await asyncio.sleep(0.5)  # and nothing more arrives
        # created on the dead process; destroyed once, here; its peer's leave was not ours
        assert events == [("destroyed", "solo")]
        assert await survivor.hub.get_rooms() == {}


async def test_frozen_process_is_presumed_dead_then_its_clients_rejoin(redis_url: str) -> None:
    async with server_processes(redis_url, 2, "--max-peers", "2", *FAST_CLI) as (p1, p2):
        a = await SignalClient.connect(p1.url)
        b = await SignalClient.connect(p2.url)
        await a.join("r")
        await b.join("r")
        await expect(a, {"t": "peer-joined", "peerId": b.peer_id})
        p2.proc.send_signal(signal.SIGSTOP)
        try:
            await expect(a, {"t": "peer-left", "peerId": b.peer_id}, BOUND)
        finally:
            p2.proc.send_signal(signal.SIGCONT)
        # woken up, p2 learns it was declared dead and closes b (its peer is gone for the
        # others), so b's client reconnects and joins again like after any restart
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(b.ws.recv(), BOUND)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        b2 = await SignalClient.connect(p2.url)
        assert (await b2.join("r"))["peers"] == [a.peer_id]
        await expect(a, {"t": "peer-joined", "peerId": b2.peer_id})
        await a.close()
        await b2.close()


async def relay_until(sender: SignalClient, receiver: SignalClient, mark: str) -> None:
    """Send marked frames until one arrives (frames sent during an outage may be lost)."""
    assert sender.peer_id and receiver.peer_id
    for attempt in range(100):
        frame = {"t": "ice", "to": receiver.peer_id, "candidate": {"mark": mark, "n": attempt}}
        await sender.send(frame)
        with contextlib.suppress(TimeoutError):
            while True:
                msg = await receiver.recv(0.2)
                if msg.get("candidate", {}).get("mark") == mark:
                    return
    raise AssertionError(f"no {mark!r} frame got through")


async def join_when_available(url: str, room_id: str) -> tuple[SignalClient, dict[str, Any]]:
    deadline = time.monotonic() + BOUND
    client = await SignalClient.connect(url)
    while True:
        await client.send({"t": "join", "roomId": room_id})
        reply = await client.recv(10)
        if reply["t"] == "joined":
            client.peer_id = reply["peerId"]
            return client, reply
        assert reply == {"t": "error", "message": UNAVAILABLE}
        assert time.monotonic() < deadline, "Redis came back but joins stay refused"
        await asyncio.sleep(0.2)


async def test_redis_stopped_and_started_under_load(
    redis_url: str, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rtcroom.redis")
    async with (
        signaling_server("uvicorn", backend=RedisBackend(redis_url, **FAST)) as s1,
        signaling_server("aiohttp", backend=RedisBackend(redis_url, **FAST)) as s2,
    ):
        x1, x2 = await SignalClient.connect(s1.url), await SignalClient.connect(s2.url)
        y1, y2 = await SignalClient.connect(s1.url), await SignalClient.connect(s1.url)
        await x1.join("across")
        await x2.join("across")
        await y1.join("local")
        await y2.join("local")
        await expect(x1, {"t": "peer-joined", "peerId": x2.peer_id})
        await expect(y1, {"t": "peer-joined", "peerId": y2.peer_id})
        w1, w2 = await SignalClient.connect(s1.url), await SignalClient.connect(s2.url)
        await w1.join("leaves during the outage")
        await w2.join("leaves during the outage")
        await expect(w1, {"t": "peer-joined", "peerId": w2.peer_id})

        stop_load = asyncio.Event()

        async def load(sender: SignalClient, to: str) -> int:
            sent = 0
            while not stop_load.is_set() and sent < 5000:
                await sender.send({"t": "ice", "to": to, "candidate": {"load": sent}})
                sent += 1
                await asyncio.sleep(0.002)
            return sent

        assert x1.peer_id and y1.peer_id
        loads = [
            asyncio.create_task(load(x2, x1.peer_id)),
            asyncio.create_task(load(y2, y1.peer_id)),
        ]
        await asyncio.sleep(0.3)

        redis_server.stop()
        try:
            # a join is refused with a clear error, not left hanging
            z = await SignalClient.connect(s2.url)
            await z.send({"t": "join", "roomId": "new"})
            assert await z.recv(10) == {"t": "error", "message": UNAVAILABLE}
            # peers on one process keep relaying without Redis
            await relay_until(y2, y1, "during outage")
            await w2.close()  # its process cannot tell the other one now...
            await asyncio.sleep(0.5)
        finally:
            redis_server.start()  # comes back empty: no persistence

        # ...so it does when Redis is back
        await expect(w1, {"t": "peer-left", "peerId": w2.peer_id}, BOUND)
        z2, reply = await join_when_available(s2.url, "new")
        assert reply["peers"] == []
        await relay_until(x2, x1, "after outage")
        await relay_until(x1, x2, "after outage, back")
        await relay_until(y2, y1, "after outage")
        stop_load.set()
        assert all(n > 0 for n in await asyncio.gather(*loads))
        # each process registered its peers again in the emptied Redis
        rooms = await s1.hub.get_rooms()
        # (in the order the two processes re-registered)
        assert {room: sorted(peers) for room, peers in rooms.items()} == {
            "across": sorted([x1.peer_id, x2.peer_id]),
            "local": sorted([y1.peer_id, y2.peer_id]),
            "new": [z2.peer_id],
            "leaves during the outage": [w1.peer_id],
        }

        await x2.close()
        msg = await x1.recv()
        while msg.get("t") != "peer-left":  # load frames may still be in flight
            msg = await x1.recv()
        assert msg == {"t": "peer-left", "peerId": x2.peer_id}
        for client in (x1, y1, y2, z, z2, w1):
            await client.close()
    logs = caplog.text
    assert "Lost the connection to Redis at redis://127.0.0.1:" in logs
    assert "is back after" in logs


async def test_unreachable_redis_at_start_refuses_joins_clearly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="rtcroom.redis")
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    async with signaling_server("aiohttp", backend=RedisBackend(nowhere, timeout=0.5)) as s:
        client = await SignalClient.connect(s.url)
        await client.send({"t": "join", "roomId": "r"})
        assert await client.recv() == {"t": "error", "message": UNAVAILABLE}
        # the socket stays open: the client may try again
        await client.send({"t": "join", "roomId": "r"})
        assert await client.recv() == {"t": "error", "message": UNAVAILABLE}
        await client.close()
    assert "Cannot reach Redis at redis://127.0.0.1:" in caplog.text
    assert "Is redis-server running there" in caplog.text


def test_bad_settings_are_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="redis:// or rediss://"):
        RedisBackend("http://127.0.0.1:6379")
    with pytest.raises(ValueError, match="at least twice heartbeat_interval"):
        RedisBackend("redis://127.0.0.1", node_ttl=1, heartbeat_interval=1)


async def test_healthz_tells_a_load_balancer_while_redis_is_away(
    redis_url: str, redis_server: RedisServer
) -> None:
    async def health(http: aiohttp.ClientSession, port: int) -> tuple[int, dict[str, Any]]:
        async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            return resp.status, await resp.json()

    async def wait_status(http: aiohttp.ClientSession, port: int, status: int) -> dict[str, Any]:
        deadline = time.monotonic() + BOUND
        while True:
            code, body = await health(http, port)
            if code == status:
                return body
            assert time.monotonic() < deadline, f"/healthz stayed {code}: {body}"
            await asyncio.sleep(0.1)

    async with server_processes(redis_url, 1) as (proc,), aiohttp.ClientSession() as http:
        assert (await wait_status(http, proc.port, 200))["status"] == "ok"
        redis_server.stop()
        try:
            body = await wait_status(http, proc.port, 503)
            assert body == {"status": "unavailable", "error": UNAVAILABLE}
        finally:
            redis_server.start()
        assert (await wait_status(http, proc.port, 200))["status"] == "ok"
        assert proc.proc.poll() is None
        log = proc.output()
    assert "Lost the connection to Redis" in log and "is back after" in log


async def test_a_client_that_stops_reading_does_not_stall_the_others(redis_url: str) -> None:
    async with (
        # (aiohttp waits for a slow reader's socket; uvicorn buffers without limit)
        signaling_server("aiohttp", backend=RedisBackend(redis_url), max_peers=3) as s1,
        signaling_server("uvicorn", backend=RedisBackend(redis_url), max_peers=3) as s2,
    ):
        # a small receive buffer (no autotuning), so that not reading soon blocks the server
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        sock.connect(("127.0.0.1", s1.port))
        stalled = SignalClient(await websockets.connect(s1.url, sock=sock, open_timeout=5))
        watcher = await SignalClient.connect(s1.url)  # same process, same room, reading
        flooder = await SignalClient.connect(s2.url)
        await stalled.join("stall")
        await watcher.join("stall")
        await flooder.join("stall")
        await expect(watcher, {"t": "peer-joined", "peerId": flooder.peer_id})
        # from now on it reads nothing: its socket buffers fill, then the server's sends wait
        stalled.ws.transport.pause_reading()
        big = {"blob": "x" * 65536}
        count = 400  # ~26 MB, more than the socket buffers of the client that does not read

        async def watch() -> None:
            for i in range(count):
                msg = await watcher.recv(BOUND)
                assert msg == {"t": "ice", "from": flooder.peer_id, "candidate": {**big, "n": i}}

        watching = asyncio.create_task(watch())
        for i in range(count):  # broadcast: to the stalled client and to the watcher
            await flooder.send({"t": "ice", "candidate": {**big, "n": i}})
        await asyncio.wait_for(watching, BOUND)
        for client in (watcher, flooder):
            await client.close()
        stalled.ws.transport.abort()
