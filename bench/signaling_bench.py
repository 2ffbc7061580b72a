"""Signaling load benchmark: relayed messages/s, relay latency, joins/s, memory per peer,
and server CPU per relayed message, for each transport.

    unshare -n sh -c 'ip link set lo up; python bench/signaling_bench.py'

The server runs in its own process (so its CPU time is its own); the load comes from this
process over real WebSockets on 127.0.0.1. Each number is the median of ``--rounds`` rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import orjson

from processes import checkout_env, cpu_seconds, free_port, serve_command

# A realistic trickled candidate as Chromium sends it (~230 bytes on the wire).
CANDIDATE = {
    "candidate": "candidate:842163049 1 udp 1677729535 203.0.113.7 56143 typ srflx raddr "
    "192.168.1.20 rport 56143 generation 0 ufrag EEtu network-cost 999",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "EEtu",
}

SERVERS = {
    "uvicorn": "rtcroom serve (Starlette app, uvicorn, websockets-sansio, uvloop)",
    "aiohttp": "rtcroom.aiohttp adapter (aiohttp web, uvloop)",
}

_AIOHTTP_SERVER = """
import sys, uvloop
from aiohttp import web
from rtcroom.aiohttp import webrtc
app = web.Application()
app.router.add_get("/api/call/signal", webrtc(max_peers=2))
uvloop.install()
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@contextlib.asynccontextmanager
async def server_process(kind: str) -> AsyncIterator[tuple[int, str]]:
    port = free_port()
    env = checkout_env()
    if kind == "uvicorn":
        cmd = serve_command(port)
    else:
        cmd = [sys.executable, "-c", _AIOHTTP_SERVER, str(port)]
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before measuring
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"ws://127.0.0.1:{port}/api/call/signal"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.ws_connect(url):
                        break
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError(f"{kind} server did not start")
        yield proc.pid, url
    finally:
        proc.terminate()
        proc.wait(10)


Pair = tuple[aiohttp.ClientWebSocketResponse, aiohttp.ClientWebSocketResponse, str, str]
"""(sender socket, receiver socket, sender id, receiver id)"""


async def join_pairs(http: aiohttp.ClientSession, url: str, rooms: int) -> tuple[list[Pair], float]:
    """Open 2 sockets per room and join them; returns the pairs and the joins per second."""
    sockets = [await http.ws_connect(url, max_msg_size=0) for _ in range(rooms * 2)]
    start = time.perf_counter()

    async def join(ws: aiohttp.ClientWebSocketResponse, room: str) -> str:
        await ws.send_str(orjson.dumps({"t": "join", "roomId": room}).decode())
        msg = orjson.loads(await ws.receive_str())
        assert msg["t"] == "joined", msg
        peer_id: str = msg["peerId"]
        return peer_id

    firsts = await asyncio.gather(*(join(sockets[2 * i], f"r{i}") for i in range(rooms)))
    seconds = await asyncio.gather(*(join(sockets[2 * i + 1], f"r{i}") for i in range(rooms)))
    joins_per_s = 2 * rooms / (time.perf_counter() - start)
    await asyncio.gather(*(sockets[2 * i].receive_str() for i in range(rooms)))  # peer-joined
    pairs = [(sockets[2 * i + 1], sockets[2 * i], seconds[i], firsts[i]) for i in range(rooms)]
    return pairs, joins_per_s


async def blast(pairs: list[Pair], per_pair: int) -> float:
    """Every pair relays ``per_pair`` candidates one way at full speed; returns seconds."""
    start = time.perf_counter()

    async def send(ws: aiohttp.ClientWebSocketResponse, to: str) -> None:
        frame = orjson.dumps({"t": "ice", "from": "x", "to": to, "candidate": CANDIDATE}).decode()
        for i in range(per_pair):
            await ws.send_str(frame)
            if i % 64 == 63:
                await asyncio.sleep(0)

    async def receive(ws: aiohttp.ClientWebSocketResponse) -> None:
        for _ in range(per_pair):
            await ws.receive_str()

    await asyncio.gather(
        *(send(s, to) for s, _, _, to in pairs), *(receive(r) for _, r, _, _ in pairs)
    )
    return time.perf_counter() - start


async def ping_pong(
    a: aiohttp.ClientWebSocketResponse,
    b: aiohttp.ClientWebSocketResponse,
    a_id: str,
    b_id: str,
    count: int,
) -> list[float]:
    """Round trips through the relay, one at a time: the latency a negotiation sees."""
    to_b = orjson.dumps({"t": "ice", "to": b_id, "candidate": CANDIDATE}).decode()
    to_a = orjson.dumps({"t": "ice", "to": a_id, "candidate": CANDIDATE}).decode()
    out = []
    for _ in range(count):
        start = time.perf_counter()
        await a.send_str(to_b)
        await b.receive_str()
        await b.send_str(to_a)
        await a.receive_str()
        out.append(time.perf_counter() - start)
    return out


async def one_round(kind: str, rooms: int, per_pair: int) -> dict[str, float]:
    connector = aiohttp.TCPConnector(limit=0)
    async with (
        server_process(kind) as (pid, url),
        aiohttp.ClientSession(connector=connector) as http,
    ):
        await asyncio.sleep(0.3)
        rss_before = rss_bytes(pid)
        pairs, joins_per_s = await join_pairs(http, url, rooms)
        await asyncio.sleep(0.3)
        mem_per_peer = (rss_bytes(pid) - rss_before) / (2 * rooms)
        cpu0 = cpu_seconds(pid)
        seconds = await blast(pairs, per_pair)
        cpu = cpu_seconds(pid) - cpu0
        messages = rooms * per_pair
        sender, receiver, sender_id, receiver_id = pairs[0]
        rtts = sorted(await ping_pong(sender, receiver, sender_id, receiver_id, 2000))
        for s, r, _, _ in pairs:
            await s.close()
            await r.close()
        return {
            "msgs_per_s": messages / seconds,
            "cpu_us_per_msg": cpu / messages * 1e6,
            "rtt_median_ms": statistics.median(rtts) * 1e3,
            "rtt_p99_ms": rtts[int(len(rtts) * 0.99)] * 1e3,
            "joins_per_s": joins_per_s,
            "kib_per_peer": mem_per_peer / 1024,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", nargs="+", default=list(SERVERS), choices=list(SERVERS))
    parser.add_argument("--rooms", type=int, default=200)
    parser.add_argument("--messages", type=int, default=250, help="relayed per room")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(
        f"{args.rooms} rooms x 2 peers, {args.messages} candidates relayed per room, "
        f"median of {args.rounds} rounds\n"
    )
    print(
        "| server | relayed msg/s | server CPU µs/msg | relay round trip median / p99 (ms) "
        "| joins/s | memory per peer (KiB) |"
    )
    print("|---|---|---|---|---|---|")
    for kind in args.servers:
        results = [
            asyncio.run(one_round(kind, args.rooms, args.messages)) for _ in range(args.rounds)
        ]
        med = {k: statistics.median(r[k] for r in results) for k in results[0]}
        print(
            f"| {SERVERS[kind]} | {med['msgs_per_s']:,.0f} | {med['cpu_us_per_msg']:.1f} | "
            f"{med['rtt_median_ms']:.2f} / {med['rtt_p99_ms']:.2f} | "
            f"{med['joins_per_s']:,.0f} | {med['kib_per_peer']:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
