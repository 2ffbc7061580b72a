"""Resume after a failover: 1,000 opted-in peers (500 rooms of 2) on one ``rtcroom serve --redis``
process; it is killed (kill -9) and every peer resumes on a second process sharing the Redis::

    python bench/redis_resume_bench.py                  # both variants, 3 rounds each
    python bench/redis_resume_bench.py --variants away --rounds 5

``at-once``: the peers resume the moment their sockets end, before the survivor has found the
dead process (each resume claims the peer from it). ``away``: they resume after the survivor
reaped the dead process and holds its peers away. Measured from the moment the peers start
reconnecting: until the first signaling frame is relayed again, until the last ``joined`` with
``resumed: true``, the resume rate, and the CPU time per resume of the survivor and of
redis-server. Each peer sends one ICE candidate to its partner once resumed; the one sent by the
first of a room to come back is lost (its partner is still away, its frames died with the
process: it gets ``FRAMES_LOST``), so a room counts as relaying again when one candidate crossed
it. Medians of ``--rounds`` rounds with min and max. Every process has its own state
directory, so tokens verify only through the key shared in Redis. Enters a loopback-only
network namespace when it may.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from resume_bench import WAIT, Peer, close_all, gone, join_rooms, spread
from rtcroom.loadtest import CANDIDATE, receive_frame
from rtcroom.testing import ServeProcess, cpu_seconds
from signaling_bench import (
    BENCH_LIMITS,
    Redis,
    enter_loopback_namespace,
    raise_fd_limit,
    redis_server,
)

NODE_TTL = 2.0  # the survivor finds the dead process within 2.5 s


@dataclass
class Failover:
    first_relay: float
    every_room: float
    all_resumed: float
    rate: float
    survivor_cpu: float = 0.0
    redis_cpu: float = 0.0


async def resume_all(
    http: aiohttp.ClientSession, url: str, peers: list[Peer], t0: float
) -> Failover:
    """Every peer resumes at once and sends one candidate to its partner; a room is done when
    one of them arrived."""
    resumed_at: list[float] = []
    relayed_at: list[float] = []
    relayed = {peer.room: asyncio.Event() for peer in peers}

    async def one(peer: Peer) -> None:
        ws = await http.ws_connect(url, max_msg_size=0)
        peer.ws = ws
        frame = {"t": "join", "roomId": peer.room, "resumeToken": peer.token}
        await ws.send_str(orjson.dumps(frame).decode())
        msg = orjson.loads(await receive_frame(ws, WAIT))
        if msg.get("t") != "joined" or msg.get("peerId") != peer.peer_id:
            raise RuntimeError(f"resume of {peer.peer_id} refused: {msg}")
        resumed_at.append(time.perf_counter())
        candidate = {"t": "ice", "to": peer.partner, "candidate": CANDIDATE}
        await ws.send_str(orjson.dumps(candidate).decode())
        done = relayed[peer.room]
        while not done.is_set():  # FRAMES_LOST, or the partner's candidate
            try:
                msg = orjson.loads(await receive_frame(ws, 0.1))
            except TimeoutError:
                continue
            if msg["t"] == "ice":
                assert msg["from"] == peer.partner, msg
                relayed_at.append(time.perf_counter())
                done.set()

    async with asyncio.timeout(WAIT * 2):
        await asyncio.gather(*(one(p) for p in peers))
    spent = max(resumed_at) - t0
    return Failover(min(relayed_at) - t0, max(relayed_at) - t0, spent, len(peers) / spent)


async def failover_round(redis: Redis, rooms: int, variant: str) -> Failover:
    connector = aiohttp.TCPConnector(limit=0)
    with tempfile.TemporaryDirectory() as state:
        options: tuple[str, ...] = ("--redis", redis.url, "--redis-node-ttl", str(NODE_TTL))
        options += ("--max-peers", "2", "--resume-grace", "60", *BENCH_LIMITS)
        doomed = ServeProcess(*options, "--state-dir", f"{state}/doomed")
        survivor = ServeProcess(*options, "--state-dir", f"{state}/survivor")
        async with doomed, survivor, aiohttp.ClientSession(connector=connector) as http:
            peers = await join_rooms(http, doomed.url, rooms)
            doomed.kill()
            await gone(peers)
            if variant == "away":
                await asyncio.sleep(NODE_TTL + 2.0)  # found dead: its peers are away
            cpu0, redis0 = cpu_seconds(survivor.pid), cpu_seconds(redis.pid)
            outcome = await resume_all(http, survivor.url, peers, time.perf_counter())
            outcome.survivor_cpu = cpu_seconds(survivor.pid) - cpu0
            outcome.redis_cpu = cpu_seconds(redis.pid) - redis0
            await close_all(peers)
    return outcome


async def main(args: argparse.Namespace) -> None:
    peers = 2 * args.rooms
    print(
        f"{peers} opted-in peers in {args.rooms} rooms of 2 fail over from a killed rtcroom serve "
        f"--redis to a second one, median (min–max) of {args.rounds} rounds"
    )
    async with redis_server() as redis:
        for variant in args.variants:
            outcomes = []
            for _ in range(args.rounds):
                outcomes.append(await failover_round(redis, args.rooms, variant))
            print(f"\n{variant}:")
            first = spread([o.first_relay for o in outcomes], 1e3)
            print(f"  -> first frame relayed:    {first} ms")
            every = spread([o.every_room for o in outcomes], 1e3)
            print(f"  -> every room relaying:    {every} ms")
            resumed = spread([o.all_resumed for o in outcomes], 1e3)
            print(f"  -> all {peers} resumed:       {resumed} ms")
            print(f"  resume rate:               {spread([o.rate for o in outcomes])} peers/s")
            cpu = [o.survivor_cpu / peers for o in outcomes]
            print(f"  survivor CPU per resume:   {spread(cpu, 1e6)} µs")
            cpu = [o.redis_cpu / peers for o in outcomes]
            print(f"  redis CPU per resume:      {spread(cpu, 1e6)} µs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--variants", nargs="+", choices=["at-once", "away"], default=["at-once", "away"]
    )
    parsed = parser.parse_args()
    enter_loopback_namespace()
    raise_fd_limit(8192)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(parsed))
