"""Signaling load: relayed messages/s, server CPU per message, relay round trip, joins/s and
memory per peer, for each server setup (transports, and rooms shared through Redis).

One command; it enters a loopback-only network namespace itself when it may::

    python bench/signaling_bench.py                          # uvicorn and aiohttp, in memory
    python bench/signaling_bench.py --setups uvicorn redis redis-2 --detect-kill   # Redis

Each round starts fresh server processes (and, for Redis setups, one private ``redis-server``
for the run), joins ``--rooms`` rooms of two peers (the receiver on the last process, the sender
on the first), and has every sender relay ``--messages`` realistic ICE-candidate frames (~230
bytes) to its partner at full speed from this one load process over real WebSockets. Then it
times ``--round-trips`` relays one at a time. CPU and memory come from /proc of the server
processes (and redis-server). Each number is the median of ``--rounds`` rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import orjson

from rtcroom.loadtest import blast, join, join_pairs, round_trips
from rtcroom.testing import ServeProcess, cpu_seconds, free_port, rss_bytes

SETUPS = {
    "uvicorn": "rtcroom serve (Starlette app, uvicorn, websockets-sansio, uvloop), memory",
    "aiohttp": "rtcroom.aiohttp adapter (aiohttp web, uvloop), memory",
    "redis": "rtcroom serve --redis, 1 process",
    "redis-2": "rtcroom serve --redis, 2 processes, the peers of each room split",
}

# The aiohttp adapter as its own process, with the options ServeProcess passes to `serve`.
AIOHTTP_SERVER = """
import sys, uvloop
from aiohttp import web
from rtcroom.aiohttp import webrtc
async def healthz(request):
    return web.json_response({"status": "ok"})
