"""Which pub/sub link should the Redis relay use: the hand-written RESP one, or redis-py's?

One command (it enters a loopback-only network namespace itself when it may)::

    python bench/redis_pubsub_bench.py [--pairs 20] [--messages 2000] [--rounds 5]

One private ``redis-server`` and, per link, two ``rtcroom serve --redis`` processes. Each round
joins ``--pairs`` rooms of two peers, the receiver on the second process and the sender on the
first, and has each sender send ``--messages`` ICE frames as fast as its socket takes them, so
every frame crosses Redis. The links take turns round by round (A B B A A B ...), so a change in
the machine's load hits both. Reported per link: the median and range over the rounds of relayed
frames per second (first send to last receipt), and CPU µs per frame of the receiving process,
the sending process and redis-server (from /proc).

``RedisPyLink`` below is the candidate built on redis-py's asyncio ``PubSub`` (receiving) and
non-transactional pipelines (publishing, one batch in flight, so frames keep their order); a
server process runs with it when started as ``redis_pubsub_bench.py --serve-with-redis-py ...``.

What it decided (2 runs of 5 rounds, 2 shared cores): the RESP link costs about half the CPU per
frame of redis-py's, on the receiving (~15 vs ~31 µs) and the sending process (~22 vs ~48 µs),
so the relay keeps it. With the optional ``hiredis`` parser installed redis-py comes closer
(one run: receiving ~16.5 vs ~14.2 µs, sending ~30 vs ~21 µs) but still loses.
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
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson
import websockets

from rtcroom.testing import ServeProcess, cpu_seconds, free_port

CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host generation 0",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "Zb1c",
}
LINKS = ("resp", "redis-py")
CONGESTED = 4096  # queued frames before ``publish`` waits for the link, as RESP's 1 MB


class RedisPyLink:
    """The relay's link on redis-py: ``PubSub.get_message`` in, pipelined ``PUBLISH`` out."""

    def __init__(self, client: Any, pubsub: Any) -> None:
        self._client = client
        self._pubsub = pubsub
        self._queue: deque[tuple[bytes, bytes]] = deque()
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()
        self._closed = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._publisher = asyncio.create_task(self._publish_queued())

    @classmethod
    async def open(cls, address: Any, timeout: float) -> RedisPyLink:
        from redis.asyncio import ConnectionPool, Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        pool = ConnectionPool(
            **{
                **address.options,
                "socket_connect_timeout": timeout,
                "retry": Retry(NoBackoff(), 0),  # the relay drives reconnects
            }
        )
        client = Redis(connection_pool=pool)
        pubsub = client.pubsub()
        await asyncio.wait_for(pubsub.connect(), timeout)
        return cls(client, pubsub)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def subscribe(self, *channels: bytes) -> None:
        self._check()
        self._spawn(self._pubsub.subscribe(*channels))

    def unsubscribe(self, *channels: bytes) -> None:
        self._check()
        self._spawn(self._pubsub.unsubscribe(*channels))

    def publish(self, channel: bytes, payload: bytes) -> None:
        self._check()
        self._queue.append((channel, payload))
        self._empty.clear()
        self._wake.set()

    def congested(self) -> bool:
        return len(self._queue) > CONGESTED

    async def drain(self) -> None:
        await self._empty.wait()

    async def message(self) -> tuple[bytes, bytes, bytes | int]:
        while True:
            if self._closed:
                raise ConnectionResetError("the link to Redis is closed")
            msg = await self._pubsub.get_message(timeout=None)
            if msg is not None:
                return msg["type"].encode(), msg["channel"], msg["data"]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._publisher.cancel()
        self._spawn(self._shut())

    async def _shut(self) -> None:
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self._client.aclose()

    def _check(self) -> None:
        if self._closed:
            raise ConnectionResetError("the link to Redis is closed")

    async def _publish_queued(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._queue:
                    pipe = self._client.pipeline(transaction=False)
                    while self._queue:
                        channel, payload = self._queue.popleft()
                        pipe.publish(channel, payload)
                    await pipe.execute()
                self._empty.set()
        except asyncio.CancelledError:
            raise
        except Exception:
            self.close()


def serve_with_redis_py(argv: list[str]) -> int:
    from rtcroom import cli
    from rtcroom.backends.redis import relay

    relay.Link = RedisPyLink  # type: ignore[misc,assignment]
    return cli.main(argv)


# --- the load ---------------------------------------------------------------------------------


def start_server(link: str, redis_url: str) -> ServeProcess:
    launcher = [sys.executable, __file__, "--serve-with-redis-py"] if link == "redis-py" else None
    return ServeProcess("--redis", redis_url, launcher=launcher)


def start_redis(port: int) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    assert binary, "needs redis-server (apt-get install redis-server)"
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL)


