"""Evaluation of libdatachannel's Python bindings as a data-channel engine (issue 13).

Runs the same measurement as ``bench/client_bench.py`` (its receiver/sender protocol and its
Chromium page, imported from there) on pairs that mix engines, each side through a real
rtcroom signaling server, so a native binding's figures sit next to Chromium's in one run::

    unshare -n sh -c 'ip link set lo up && PY312/bin/python bench/native_dc_eval.py'

The bindings need Python >= 3.12, so this runs in a separate interpreter with ``rtcroom[test]``,
``libdatachannel-py`` and ``aiolibdatachannel`` installed (docs/native-datachannels.md).

Engines: ``ldc`` (libdatachannel-py: thin nanobind mirror of the C++ API, callbacks on
libdatachannel's threads, bridged here with ``call_soon_threadsafe``), ``aioldc``
(aiolibdatachannel: asyncio wrapper; its send is async, so the sender uses its native handle for a
synchronous send), ``aiortc``, ``rtcroom`` (client_bench.py's peers) and ``chromium`` (a page).
Pairs are ``RECEIVER:SENDER``; ``--pairs chromium:chromium,ldc:ldc,chromium:ldc,...``; rounds
alternate between the pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import websockets

import client_bench as cb  # the shared protocol, page and Python peers (bench/ is on sys.path)
from rtcroom.app import create_app
from rtcroom.testing import run_uvicorn
from rtcroom.testing.browser import chromium

MB = cb.MB


class Signal:
    """The rtcroom wire protocol for one peer: join, then sdp/ice addressed to the other peer."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.remote = ""

    async def send(self, msg: dict[str, Any]) -> None:
        await self.ws.send(json.dumps({**msg, "to": self.remote}))