app = web.Application()
app.router.add_get("/api/call/signal", webrtc(max_peers=2))
app.router.add_get("/healthz", healthz)
uvloop.install()
port = int(sys.argv[sys.argv.index("--port") + 1])
web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)
"""


@dataclass
class Redis:
    url: str
    pid: int


@contextlib.asynccontextmanager
async def redis_server() -> AsyncIterator[Redis]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("the Redis setups need redis-server (bash scripts/setup installs it)")
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)  # noqa: ASYNC220 - once, before measuring
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            await asyncio.sleep(0.05)
        yield Redis(f"redis://127.0.0.1:{port}/0", proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.asynccontextmanager
async def servers(setup: str, redis: Redis | None) -> AsyncIterator[list[ServeProcess]]:
    if setup == "aiohttp":
        procs = [ServeProcess(launcher=[sys.executable, "-c", AIOHTTP_SERVER])]
    elif setup == "uvicorn":
        procs = [ServeProcess("--max-peers", "2")]
    else:
        assert redis is not None
        count = 2 if setup == "redis-2" else 1
        procs = [ServeProcess("--max-peers", "2", "--redis", redis.url) for _ in range(count)]
    try:
        await asyncio.gather(*(p.wait_ready() for p in procs))
        yield procs
    finally:
        for p in procs:
            p.close()


async def one_round(setup: str, redis: Redis | None, args: argparse.Namespace) -> dict[str, float]:
    connector = aiohttp.TCPConnector(limit=0)
    async with servers(setup, redis) as procs, aiohttp.ClientSession(connector=connector) as http:
        pids = [p.pid for p in procs]
        await asyncio.sleep(0.3)
        rss_before = sum(rss_bytes(pid) for pid in pids)
        pairs, joins_per_s = await join_pairs(http, procs[0].url, procs[-1].url, args.rooms)
        await asyncio.sleep(0.3)
        kib_per_peer = (sum(rss_bytes(pid) for pid in pids) - rss_before) / (2 * args.rooms) / 1024
        cpu0 = sum(cpu_seconds(pid) for pid in pids)
        redis0 = cpu_seconds(redis.pid) if redis else 0.0
        seconds = await blast(pairs, args.messages)
        messages = args.rooms * args.messages
        cpu = sum(cpu_seconds(pid) for pid in pids) - cpu0
        redis_cpu = cpu_seconds(redis.pid) - redis0 if redis else 0.0
        rtts = await round_trips(pairs[0], args.round_trips)
        for tx, rx, _, _ in pairs:
            await tx.close()
            await rx.close()
    return {
        "msgs_per_s": messages / seconds,
        "cpu_us_per_msg": cpu / messages * 1e6,
        "redis_us_per_msg": redis_cpu / messages * 1e6,
        "rtt_median_ms": statistics.median(rtts) * 1e3,
        "rtt_p99_ms": rtts[min(len(rtts) - 1, int(len(rtts) * 0.99))] * 1e3,
        "joins_per_s": joins_per_s,
        "kib_per_peer": kib_per_peer,
    }


async def detection_seconds(redis: Redis) -> float:
    """kill -9 one of two ``--redis`` processes (default ``--redis-node-ttl``); seconds until
    the partner of its peer hears ``peer-left``."""
    async with (
        servers("redis-2", redis) as (survivor, doomed),
        aiohttp.ClientSession() as http,
    ):
        await asyncio.sleep(6.5)  # a survivor reaps others only after node_ttl connected
        a = await http.ws_connect(survivor.url)
        b = await http.ws_connect(doomed.url)
        await join(a, "detect")
        await join(b, "detect")
        assert orjson.loads(await a.receive_str())["t"] == "peer-joined"
        doomed.kill()
        start = time.perf_counter()
        msg = orjson.loads(await asyncio.wait_for(a.receive_str(), 60))
        assert msg["t"] == "peer-left", msg
        elapsed = time.perf_counter() - start
        await a.close()
        return elapsed


async def main(args: argparse.Namespace) -> None:
    needs_redis = any(s.startswith("redis") for s in args.setups) or args.detect_kill
    print(
        f"{args.rooms} rooms x 2 peers, {args.messages} candidates relayed per room, "
        f"{args.round_trips} round trips, median of {args.rounds} rounds, "
        f"{os.cpu_count()} cores\n"
    )
    print(
        "| setup | relayed msg/s | rtcroom CPU µs/msg | redis-server CPU µs/msg "
        "| relay round trip median / p99 (ms) | joins/s | memory per peer (KiB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    async with contextlib.AsyncExitStack() as stack:
        redis = await stack.enter_async_context(redis_server()) if needs_redis else None
        for setup in args.setups:
            runs = [await one_round(setup, redis, args) for _ in range(args.rounds)]
            m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            redis_col = f"{m['redis_us_per_msg']:.1f}" if setup.startswith("redis") else "–"
            print(
                f"| {SETUPS[setup]} | {m['msgs_per_s']:,.0f} | {m['cpu_us_per_msg']:.1f} | "
                f"{redis_col} | {m['rtt_median_ms']:.2f} / {m['rtt_p99_ms']:.2f} | "
                f"{m['joins_per_s']:,.0f} | {m['kib_per_peer']:.1f} |",
                flush=True,
            )
        if args.detect_kill:
            assert redis is not None
            seconds = await detection_seconds(redis)
            print(
                f"\nkill -9 of one of two processes: its peer announced as left after "
                f"{seconds:.1f} s (bound with the defaults: 6 s)"
            )


def enter_loopback_namespace() -> None:
    """Re-run this command inside a loopback-only network namespace, when allowed (root)."""
    if os.environ.get("RTCROOM_BENCH_NETNS") == "1" or not shutil.which("unshare"):
        return
    if os.geteuid() != 0:
        print("not root: running on loopback without a private network namespace", flush=True)
        return
    os.environ["RTCROOM_BENCH_NETNS"] = "1"
    command = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
    os.execvp("unshare", [*command, sys.executable, *sys.argv])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setups", nargs="+", default=["uvicorn", "aiohttp"], choices=list(SETUPS))
    parser.add_argument("--rooms", type=int, default=200)
    parser.add_argument("--messages", type=int, default=250, help="relayed per room")
    parser.add_argument("--round-trips", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--detect-kill",
        action="store_true",
        help="also time how long a kill -9 of one of two --redis processes goes unnoticed",
    )
    parsed = parser.parse_args()
    enter_loopback_namespace()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(parsed))
