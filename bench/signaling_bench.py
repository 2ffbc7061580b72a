"""Signaling load: relayed messages/s, server CPU per message, relay round trip, joins/s and
memory per peer, for each server setup (transports, and rooms shared through Redis).

One command; it enters a loopback-only network namespace itself when it may::

    python bench/signaling_bench.py                     # serve, uvicorn and aiohttp, in memory
    python bench/signaling_bench.py --setups serve redis redis-2 --detect-kill     # Redis
    python bench/signaling_bench.py --anchor --scale serve anchor   # against Agentuity's server

``--anchor`` installs Agentuity's room manager (npm ``@agentuity/runtime``, pinned by
bench/anchor/package-lock.json) with ``npm ci`` before entering the namespace, and runs it on Node
``ws`` beside ``rtcroom serve`` (each layer), ``webrtc()`` under uvicorn (each ``--ws``) and the
aiohttp adapter, alternating them round by round, all driven by one Node load generator
(bench/anchor/load.mjs). It prints one table, ratios to the anchor included; ``--scale`` adds
10,000 peers trickling ICE and as many idle joined sockets as ``--idle`` (and the open-file
limit) allow.

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
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from rtcroom.loadtest import blast, join, join_pairs, round_trips
from rtcroom.testing import ServeProcess, cpu_seconds, free_port, rss_bytes

SETUPS = {
    "serve": "rtcroom serve (its default layer: aiohttp when installed), memory",
    "uvicorn": "rtcroom serve --server uvicorn (Starlette app, websockets-sansio), memory",
    "aiohttp": "rtcroom.aiohttp adapter (aiohttp web, uvloop), memory",
    "redis": "rtcroom serve --redis, 1 process (default layer)",
    "redis-2": "rtcroom serve --redis, 2 processes (default layer), the peers of each room split",
}

# The aiohttp adapter as its own process, with the options ServeProcess passes to `serve`.
AIOHTTP_SERVER = """
import sys, uvloop
from aiohttp import web
from rtcroom import Limits
from rtcroom.aiohttp import webrtc
async def healthz(request):
    return web.json_response({"status": "ok"})
app = web.Application()
limits = Limits(max_sockets_per_address=0, join_rate=0, frame_rate=1e6, frame_burst=1000000)
app.router.add_get("/api/call/signal", webrtc(max_peers=2, limits=limits))
app.router.add_get("/healthz", healthz)
uvloop.install()
port = int(sys.argv[sys.argv.index("--port") + 1])
web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, backlog=2048)
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
    elif setup == "serve":
        procs = [ServeProcess("--max-peers", "2")]
    elif setup == "uvicorn":
        procs = [ServeProcess("--max-peers", "2", "--server", "uvicorn")]
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


# --- the anchor comparison (--anchor): every server under one Node load generator ------------

ANCHOR_DIR = Path(__file__).resolve().parent / "anchor"
BENCH_LIMITS = (
    "--max-sockets-per-address",
    "0",
    "--join-rate",
    "0",
    "--frame-rate",
    "1000000",
    "--frame-burst",
    "1000000",
)
"""The limits stay on (their cost is measured) but no load-generator address meets them."""

ANCHOR_SETUPS = {
    "anchor": "Agentuity on Node `ws` (@agentuity/runtime 2.0.21)",
    "serve": "`rtcroom serve`",
    "serve-uvicorn": "`rtcroom serve --server uvicorn`",
    "asgi-sansio": "`webrtc()` in FastAPI, uvicorn `--ws websockets-sansio`",
    "asgi-default": "`webrtc()` in FastAPI, uvicorn default `--ws` (websockets)",
    "aiohttp": "`rtcroom.aiohttp` adapter",
}

# webrtc() mounted in FastAPI under uvicorn; argv[1] is uvicorn's --ws.
ASGI_SERVER = """
import sys, uvicorn
from fastapi import FastAPI
from rtcroom import Limits
from rtcroom.asgi import webrtc
app = FastAPI()
limits = Limits(max_sockets_per_address=0, join_rate=0, frame_rate=1e6, frame_burst=1000000)
app.router.add_websocket_route("/api/call/signal", webrtc(max_peers=2, limits=limits))
@app.get("/healthz")
def healthz():
    return {"status": "ok"}
port = int(sys.argv[sys.argv.index("--port") + 1])
uvicorn.run(app, host="127.0.0.1", port=port, ws=sys.argv[1], loop="uvloop", log_level="warning")
"""


def anchor_installed() -> None:
    """``npm ci`` the anchor into bench/anchor/node_modules (before entering the namespace,
    which has no network), unless the lock file's install is there already."""
    if not shutil.which("node") or not shutil.which("npm"):
        raise SystemExit("--anchor needs Node.js and npm (the anchor and the load generator)")
    marker = ANCHOR_DIR / "node_modules" / ".package-lock.json"
    lock = ANCHOR_DIR / "package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return
    print("installing the anchor: npm ci in bench/anchor", flush=True)
    subprocess.run(
        ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=ANCHOR_DIR, check=True
    )