async def wait_port(port: int) -> None:
    for _ in range(400):
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
class Sample:
    rate: float
    receiver_us: float
    sender_us: float
    redis_us: float


async def one_round(
    urls: tuple[str, str],
    pids: tuple[int, int],
    redis_pid: int,
    pairs: int,
    messages: int,
    tag: str,
) -> Sample:
    rooms = []
    for i in range(pairs):
        rx, rx_id = await join(urls[1], f"{tag}-{i}")
        tx, _ = await join(urls[0], f"{tag}-{i}")
        assert orjson.loads(await rx.recv())["t"] == "peer-joined"
        rooms.append((tx, rx, rx_id))
    frames = [
        orjson.dumps({"t": "ice", "to": rx_id, "candidate": CANDIDATE}).decode()
        for _, _, rx_id in rooms
    ]

    async def send(tx: websockets.ClientConnection, frame: str) -> None:
        for _ in range(messages):
            await tx.send(frame)

    async def receive(rx: websockets.ClientConnection) -> None:
        for _ in range(messages):
            await asyncio.wait_for(rx.recv(), 30)

    cpu0 = [cpu_seconds(p) for p in (*pids, redis_pid)]
    start = time.perf_counter()
    await asyncio.gather(
        *(send(tx, f) for (tx, _, _), f in zip(rooms, frames, strict=True)),
        *(receive(rx) for _, rx, _ in rooms),
    )
    wall = time.perf_counter() - start
    sender, receiver, redis = (
        cpu_seconds(p) - c for p, c in zip((*pids, redis_pid), cpu0, strict=True)
    )
    for tx, rx, _ in rooms:
        await tx.close()
        await rx.close()
    total = pairs * messages
    return Sample(total / wall, receiver / total * 1e6, sender / total * 1e6, redis / total * 1e6)


def summary(values: list[float], digits: int) -> str:
    """Median (min–max)."""
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:,.{digits}f} ({low:,.{digits}f}–{high:,.{digits}f})"


async def main(args: argparse.Namespace) -> None:
    redis_port = free_port()
    redis = start_redis(redis_port)
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    procs: dict[str, list[ServeProcess]] = {}
    urls: dict[str, tuple[str, str]] = {}
    try:
        await wait_port(redis_port)
        for link in LINKS:
            procs[link] = [start_server(link, redis_url) for _ in range(2)]
            for proc in procs[link]:
                await proc.wait_ready()
            urls[link] = (procs[link][0].url, procs[link][1].url)
        await asyncio.sleep(1.0)
        samples: dict[str, list[Sample]] = {link: [] for link in LINKS}
        for link in LINKS:  # warm up both
            pids = (procs[link][0].pid, procs[link][1].pid)
            await one_round(urls[link], pids, redis.pid, args.pairs, 200, f"warm-{link}")
        for i in range(args.rounds):
            order = LINKS if i % 2 == 0 else LINKS[::-1]
            for link in order:
                pids = (procs[link][0].pid, procs[link][1].pid)
                s = await one_round(
                    urls[link], pids, redis.pid, args.pairs, args.messages, f"r{i}-{link}"
                )
                samples[link].append(s)
                print(
                    f"round {i + 1} {link:8}: {s.rate:8,.0f} frames/s, receiver "
                    f"{s.receiver_us:5.1f} µs/frame, sender {s.sender_us:5.1f}, "
                    f"redis-server {s.redis_us:4.1f}",
                    flush=True,
                )
    finally:
        for group in procs.values():
            for p in group:
                p.close()
        redis.terminate()
        redis.wait(10)
    print(
        f"\n{args.pairs} rooms x {args.messages} ICE frames across two processes, "
        f"{args.rounds} alternating rounds per link, {os.cpu_count()} cores; "
        "median (min–max)\n"
    )
    print(
        "| pub/sub link | relayed frames/s | receiver CPU µs/frame | sender CPU µs/frame "
        "| redis-server CPU µs/frame |"
    )
    print("|---|---:|---:|---:|---:|")
    for link in LINKS:
        s = samples[link]
        print(
            f"| {link} | {summary([x.rate for x in s], 0)} "
            f"| {summary([x.receiver_us for x in s], 1)} "
            f"| {summary([x.sender_us for x in s], 1)} "
            f"| {summary([x.redis_us for x in s], 1)} |"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-with-redis-py":
        sys.exit(serve_with_redis_py(sys.argv[2:]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parsed = parser.parse_args()
    if (
        os.environ.get("RTCROOM_BENCH_NETNS") != "1"
        and shutil.which("unshare")
        and os.geteuid() == 0
    ):
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
