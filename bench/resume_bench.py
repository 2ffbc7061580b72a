"""Resume at scale: 1,000 opted-in peers (500 rooms of 2) on one ``rtcroom serve`` (its default
layer) lose their sockets and all come back under their peer ids::

    python bench/resume_bench.py                 # both variants, 3 rounds each
    python bench/resume_bench.py --variants restart --rooms 500 --rounds 3

``restart``: kill -9 of the server, then the same command on the same port and state directory
(the resume key survives in the state file). A prober connects every 10 ms; the moment the new
process accepts, every peer reconnects at once (the worst case: a thundering herd) and sends
``join`` with its resume token, then one ICE candidate to its partner. ``in-process``: the
server stays up and every client socket is reset (TCP abort, no close frame), so all 1,000
peers are away; once the server has noticed, all resume at once.

Measured from the moment the server accepts again (restart) or the moment the peers start
reconnecting (in-process): until the first signaling frame is relayed again (a candidate from a
resumed peer arrives at its resumed partner), until the last peer got its ``joined`` with
``resumed: true``, and the resume rate (peers/s over that span). The restart variant also gives
the seconds from the relaunch to the first accepted socket (process start-up). Medians of
``--rounds`` rounds, with min and max; also the server's CPU time per resume over that span
(from /proc, so it includes the relayed candidates and the sockets' handshakes). Enters a
loopback-only network namespace when it may.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rtcroom.loadtest import CANDIDATE, receive_frame
from rtcroom.testing import ServeProcess, cpu_seconds
from signaling_bench import BENCH_LIMITS, enter_loopback_namespace, raise_fd_limit

WAIT = 30.0


@dataclass
class Peer:
    room: str
    peer_id: str
    token: str
    partner: str = ""
    ws: aiohttp.ClientWebSocketResponse | None = None


async def join_rooms(http: aiohttp.ClientSession, url: str, rooms: int) -> list[Peer]:
    """Two opted-in peers per room; returns them with their tokens."""
    sockets = [await http.ws_connect(url, max_msg_size=0) for _ in range(2 * rooms)]

    async def join(ws: aiohttp.ClientWebSocketResponse, room: str) -> Peer:
        await ws.send_str(orjson.dumps({"t": "join", "roomId": room, "resume": True}).decode())
        msg = orjson.loads(await receive_frame(ws, WAIT))
        assert msg["t"] == "joined", msg
        return Peer(room, msg["peerId"], msg["resumeToken"], ws=ws)

    first = await asyncio.gather(*(join(sockets[i], f"r{i}") for i in range(rooms)))
    second = await asyncio.gather(*(join(sockets[rooms + i], f"r{i}") for i in range(rooms)))
    for a, b in zip(first, second, strict=True):
        a.partner, b.partner = b.peer_id, a.peer_id
        assert a.ws is not None
        assert orjson.loads(await receive_frame(a.ws, WAIT))["t"] == "peer-joined"
    return [*first, *second]


@dataclass
class Outcome:
    first_relay: float
    all_resumed: float
    rate: float
    startup: float = 0.0
    server_cpu: float = 0.0


async def resume_all(
    http: aiohttp.ClientSession, url: str, peers: list[Peer], t0: float
) -> Outcome:
    """Every peer resumes at once, then sends one candidate to its partner."""
    resumed_at: list[float] = []
    relayed_at: list[float] = []

    async def one(peer: Peer) -> None:
        ws = await http.ws_connect(url, max_msg_size=0)
        peer.ws = ws
        frame = {"t": "join", "roomId": peer.room, "resumeToken": peer.token}
        await ws.send_str(orjson.dumps(frame).decode())
        msg = orjson.loads(await receive_frame(ws, WAIT))
        if msg.get("t") != "joined" or msg.get("peerId") != peer.peer_id:
            raise RuntimeError(f"resume of {peer.peer_id} refused: {msg}")
        resumed_at.append(time.perf_counter())
        peer.token = msg["resumeToken"]
        candidate = {"t": "ice", "to": peer.partner, "candidate": CANDIDATE}
        await ws.send_str(orjson.dumps(candidate).decode())
        while True:  # FRAMES_LOST, peer-joined: until the partner's candidate arrives
            msg = orjson.loads(await receive_frame(ws, WAIT))
            if msg["t"] == "ice":
                assert msg["from"] == peer.partner, msg
                relayed_at.append(time.perf_counter())
                return

    async with asyncio.timeout(WAIT * 2):
        await asyncio.gather(*(one(p) for p in peers))
    spent = max(resumed_at) - t0
    return Outcome(min(relayed_at) - t0, spent, len(peers) / spent)


async def gone(peers: list[Peer]) -> None:
    """Until every client saw its socket end."""
    for peer in peers:
        assert peer.ws is not None
        while not peer.ws.closed:
            try:
                await receive_frame(peer.ws, WAIT)
            except Exception:
                break


async def restart_round(rooms: int) -> Outcome:
    connector = aiohttp.TCPConnector(limit=0)
    server = ServeProcess("--max-peers", "2", "--resume-grace", "60", *BENCH_LIMITS)
    async with server, aiohttp.ClientSession(connector=connector) as http:
        peers = await join_rooms(http, server.url, rooms)
        server.kill()
        await gone(peers)
        launched = time.perf_counter()
        again = server.relaunch()
        try:
            while True:  # the prober: the first socket the new process accepts
                try:
                    probe = await http.ws_connect(again.url)
                    break
                except aiohttp.ClientError:
                    if again.proc.poll() is not None:
                        raise RuntimeError(f"restart failed:\n{again.output()}") from None
                    await asyncio.sleep(0.01)
            accepted = time.perf_counter()
            cpu0 = cpu_seconds(again.pid)
            await probe.close()
            outcome = await resume_all(http, again.url, peers, accepted)
            outcome.server_cpu = cpu_seconds(again.pid) - cpu0
            outcome.startup = accepted - launched
            await close_all(peers)
        finally:
            again.close()
    return outcome


async def in_process_round(rooms: int) -> Outcome:
    connector = aiohttp.TCPConnector(limit=0)
    server = ServeProcess("--max-peers", "2", "--resume-grace", "60", *BENCH_LIMITS)
    async with server, aiohttp.ClientSession(connector=connector) as http:
        peers = await join_rooms(http, server.url, rooms)
        for peer in peers:
            assert peer.ws is not None
            peer.ws._conn.transport.abort()  # type: ignore[union-attr]  # a reset, no close frame
        await asyncio.sleep(1.0)  # the server notices every reset
        cpu0 = cpu_seconds(server.pid)
        outcome = await resume_all(http, server.url, peers, time.perf_counter())
        outcome.server_cpu = cpu_seconds(server.pid) - cpu0
        await close_all(peers)
    return outcome


async def close_all(peers: list[Peer]) -> None:
    for peer in peers:
        if peer.ws is not None:
            await peer.ws.close()


def spread(values: list[float], scale: float = 1.0, digits: int = 0) -> str:
    med = statistics.median(values) * scale
    lo, hi = min(values) * scale, max(values) * scale
    return f"{med:,.{digits}f} ({lo:,.{digits}f}–{hi:,.{digits}f})"


async def main(args: argparse.Namespace) -> None:
    print(
        f"{2 * args.rooms} opted-in peers in {args.rooms} rooms of 2, rtcroom serve (default "
        f"layer), median (min–max) of {args.rounds} rounds"
    )
    for variant in args.variants:
        outcomes = []
        for _ in range(args.rounds):
            run = restart_round if variant == "restart" else in_process_round
            outcomes.append(await run(args.rooms))
        print(f"\n{variant}:")
        if variant == "restart":
            print(f"  relaunch -> accepting:     {spread([o.startup for o in outcomes], 1e3)} ms")
        print(f"  -> first frame relayed:    {spread([o.first_relay for o in outcomes], 1e3)} ms")
        print(
            f"  -> all {2 * args.rooms} resumed:       "
            f"{spread([o.all_resumed for o in outcomes], 1e3)} ms"
        )
        print(f"  resume rate:               {spread([o.rate for o in outcomes])} peers/s")
        cpu = [o.server_cpu / (2 * args.rooms) for o in outcomes]
        print(f"  server CPU per resume:     {spread(cpu, 1e6)} µs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=["restart", "in-process"],
        default=["restart", "in-process"],
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