def raise_fd_limit(wanted: int) -> None:
    """Open-file limit for this benchmark and its children only (root may raise the hard one)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(hard, wanted)))
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def anchor_server(setup: str) -> ServeProcess:
    if setup == "anchor":
        return ServeProcess(launcher=["node", str(ANCHOR_DIR / "server.mjs")])
    if setup == "serve":
        return ServeProcess("--max-peers", "2", *BENCH_LIMITS)
    if setup == "serve-uvicorn":
        return ServeProcess("--max-peers", "2", "--server", "uvicorn", *BENCH_LIMITS)
    if setup == "aiohttp":
        return ServeProcess(launcher=[sys.executable, "-c", AIOHTTP_SERVER])
    ws = "websockets-sansio" if setup == "asgi-sansio" else "auto"
    return ServeProcess(launcher=[sys.executable, "-c", ASGI_SERVER, ws])


class LoadGenerator:
    """bench/anchor/load.mjs: one command a line in, one JSON line out."""

    def __init__(self, url: str) -> None:
        self.proc = subprocess.Popen(
            ["node", str(ANCHOR_DIR / "load.mjs"), url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def __call__(self, command: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the load generator died on {command!r}")
        result: dict[str, Any] = orjson.loads(line)
        return result

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def percentile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * q))] if sorted_ms else math.nan


async def anchor_round(setup: str, args: argparse.Namespace) -> dict[str, float]:
    server = anchor_server(setup)
    load: LoadGenerator | None = None
    try:
        await server.wait_ready()
        await asyncio.sleep(0.5)
        rss0 = rss_bytes(server.pid)
        load = LoadGenerator(server.url)
        joined = load(f"join {args.peers}")
        await asyncio.sleep(0.5)
        rss1 = rss_bytes(server.pid)
        cpu0 = cpu_seconds(server.pid)
        blast = load(f"blast {args.blast_rooms} {args.messages} {args.window}")
        cpu = cpu_seconds(server.pid) - cpu0
        rtt = load(f"rtt {args.round_trips}")["ms"]
    finally:
        if load is not None:
            load.close()
        server.close()
    return {
        "cpu_us_per_msg": cpu / blast["msgs"] * 1e6,
        "msgs_per_s": blast["msgs"] / blast["seconds"],
        "rtt_p99_ms": percentile(rtt, 0.99),
        "kib_per_peer": (rss1 - rss0) / args.peers / 1024,
        "join_s": joined["seconds"],
    }


ANCHOR_COLUMNS = [
    ("cpu_us_per_msg", "CPU µs per relayed msg", "{:.1f}"),
    ("msgs_per_s", "relayed msg/s", "{:,.0f}"),
    ("rtt_p99_ms", "relay round trip p99 (ms)", "{:.2f}"),
    ("kib_per_peer", "RSS per joined peer (KiB)", "{:.1f}"),
    ("join_s", "{peers:,} connects + joins (s)", "{:.2f}"),
]


def anchor_table(results: dict[str, list[dict[str, float]]], peers: int) -> str:
    head = "| server | " + " | ".join(t.format(peers=peers) for _, t, _ in ANCHOR_COLUMNS) + " |"
    lines = [head, "|---" + "|---:" * len(ANCHOR_COLUMNS) + "|"]
    anchor = {k: statistics.median(r[k] for r in results["anchor"]) for k, _, _ in ANCHOR_COLUMNS}
    for setup, runs in results.items():
        cells = []
        for key, _, fmt in ANCHOR_COLUMNS:
            values = [r[key] for r in runs]
            med = statistics.median(values)
            cell = f"{fmt.format(med)} ({fmt.format(min(values))}–{fmt.format(max(values))})"
            if setup != "anchor" and anchor[key]:
                cell += f" **{med / anchor[key]:.2f}×**"
            cells.append(cell)
        lines.append(f"| {ANCHOR_SETUPS[setup]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def socket_budget(wanted: int) -> int:
    """Joined sockets one process can hold under this benchmark's open-file limit (the server
    needs one descriptor per socket, and so does the one load-generator process)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return min(wanted, soft - 1000)


