"""Relay throughput and server CPU per message: memory vs Redis, one process vs two.

One command (it enters a loopback-only network namespace itself when it may)::

    python bench/relay_cluster.py [--pairs 20] [--messages 2000] [--rounds 3]

Each scenario starts real ``rtcroom serve`` processes (and a private ``redis-server``), joins
``--pairs`` rooms of two peers, and has one peer of each room send ``--messages`` ICE frames to
the other as fast as the socket takes them. Reported: delivered messages per second (wall time
from the first send to the last receipt), and CPU seconds per message of the rtcroom processes
and of redis-server (from /proc). The load generator shares the machine's cores with them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import orjson
import websockets

from processes import checkout_env, cpu_seconds, free_port, serve_command

PATH = "/api/call/signal"
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host generation 0",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "Zb1c",
}


def start_server(redis_url: str | None, port: int) -> subprocess.Popen[bytes]:
    extra = ["--redis", redis_url] if redis_url else []
    return subprocess.Popen(
        serve_command(port, *extra),
        env=checkout_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_redis(port: int) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    assert binary, "needs redis-server (apt-get install redis-server)"
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL)


async def wait_port(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


async def join(url: str, room: str) -> tuple[websockets.ClientConnection, str]:
    ws = await websockets.connect(url, max_size=None)
    await ws.send(orjson.dumps({"t": "join", "roomId": room}).decode())
    msg = orjson.loads(await ws.recv())
    assert msg["t"] == "joined", msg
    return ws, msg["peerId"]


@dataclass
class Result:
    rate: float
    server_us: float
    redis_us: float
    joins: float = 0.0


async def join_rate(urls: list[str], clients: int, tag: str) -> float:
    """Joins per second: ``clients`` open sockets join rooms of two at once, spread over the
    processes; timed from the first join frame to the last ``joined``."""
    sockets = [await websockets.connect(urls[i % len(urls)]) for i in range(clients)]
    frames = [
        orjson.dumps({"t": "join", "roomId": f"{tag}-{i // 2}"}).decode() for i in range(clients)
    ]

    async def join_one(ws: websockets.ClientConnection, frame: str) -> None:
        await ws.send(frame)
        while (msg := orjson.loads(await ws.recv()))["t"] != "joined":
            assert msg["t"] == "peer-joined", f"join refused: {msg}"

    start = time.perf_counter()
    await asyncio.gather(*(join_one(ws, f) for ws, f in zip(sockets, frames, strict=True)))
    wall = time.perf_counter() - start
    for ws in sockets:
        await ws.close()
    return clients / wall


async def detection_seconds(redis_url: str) -> float:
    """kill -9 one of two processes (default ``--redis-node-ttl``); seconds until its peer's
    partner hears ``peer-left``."""
    ports = [free_port(), free_port()]
    procs = [start_server(redis_url, port) for port in ports]
    try:
        for port in ports:
            await wait_port(port)
        await asyncio.sleep(6.5)  # survivors reap only after node_ttl connected
        a, _ = await join(f"ws://127.0.0.1:{ports[0]}{PATH}", "detect")
        _b, _ = await join(f"ws://127.0.0.1:{ports[1]}{PATH}", "detect")
        assert orjson.loads(await a.recv())["t"] == "peer-joined"
        procs[1].kill()
        start = time.perf_counter()
        msg = orjson.loads(await asyncio.wait_for(a.recv(), 60))
        assert msg["t"] == "peer-left", msg
        elapsed = time.perf_counter() - start
        await a.close()
        return elapsed
    finally:
        for p in procs:
            p.kill()
            p.wait(10)


async def one_round(
    urls: tuple[str, str],
    pids: list[int],
    redis_pid: int | None,
    pairs: int,
    messages: int,
    tag: str,
) -> Result:
    rooms = []
    for i in range(pairs):
        rx, rx_id = await join(urls[1], f"{tag}-{i}")
        tx, _ = await join(urls[0], f"{tag}-{i}")
        assert orjson.loads(await rx.recv())["t"] == "peer-joined"
        rooms.append((tx, rx, rx_id))
    frames = [
        orjson.dumps({"t": "ice", "to": rx_id, "candidate": {**CANDIDATE, "n": 0}}).decode()
        for _, _, rx_id in rooms
    ]

    async def send(tx: websockets.ClientConnection, frame: str) -> None:
        for _ in range(messages):
            await tx.send(frame)

    async def receive(rx: websockets.ClientConnection) -> None:
        for _ in range(messages):
            await rx.recv()

    cpu0 = sum(cpu_seconds(p) for p in pids)
    redis0 = cpu_seconds(redis_pid) if redis_pid else 0.0
    start = time.perf_counter()
    await asyncio.gather(
        *(send(tx, f) for (tx, _, _), f in zip(rooms, frames, strict=True)),
        *(receive(rx) for _, rx, _ in rooms),
    )
    wall = time.perf_counter() - start
    total = pairs * messages
    cpu = sum(cpu_seconds(p) for p in pids) - cpu0
    redis_cpu = (cpu_seconds(redis_pid) - redis0) if redis_pid else 0.0
    for tx, rx, _ in rooms:
        await tx.close()
        await rx.close()
    return Result(total / wall, cpu / total * 1e6, redis_cpu / total * 1e6)


async def scenario(
    name: str,
    redis_url: str | None,
    processes: int,
    redis_pid: int | None,
    args: argparse.Namespace,
) -> tuple[str, Result]:
    ports = [free_port() for _ in range(processes)]
    procs = [start_server(redis_url, port) for port in ports]
    try:
        for port in ports:
            await wait_port(port)
        await asyncio.sleep(0.5)
        urls = [f"ws://127.0.0.1:{port}{PATH}" for port in ports]
        pair = (urls[0], urls[-1])  # sender on the first process, receiver on the last
        pids = [p.pid for p in procs]
        await one_round(pair, pids, redis_pid, args.pairs, 100, "warmup")
        joins = statistics.median([await join_rate(urls, 200, f"j{i}") for i in range(3)])
        results = [
            await one_round(pair, pids, redis_pid, args.pairs, args.messages, f"r{i}")
            for i in range(args.rounds)
        ]
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
    best = Result(
        statistics.median(r.rate for r in results),
        statistics.median(r.server_us for r in results),
        statistics.median(r.redis_us for r in results),
        joins,
    )
    return name, best


async def main(args: argparse.Namespace) -> None:
    redis_port = free_port()
    redis = start_redis(redis_port)
    url = f"redis://127.0.0.1:{redis_port}/0"
    try:
        await wait_port(redis_port)
        rows = [
            await scenario("1 process, memory backend", None, 1, None, args),
            await scenario("1 process, Redis backend", url, 1, redis.pid, args),
            await scenario("2 processes, Redis, peers split", url, 2, redis.pid, args),
        ]
        detected = await detection_seconds(url)
    finally:
        redis.terminate()
        redis.wait(10)
    print(
        f"\n{args.pairs} rooms x {args.messages} ICE frames, median of {args.rounds} rounds, "
        f"{os.cpu_count()} cores\n"
    )
    print("| setup | relayed msg/s | rtcroom CPU µs/msg | redis-server CPU µs/msg | joins/s |")
    print("|---|---:|---:|---:|---:|")
    for name, r in rows:
        redis_col = f"{r.redis_us:.1f}" if "Redis" in name else "–"
        print(f"| {name} | {r.rate:,.0f} | {r.server_us:.1f} | {redis_col} | {r.joins:,.0f} |")
    print(
        f"\nkill -9 of one of two processes: its peer announced as left after {detected:.1f} s "
        "(documented bound: 6 s with the defaults)"
    )


def in_namespace() -> bool:
    return os.environ.get("RTCROOM_BENCH_NETNS") == "1"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parsed = parser.parse_args()
    if not in_namespace() and shutil.which("unshare") and os.geteuid() == 0:
        os.environ["RTCROOM_BENCH_NETNS"] = "1"
        os.execvp(
            "unshare",
            [
                "unshare",
                "-n",
                "sh",
                "-c",
                'ip link set lo up && exec "$@"',
                "sh",
                sys.executable,
                *sys.argv,
            ],
        )
    asyncio.run(main(parsed))