async def run_native(role: str, url: str, room: str, total: int, engine: str) -> dict[str, Any]:
    """One native peer: joins, offers if the room is not empty, answers otherwise."""
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    ws = await websockets.connect(url, proxy=None, compression=None, max_size=None)
    sig = Signal(ws)
    await ws.send(json.dumps({"t": "join", "roomId": room}))
    peer = LdcPeer(loop, sig) if engine == "ldc" else AioLdcPeer(loop, sig)
    await peer.start()
    while not peer.opened.done():
        recv = asyncio.ensure_future(ws.recv())
        await asyncio.wait([recv, peer.opened], timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if not recv.done():
            recv.cancel()
            if not peer.opened.done():
                raise RuntimeError(f"{engine}: no data channel after 30 s")
            break
        msg = json.loads(recv.result())
        if msg["t"] == "joined" and msg["peers"]:
            sig.remote = msg["peers"][0]
            await peer.offer()
        elif msg["t"] == "sdp":
            sig.remote = msg["from"]
            await peer.remote_description(msg["description"]["sdp"], msg["description"]["type"])
        elif msg["t"] == "ice" and msg.get("candidate", {}).get("candidate"):
            c = msg["candidate"]
            await peer.remote_candidate(c["candidate"], c.get("sdpMid") or "0")
    connect_ms = (time.perf_counter() - start) * 1000
    try:
        if role == "receiver":
            receiver = cb.Receiver(peer.send)
            peer.handler = receiver.on_message
            await asyncio.wait_for(receiver.finished.wait(), 600)
            return {}
        sender = cb.Sender(peer.send, peer.buffered, peer.wait_low)
        peer.handler = sender.on_message
        result = await sender.run(total)
        result["connect_ms"] = connect_ms
        return result
    finally:
        await peer.close()
        await ws.close()


class LdcPeer:
    """libdatachannel-py: callbacks arrive on libdatachannel's threads; each hops to the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sig: Signal) -> None:
        import libdatachannel as ldc

        self.ldc = ldc
        self.loop = loop
        self.sig = sig
        cfg = ldc.Configuration()
        cfg.ice_servers = []  # explicit and empty: host candidates only
        cfg.disable_auto_negotiation = True
        # libjuice skips loopback interfaces: without this, no host candidate in the namespace.
        cfg.bind_address = "127.0.0.1"
        self.pc = ldc.PeerConnection(cfg)
        self.opened: asyncio.Future[None] = loop.create_future()
        self.low = asyncio.Event()
        self.dc: Any = None
        self.pending: set[asyncio.Future[None]] = set()
        self.early: list[str | bytes] = []
        self.handler: Callable[[str | bytes], None] | None = None
        self.pc.on_local_candidate(
            lambda c: self.hop(self.forward, {"t": "ice", "candidate": {
                "candidate": c.candidate(), "sdpMid": c.mid(), "sdpMLineIndex": 0}})
        )  # fmt: skip
        self.pc.on_local_description(
            lambda d: self.hop(self.forward, {"t": "sdp", "description": {
                "type": d.type_string(), "sdp": str(d)}})
        )  # fmt: skip
        # Registered on libdatachannel's thread, inside its callback: from the loop thread,
        # libdatachannel-py takes the channel's callback lock while holding the GIL and deadlocks
        # against a callback fired at that moment (seen: the receiver froze, SCTP window at 0).
        self.pc.on_data_channel(self.watch)

    def hop(self, fn: Callable[..., Any], *args: Any) -> None:
        self.loop.call_soon_threadsafe(fn, *args)

    def forward(self, msg: dict[str, Any]) -> None:
        self.pending.add(task := asyncio.ensure_future(self.sig.send(msg)))
        task.add_done_callback(self.pending.discard)

    def watch(self, dc: Any) -> None:
        self.dc = dc
        dc.set_buffered_amount_low_threshold(cb.LOW)
        dc.on_buffered_amount_low(lambda: self.hop(self.low.set))
        dc.on_message(lambda m: self.hop(self.deliver, m))
        dc.on_open(lambda: self.hop(self.set_open))
        if dc.is_open():
            self.hop(self.set_open)

    def set_open(self) -> None:
        if not self.opened.done():
            self.opened.set_result(None)

    def deliver(self, m: str | bytes) -> None:
        if self.handler is None:
            self.early.append(m)
            return
        for e in self.early:
            self.handler(e)
        self.early.clear()
        self.handler(m)

    async def start(self) -> None:
        pass

    async def offer(self) -> None:
        self.watch(self.pc.create_data_channel("bench"))
        self.pc.set_local_description(self.ldc.Description.Type.Offer)

    async def remote_description(self, sdp: str, kind: str) -> None:
        self.pc.set_remote_description(self.ldc.Description(sdp, kind))
        if kind == "offer":
            self.pc.set_local_description(self.ldc.Description.Type.Answer)

    async def remote_candidate(self, candidate: str, mid: str) -> None:
        self.pc.add_remote_candidate(self.ldc.Candidate(candidate, mid))

    def send(self, data: str | bytes) -> None:
        self.dc.send(data)

    def buffered(self) -> int:
        return int(self.dc.buffered_amount())

    async def wait_low(self) -> None:
        self.low.clear()
        if self.dc.buffered_amount() > cb.LOW:
            await asyncio.wait_for(self.low.wait(), 60)

    async def close(self) -> None:
        self.pc.close()


class AioLdcPeer:
    """aiolibdatachannel: asyncio-native; trickle ICE through its candidate iterator."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sig: Signal) -> None:
        import aiolibdatachannel as ald

        self.ald = ald
        self.loop = loop
        self.sig = sig
        self.opened: asyncio.Future[None] = loop.create_future()
        self.handler: Callable[[str | bytes], None] | None = None
        self.dc: Any = None
        self.tasks: list[asyncio.Task[Any]] = []

    async def start(self) -> None:
        self.pc = self.ald.PeerConnection(self.ald.RTCConfiguration(ice_servers=[]))
        self.tasks.append(asyncio.ensure_future(self.pump_candidates()))
        self.tasks.append(asyncio.ensure_future(self.accept()))

    async def pump_candidates(self) -> None:
        async for c in self.pc.ice_candidates():
            await self.sig.send(
                {"t": "ice", "candidate": {"candidate": c.candidate, "sdpMid": c.mid,
                                           "sdpMLineIndex": 0}}
            )  # fmt: skip

    async def accept(self) -> None:
        dc = await self.pc.accept_data_channel()
        await self.use(dc)

    async def use(self, dc: Any) -> None:
        self.dc = dc
        await dc.wait_open()
        self.tasks.append(asyncio.ensure_future(self.read()))
        if not self.opened.done():
            self.opened.set_result(None)

    async def read(self) -> None:
        async for m in self.dc:
            if self.handler is not None:
                self.handler(m)

    async def offer(self) -> None:
        dc = await self.pc.create_data_channel("bench")
        self.tasks.append(asyncio.ensure_future(self.use(dc)))
        d = await self.pc.set_local_description("offer")
        await self.sig.send({"t": "sdp", "description": {"type": d.type, "sdp": d.sdp}})

    async def remote_description(self, sdp: str, kind: str) -> None:
        await self.pc.set_remote_description(sdp, kind)
        if kind == "offer":
            d = await self.pc.set_local_description("answer")
            await self.sig.send({"t": "sdp", "description": {"type": d.type, "sdp": d.sdp}})

    async def remote_candidate(self, candidate: str, mid: str) -> None:
        await self.pc.add_remote_candidate(candidate, mid)

    def send(self, data: str | bytes) -> None:
        # Its public send is a coroutine; the synchronous native call keeps the shared Sender.
        if isinstance(data, bytes):
            self.dc._native.send_bytes(data)
        else:
            self.dc._native.send_text(data)

    def buffered(self) -> int:
        return int(self.dc.buffered_amount)

    async def wait_low(self) -> None:
        event = asyncio.Event()
        self.dc.set_buffered_amount_low_threshold(cb.LOW)
        native = self.dc._native
        native.set_on_buffered_amount_low(lambda: self.loop.call_soon_threadsafe(event.set))
        if self.dc.buffered_amount > cb.LOW:
            await asyncio.wait_for(event.wait(), 60)

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await self.pc.aclose()


# --- orchestration ------------------------------------------------------------------------------

PYTHON_PEERS: dict[str, Callable[..., Awaitable[dict[str, Any]]]] = {
    "aiortc": lambda role, url, room, total: cb.peer_aiortc(role, url, room, total, 0),
    "rtcroom": lambda role, url, room, total: cb.peer_rtcroom(role, url, room, total, 0),
    "ldc": lambda role, url, room, total: run_native(role, url, room, total, "ldc"),
    "aioldc": lambda role, url, room, total: run_native(role, url, room, total, "aioldc"),
}


async def side(ctx: Any, impl: str, role: str, url: str, room: str, total: int) -> dict[str, Any]:
    if impl == "chromium":
        page = await ctx.new_page()
        # An http origin (not about:blank), or Chromium gathers no ICE candidates.
        await page.goto(url.replace("ws://", "http://").replace(cb.SIGNAL_PATH, "/healthz"))
        args = [role, url, room, total, list(cb.SIZES), cb.HIGH, cb.LOW, cb.RTT_COUNT]
        result: dict[str, Any] = await page.evaluate(cb.PAGE_JS, args)
        return result
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--peer", role, "--impl", impl, "--url", url, "--room", room,
        "--megabytes", str(total // MB), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 600)
    finally:
        if proc.returncode is None:  # cancelled or timed out: this round's peer goes too
            proc.kill()
            await proc.wait()
    if proc.returncode:
        raise RuntimeError(f"{impl} {role} failed ({proc.returncode})")
    lines = out.decode().strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


async def pair_round(url: str, pair: str, room: str, total: int) -> dict[str, Any]:
    rx, tx = pair.split(":")
    async with chromium() as ctx:
        receiving = asyncio.ensure_future(side(ctx, rx, "receiver", url, room, total))
        try:
            await asyncio.sleep(0.5 if rx == "chromium" else 1.5)  # receiver joins first
            result = await asyncio.wait_for(side(ctx, tx, "sender", url, room, total), 300)
            await asyncio.wait_for(receiving, 60)
        finally:
            receiving.cancel()
        return result


async def main(opts: argparse.Namespace) -> None:
    total = opts.megabytes * MB
    pairs = opts.pairs.split(",")
    results: dict[str, list[dict[str, Any]]] = {p: [] for p in pairs}
    failures: dict[str, list[str]] = {p: [] for p in pairs}
    async with run_uvicorn(create_app(max_peers=2)) as port:
        url = f"ws://127.0.0.1:{port}{cb.SIGNAL_PATH}"
        for n in range(opts.rounds):
            for pair in pairs:  # alternating: every pair once per round
                try:
                    r = await pair_round(url, pair, f"eval-{n}-{pair}", total)
                except Exception as exc:  # an evaluation records failures and goes on
                    failures[pair].append(f"{type(exc).__name__}: {exc}")
                    print(pair, n, "FAILED", failures[pair][-1], flush=True)
                    continue
                print(pair, n, {k: round(v, 2) for k, v in r.items()}, flush=True)
                results[pair].append(r)
    print(f"\n{opts.megabytes} MiB per transfer, medians of {opts.rounds} alternating rounds")
    print("| receiver:sender | 16 KiB MB/s | 64 KiB MB/s | RTT median ms | connect ms | "
          "sender CPU s/MB | failed rounds |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for pair in pairs:
        rs = results[pair]
        if not rs:
            print(f"| {pair} | – | – | – | – | – | {len(failures[pair])} |")
            continue

        def med(key: str, rs: list[dict[str, Any]] = rs) -> float:
            vals = [r[key] for r in rs if key in r]
            return statistics.median(vals) if vals else float("nan")

        # Spread: min–max over the rounds, 16 KiB.
        lo16 = min(r["mbps_16k"] for r in rs)
        hi16 = max(r["mbps_16k"] for r in rs)
        moved = total * 2 / MB + 1  # two timed passes and the warm-up
        print(
            f"| {pair} | {med('mbps_16k'):.1f} ({lo16:.1f}–{hi16:.1f}) | {med('mbps_64k'):.1f} "
            f"| {med('rtt_median_ms'):.2f} | {med('connect_ms'):.0f} "
            f"| {med('cpu_s') / moved:.4f} | {len(failures[pair])} |"
        )
    for pair, errs in failures.items():
        for e in errs:
            print(f"failure {pair}: {e}")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--megabytes", type=int, default=32)
    parser.add_argument(
        "--pairs",
        default="chromium:chromium,ldc:ldc,aioldc:aioldc,chromium:ldc,ldc:chromium,"
        "aiortc:ldc,ldc:aiortc,rtcroom:rtcroom",
    )
    parser.add_argument("--peer", choices=["sender", "receiver"])
    parser.add_argument("--impl")
    parser.add_argument("--url")
    parser.add_argument("--room")
    opts = parser.parse_args()
    if opts.peer:
        fn = PYTHON_PEERS[opts.impl]
        before = os.times()
        result = asyncio.run(fn(opts.peer, opts.url, opts.room, opts.megabytes * MB))
        after = os.times()
        if result:  # the sender's CPU (all threads), connect and RTT included
            result["cpu_s"] = after.user + after.system - before.user - before.system
        print(json.dumps(result), flush=True)
        return
    asyncio.run(main(opts))


if __name__ == "__main__":
    cli()