async def scale_run(setup: str, args: argparse.Namespace) -> None:
    """10,000 peers (5,000 rooms of two) trickling ICE, then --idle joined sockets held."""
    lines: list[str] = []
    server = anchor_server(setup)
    load: LoadGenerator | None = None
    try:
        await server.wait_ready()
        await asyncio.sleep(0.5)
        rss0 = rss_bytes(server.pid)
        load = LoadGenerator(server.url)
        joined = load("join 10000")
        cpu0 = cpu_seconds(server.pid)
        t = load(f"trickle {args.trickle_rate} {args.trickle_seconds}")
        cpu = cpu_seconds(server.pid) - cpu0
        lines.append(
            f"| {ANCHOR_SETUPS[setup]} | 10,000 joined in {joined['seconds']:.1f} s, "
            f"RSS +{(rss_bytes(server.pid) - rss0) / 2**20:.0f} MiB | {t['sent']:,} ICE frames "
            f"at {args.trickle_rate}/s, {t['received']:,} delivered | relay latency p50 "
            f"{percentile(t['ms'], 0.5):.2f} ms, p99 {percentile(t['ms'], 0.99):.2f} ms, "
            f"max {t['ms'][-1] if t['ms'] else math.nan:.1f} ms | server CPU "
            f"{cpu / args.trickle_seconds * 100:.0f}% of a core |"
        )
        print(lines.pop(), flush=True)
        idle = socket_budget(args.idle)
        if idle > 10000:
            joined = load(f"join {idle - 10000}")
            await asyncio.sleep(1.0)
            rss = rss_bytes(server.pid)
            capped = f" (the open-file limit allows {idle:,})" if idle < args.idle else ""
            print(
                f"| {ANCHOR_SETUPS[setup]} | {idle:,} joined sockets held{capped}, the last "
                f"{idle - 10000:,} joined in {joined['seconds']:.1f} s | RSS "
                f"{rss / 2**20:.0f} MiB in all, {(rss - rss0) / idle / 1024:.1f} KiB per "
                f"socket over the idle server | | |",
                flush=True,
            )
    finally:
        if load is not None:
            load.close()
        server.close()


async def anchor_main(args: argparse.Namespace) -> None:
    raise_fd_limit(2 * max(args.idle, args.peers) + 10_000)
    setups = ["anchor", *[s for s in args.setups if s != "anchor"]]
    print(
        f"{args.peers:,} peers joined ({args.peers // 2:,} rooms of 2); the first "
        f"{args.blast_rooms} rooms ping-pong {args.messages:,} ice frames per peer "
        f"({args.window} in flight); {args.round_trips:,} sequential round trips; "
        f"{args.rounds} rounds alternating the servers; one Node load generator for all; "
        f"{os.cpu_count()} cores. Median (min–max), **ratio of medians to the anchor**.\n",
        flush=True,
    )
    results: dict[str, list[dict[str, float]]] = {s: [] for s in setups}
    for r in range(args.rounds):
        order = setups[r % len(setups) :] + setups[: r % len(setups)]
        for setup in order:
            result = await anchor_round(setup, args)
            results[setup].append(result)
            print(
                f"  round {r + 1} {setup}: " + ", ".join(f"{k} {v:.2f}" for k, v in result.items()),
                flush=True,
            )
    if args.rounds:
        print()
        print(anchor_table(results, args.peers), flush=True)
    if args.scale:
        print("\n| server | joins | trickle | latency | CPU |\n|---|---|---|---|---|")
        for setup in args.scale:
            await scale_run(setup, args)


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
    parser.add_argument("--setups", nargs="+", default=["serve", "uvicorn", "aiohttp"])
    parser.add_argument("--rooms", type=int, default=200)
    parser.add_argument("--messages", type=int, default=250, help="relayed per room")
    parser.add_argument("--round-trips", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--detect-kill",
        action="store_true",
        help="also time how long a kill -9 of one of two --redis processes goes unnoticed",
    )
    parser.add_argument(
        "--anchor",
        action="store_true",
        help="compare with Agentuity's server on Node (npm ci into bench/anchor), one Node load "
        "generator for every server; --setups then picks among " + ", ".join(ANCHOR_SETUPS),
    )
    parser.add_argument("--peers", type=int, default=5000, help="--anchor: peers joined")
    parser.add_argument("--blast-rooms", type=int, default=50, help="--anchor: rooms relaying")
    parser.add_argument("--window", type=int, default=32, help="--anchor: frames in flight")
    parser.add_argument(
        "--scale",
        nargs="*",
        default=[],
        help="--anchor: also 10,000 peers trickling ICE (and --idle sockets) on these servers",
    )
    parser.add_argument("--trickle-rate", type=int, default=1000, help="--scale: frames/s in all")
    parser.add_argument("--trickle-seconds", type=float, default=10.0)
    parser.add_argument("--idle", type=int, default=50_000, help="--scale: joined sockets held")
    parsed = parser.parse_args()
    if not parsed.anchor and set(parsed.setups) - set(SETUPS):
        parser.error(
            f"--setups are {', '.join(SETUPS)} (with --anchor: {', '.join(ANCHOR_SETUPS)})"
        )
    if parsed.anchor:
        anchor_installed()
        if "--setups" not in sys.argv:
            parsed.setups = list(ANCHOR_SETUPS)
        if "--messages" not in sys.argv:
            parsed.messages = 2000
        unknown = set(parsed.setups) - set(ANCHOR_SETUPS)
        if unknown:
            parser.error(f"--anchor setups are {', '.join(ANCHOR_SETUPS)}; not {unknown}")
    enter_loopback_namespace()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(anchor_main(parsed) if parsed.anchor else main(parsed))
