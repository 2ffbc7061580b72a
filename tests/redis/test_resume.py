"""Resume across ``rtcroom serve --redis`` processes: a peer whose process died (or that
reconnects elsewhere) comes back under its id on another process, and nobody hears it leave.

Every process gets its own ``--state-dir`` and no configured secret, so a token one process
issued verifies on another only through the secret they share in Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import websockets

from rtcroom import RedisBackend, Resume, SignalingCallbacks, protocol
from rtcroom.testing import ServeProcess, free_port, this_rtcroom_env

from ..support import SignalClient, signaling_server
from .conftest import RedisServer

NODE_TTL = ("--redis-node-ttl", "2")  # a dead process is found within 2.5 s
DETECTION = 2.5
BOUND = 20.0  # generous wait for anything the bounds above promise


@contextlib.asynccontextmanager
async def processes(
    redis_url: str, tmp_path: Path, count: int, *extra: str
) -> AsyncIterator[list[ServeProcess]]:
    """``count`` ``rtcroom serve --redis`` processes, each with its own state directory."""
    procs = [
        ServeProcess(
            "--redis", redis_url, "--state-dir", str(tmp_path / f"p{i}"), *NODE_TTL, *extra
        )
        for i in range(count)
    ]
    try:
        await asyncio.gather(*(p.wait_ready() for p in procs))
        yield procs
    finally:
        for p in procs:
            p.close()


async def join_resumable(url: str, room_id: str) -> tuple[SignalClient, str]:
    """A fresh join that opts in to resume: the client and its token."""
    client = await SignalClient.connect(url)
    await client.send({"t": "join", "roomId": room_id, "resume": True})
    joined = await client.recv()
    assert joined["t"] == "joined", joined
    client.peer_id = joined["peerId"]
    token: str = joined["resumeToken"]
    return client, token


async def resumable_pair(a_url: str, b_url: str) -> tuple[SignalClient, str, SignalClient]:
    """Room "r": A (opted in, its token) on ``a_url``, then B (plain) on ``b_url``, and A has
    heard B arrive."""
    a, token = await join_resumable(a_url, "r")
    b = await SignalClient.connect(b_url)
    await b.join("r")
    await expect(a, {"t": "peer-joined", "peerId": b.peer_id})
    return a, token, b


async def resume(url: str, room_id: str, token: str) -> tuple[SignalClient, dict[str, Any]]:
    client = await SignalClient.connect(url)
    await client.send({"t": "join", "roomId": room_id, "resumeToken": token})
    return client, await client.recv(BOUND)


async def expect(client: SignalClient, frame: dict[str, Any], timeout: float = 5.0) -> None:
    assert await client.recv(timeout) == frame


async def relay_both_ways(a: SignalClient, b: SignalClient) -> None:
    await a.send({"t": "ice", "to": b.peer_id, "candidate": {"n": 1}})
    await expect(b, {"t": "ice", "from": a.peer_id, "candidate": {"n": 1}})
    await b.send({"t": "sdp", "to": a.peer_id, "description": {"type": "offer", "sdp": "x"}})
    await expect(a, {"t": "sdp", "from": b.peer_id, "description": {"type": "offer", "sdp": "x"}})


async def until(redis: RedisServer, *command: str, equals: str) -> None:
    """Poll Redis until ``command`` answers ``equals``."""
    for _ in range(int(BOUND / 0.1)):
        if await asyncio.to_thread(redis.command, *command) == equals:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"redis-cli {' '.join(command)} never answered {equals!r}")


@pytest.mark.parametrize("when", ["before its process is found dead", "while it is away"])
async def test_peer_of_a_killed_process_resumes_on_another(
    redis_url: str, redis_server: RedisServer, tmp_path: Path, when: str
) -> None:
    async with processes(redis_url, tmp_path, 2, "--resume-grace", "30") as (p1, p2):
        a, token, b = await resumable_pair(p1.url, p2.url)
        assert a.peer_id
        p1.kill()
        if when == "while it is away":  # a survivor reaped p1 and kept A as a member
            await until(redis_server, "HEXISTS", "rtcroom:away-room", a.peer_id, equals="1")
        a2, joined = await resume(p2.url, "r", token)
        assert joined["t"] == "joined", joined
        assert joined["peerId"] == a.peer_id
        assert joined["resumed"] is True
        assert joined["peers"] == [b.peer_id]
        assert isinstance(joined["resumeToken"], str)  # a fresh one (same within a second)
        # the frames p1 might have held for it died with it
        await expect(a2, {"t": "error", "message": protocol.FRAMES_LOST})
        a2.peer_id = a.peer_id
        await relay_both_ways(a2, b)
        # p1 is found dead meanwhile, and still nobody hears A leave
        await b.expect_silence(DETECTION + 2.0)
        await a2.expect_silence(0.1)
        assert await asyncio.to_thread(redis_server.command, "ZCARD", "rtcroom:room:r") == "2"
        await relay_both_ways(b, a2)
        await a2.close()
        await expect(b, {"t": "peer-left", "peerId": a.peer_id})
        await b.close()


async def test_a_dead_process_s_peers_resumable_leave_once_after_the_grace(
    redis_url: str, tmp_path: Path
) -> None:
    grace = ("--resume-grace", "2", "--max-peers", "4")
    async with processes(redis_url, tmp_path, 3, *grace) as (p1, p2, p3):
        a, token = await join_resumable(p1.url, "r")  # resumable, on the doomed process
        plain = await SignalClient.connect(p1.url)  # not opted in: gone as before
        await plain.join("r")
        b, _ = await join_resumable(p2.url, "r")
        c = await SignalClient.connect(p3.url)
        await c.join("r")
        await expect(b, {"t": "peer-joined", "peerId": c.peer_id})
        p1.kill()
        # the peer that did not opt in is announced at once, to each survivor's member
        for member in (b, c):
            await expect(member, {"t": "peer-left", "peerId": plain.peer_id}, BOUND)
        # the resumable one only after its grace window, exactly once cluster-wide
        for member in (b, c):
            await expect(member, {"t": "peer-left", "peerId": a.peer_id}, BOUND)
        await b.expect_silence(2.0)
        await c.expect_silence(0.1)
        # its token is dead now, on any process; the socket stays usable for a plain join
        late = await SignalClient.connect(p2.url)
        await late.send({"t": "join", "roomId": "r", "resumeToken": token})
        assert await late.recv() == {"t": "error", "message": protocol.RESUME_ENDED}
        joined = await late.join("r")
        assert joined["peerId"] != a.peer_id
        assert joined["peers"] == [b.peer_id, c.peer_id]
        for client in (b, c, late):
            await client.close()


async def test_token_replayed_on_another_process_closes_the_older_socket(
    redis_url: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    async with processes(redis_url, tmp_path, 2, "--resume-grace", "30") as (p1, p2):
        a, token, b = await resumable_pair(p1.url, p1.url)
        # p2 was never told a secret: it adopted p1's through Redis
        assert await asyncio.to_thread(redis_server.command, "EXISTS", "rtcroom:resume-secret")
        assert all("key shared through Redis" in p.output() for p in (p1, p2))
        a2, joined = await resume(p2.url, "r", token)
        assert (joined["t"], joined["peerId"], joined["resumed"]) == ("joined", a.peer_id, True)
        assert joined["peers"] == [b.peer_id]
        await expect(a2, {"t": "error", "message": protocol.FRAMES_LOST})
        a2.peer_id = a.peer_id
        # the newer socket wins: p1 closes the older one with 4410 and announces nothing
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await a.recv(BOUND)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == protocol.RESUMED_CLOSE_CODE
        assert closed.value.rcvd.reason == protocol.RESUMED_REASON
        await b.expect_silence(1.0)
        await relay_both_ways(b, a2)
        # and back again: p1 takes it over from p2
        a3, joined = await resume(p1.url, "r", joined["resumeToken"])
        assert (joined["t"], joined["peerId"]) == ("joined", a.peer_id)
        await expect(a3, {"t": "error", "message": protocol.FRAMES_LOST})
        a3.peer_id = a.peer_id
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await a2.recv(BOUND)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == protocol.RESUMED_CLOSE_CODE
        await relay_both_ways(a3, b)
        await b.expect_silence(0.5)
        for client in (a3, b):
            await client.close()


async def test_token_of_a_peer_that_hung_up_is_refused_on_another_process(
    redis_url: str, tmp_path: Path
) -> None:
    async with processes(redis_url, tmp_path, 2, "--resume-grace", "30") as (p1, p2):
        a, token, b = await resumable_pair(p1.url, p2.url)
        await a.close()  # a close frame: it hung up, it is gone at once
        await expect(b, {"t": "peer-left", "peerId": a.peer_id})
        stale, reply = await resume(p2.url, "r", token)
        assert reply == {"t": "error", "message": protocol.RESUME_ENDED}
        joined = await stale.join("r")  # the same socket falls back to a plain join
        assert joined["peerId"] != a.peer_id and joined["peers"] == [b.peer_id]
        await expect(b, {"t": "peer-joined", "peerId": joined["peerId"]})
        for client in (stale, b):
            await client.close()


async def test_max_peers_exact_when_a_resume_races_fresh_joins_for_the_last_place(
    redis_url: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    async with processes(redis_url, tmp_path, 3, "--resume-grace", "30") as (p1, p2, p3):
        a, token, b = await resumable_pair(p1.url, p2.url)
        p1.kill()
        # Redis restarts empty: A's place is forgotten; p2 and p3 register again and p2 puts B
        # (and the shared secret) back, so one place is free for A or a newcomer
        redis_server.stop()
        redis_server.start()
        await until(redis_server, "ZCARD", "rtcroom:room:r", equals="1")
        await until(redis_server, "SCARD", "rtcroom:nodes", equals="2")
        newcomers = [await SignalClient.connect(url) for url in (p2.url, p3.url)]
        a2 = await SignalClient.connect(p3.url)

        async def fresh(client: SignalClient) -> dict[str, Any]:
            await client.send({"t": "join", "roomId": "r"})
            return await client.recv(BOUND)

        async def resumed() -> dict[str, Any]:
            await a2.send({"t": "join", "roomId": "r", "resumeToken": token})
            return await a2.recv(BOUND)

        replies = await asyncio.gather(resumed(), *(fresh(c) for c in newcomers))
        winners = [r for r in replies if r["t"] == "joined"]
        assert len(winners) == 1, replies
        assert await asyncio.to_thread(redis_server.command, "ZCARD", "rtcroom:room:r") == "2"
        refused_resume, *refused_joins = replies
        if refused_resume["t"] == "joined":
            assert refused_resume["peerId"] == a.peer_id and refused_resume["resumed"] is True
            # the room had forgotten it: B hears it (back) as a resumed join
            await expect(b, {"t": "peer-joined", "peerId": a.peer_id, "resumed": True})
            full = {"t": "error", "message": "Room is full (max 2 peers)"}
            assert refused_joins == [full, full]
        else:
            assert refused_resume == {"t": "error", "message": protocol.resume_room_full(2)}
        for client in (a2, b, *newcomers):
            await client.close()


async def test_a_stopped_process_s_peers_resume_on_another(
    redis_url: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    """A rolling restart: SIGTERM closes the opted-in peers' sockets with 1012 and leaves them
    away in Redis, so they resume elsewhere; a peer that did not opt in leaves as before."""
    async with processes(redis_url, tmp_path, 2, "--resume-grace", "30", "--max-peers", "3") as (
        p1,
        p2,
    ):
        a, token = await join_resumable(p1.url, "r")
        plain = await SignalClient.connect(p1.url)
        await plain.join("r")
        b = await SignalClient.connect(p2.url)
        await b.join("r")
        await expect(a, {"t": "peer-joined", "peerId": plain.peer_id})
        await expect(a, {"t": "peer-joined", "peerId": b.peer_id})
        assert await p1.send_signal() == 0
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await a.recv(BOUND)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        await expect(b, {"t": "peer-left", "peerId": plain.peer_id})
        a2, joined = await resume(p2.url, "r", token)
        assert (joined["t"], joined["peerId"], joined["resumed"]) == ("joined", a.peer_id, True)
        assert joined["peers"] == [b.peer_id]
        await expect(a2, {"t": "error", "message": protocol.FRAMES_LOST})
        a2.peer_id = a.peer_id
        await relay_both_ways(a2, b)
        await b.expect_silence(1.0)
        for client in (a2, b):
            await client.close()


async def test_a_frozen_process_keeps_its_resumable_peers_if_it_wakes_within_the_grace(
    redis_url: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    async with processes(redis_url, tmp_path, 2, "--resume-grace", "30", "--max-peers", "3") as (
        p1,
        p2,
    ):
        a = await SignalClient.connect(p1.url)
        await a.join("r")
        b, _ = await join_resumable(p2.url, "r")
        plain = await SignalClient.connect(p2.url)
        await plain.join("r")
        await expect(a, {"t": "peer-joined", "peerId": b.peer_id})
        await expect(a, {"t": "peer-joined", "peerId": plain.peer_id})
        p2.proc.send_signal(signal.SIGSTOP)
        try:  # presumed dead: the peer that did not opt in is announced, B is only away
            await expect(a, {"t": "peer-left", "peerId": plain.peer_id}, BOUND)
            await a.expect_silence(1.0)
        finally:
            p2.proc.send_signal(signal.SIGCONT)
        # woken, p2 takes B back (its socket stays open) and closes the announced one
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await plain.recv(BOUND)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        await expect(b, {"t": "peer-joined", "peerId": plain.peer_id})
        await expect(b, {"t": "peer-left", "peerId": plain.peer_id}, BOUND)  # once, like a
        await relay_both_ways(a, b)
        # held by p2 again, no longer waiting to lapse
        assert b.peer_id
        away = await asyncio.to_thread(redis_server.command, "ZSCORE", "rtcroom:away", b.peer_id)
        assert away == ""
        await a.expect_silence(DETECTION)
        await b.expect_silence(0.1)
        await relay_both_ways(b, a)
        for client in (a, b):
            await client.close()


async def test_kicking_a_dead_process_s_away_peer_ends_it_at_once(
    redis_url: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    async with processes(redis_url, tmp_path, 2, "--resume-grace", "30") as (p1, p2):
        a, token, b = await resumable_pair(p1.url, p2.url)
        assert a.peer_id
        p1.kill()
        await until(redis_server, "HEXISTS", "rtcroom:away-room", a.peer_id, equals="1")
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{p2.http_url}/admin/peers/{a.peer_id}/kick") as reply,
        ):
            assert reply.status == 200
            assert await reply.json() == {"kicked": a.peer_id}
        await expect(b, {"t": "peer-left", "peerId": a.peer_id})
        await b.expect_silence(0.5)
        late, refused = await resume(p2.url, "r", token)
        assert refused == {"t": "error", "message": protocol.RESUME_ENDED}
        for client in (late, b):
            await client.close()


def drop(client: SignalClient) -> None:
    """The connection dies without a close frame (a TCP reset): the peer is away."""
    client.ws.transport.abort()


async def test_frames_for_a_peer_away_on_a_live_process_wait_there(
    redis_url: str, tmp_path: Path
) -> None:
    async with processes(redis_url, tmp_path, 2, "--resume-grace", "30") as (p1, p2):
        a, token, b = await resumable_pair(p1.url, p2.url)
        drop(a)
        await asyncio.sleep(0.5)  # p1 sees the reset
        sent = [{"t": "ice", "to": a.peer_id, "candidate": {"n": n}} for n in range(5)]
        for frame in sent:
            await b.send(frame)
        await asyncio.sleep(0.5)  # through p2 and Redis into p1's buffer
        a2, joined = await resume(p1.url, "r", token)
        assert (joined["t"], joined["peerId"], joined["resumed"]) == ("joined", a.peer_id, True)
        for n in range(5):  # p1 kept them, in order; nothing was lost
            await expect(a2, {"t": "ice", "from": b.peer_id, "candidate": {"n": n}})
        await a2.expect_silence(0.3)
        await b.expect_silence(0.1)
        for client in (a2, b):
            await client.close()


async def test_a_peer_away_on_a_live_process_resumes_on_another(
    redis_url: str, tmp_path: Path
) -> None:
    async with processes(redis_url, tmp_path, 2, "--resume-grace", "2") as (p1, p2):
        a, token, b = await resumable_pair(p1.url, p2.url)
        drop(a)
        await asyncio.sleep(0.5)
        await b.send({"t": "ice", "to": a.peer_id, "candidate": {"held": "by p1"}})
        a2, joined = await resume(p2.url, "r", token)
        assert (joined["t"], joined["peerId"], joined["resumed"]) == ("joined", a.peer_id, True)
        # what p1 held for it stays there: the peer is told to renegotiate
        await expect(a2, {"t": "error", "message": protocol.FRAMES_LOST})
        a2.peer_id = a.peer_id
        # p1 let it go: its grace timer does not make it leave
        await b.expect_silence(3.0)
        await relay_both_ways(a2, b)
        for client in (a2, b):
            await client.close()


async def test_a_peer_away_on_a_live_process_that_never_returns_leaves_once(
    redis_url: str, tmp_path: Path
) -> None:
    async with processes(redis_url, tmp_path, 2, "--resume-grace", "1") as (p1, p2):
        a, token, b = await resumable_pair(p1.url, p2.url)
        drop(a)
        await expect(b, {"t": "peer-left", "peerId": a.peer_id}, BOUND)
        await b.expect_silence(1.0)
        late, refused = await resume(p2.url, "r", token)  # ended, on every process
        assert refused == {"t": "error", "message": protocol.RESUME_ENDED}
        for client in (late, b):
            await client.close()


async def test_unreachable_redis_at_start_keeps_this_process_s_own_key_and_says_so(
    tmp_path: Path,
) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    proc = ServeProcess("--redis", nowhere, "--state-dir", str(tmp_path))
    try:
        for _ in range(int(BOUND / 0.1)):
            if "rtcroom: resume on" in proc.output():
                break
            await asyncio.sleep(0.1)
        out = proc.output()
        assert "could not share the resume key through Redis" in out
        assert "(connection refused)" in out and "RTCROOM_SECRET" in out
        assert f"key in {tmp_path / 'resume-secret'}" in out
    finally:
        proc.close()


async def test_the_survivor_that_ends_a_dead_process_s_away_peer_fires_its_leave_once(
    redis_url: str, tmp_path: Path
) -> None:
    leaves: list[tuple[str, str, str]] = []
    callbacks = SignalingCallbacks(on_peer_leave=lambda *leave: leaves.append(leave))
    backend = RedisBackend(redis_url, node_ttl=2.0, heartbeat_interval=0.5)
    async with (
        signaling_server(
            "aiohttp", backend=backend, callbacks=callbacks, resume=Resume(grace=1)
        ) as survivor,
        processes(redis_url, tmp_path, 1, "--resume-grace", "1") as (doomed,),
    ):
        a, _ = await join_resumable(doomed.url, "r")
        b = await SignalClient.connect(survivor.url)
        await b.join("r")
        await expect(a, {"t": "peer-joined", "peerId": b.peer_id})
        doomed.kill()
        await expect(b, {"t": "peer-left", "peerId": a.peer_id}, BOUND)
        await b.expect_silence(1.0)
        assert leaves == [(a.peer_id, "r", "timeout")]
        await b.close()


async def test_a_process_without_a_usable_state_directory_shares_the_key_too(
    redis_url: str, tmp_path: Path
) -> None:
    not_a_dir = tmp_path / "plain-file"  # no state directory can be made under it
    not_a_dir.write_text("")
    env = {**this_rtcroom_env(), "XDG_STATE_HOME": str(not_a_dir)}
    async with (
        processes(redis_url, tmp_path, 1, "--resume-grace", "30") as (p1,),
        ServeProcess("--redis", redis_url, *NODE_TTL, env=env) as p2,
    ):
        banner = [line for line in p2.output().splitlines() if line.startswith("rtcroom: resume")]
        assert banner == [
            "rtcroom: resume on (grace 30 s; key shared through Redis): peers that opt in keep "
            "their id across dropped sockets and restarts"
        ]
        a, token = await join_resumable(p1.url, "r")
        a2, joined = await resume(p2.url, "r", token)
        assert (joined["t"], joined["peerId"], joined["resumed"]) == ("joined", a.peer_id, True)
        for client in (a, a2):
            with contextlib.suppress(websockets.ConnectionClosed):
                await client.close()
