"""Data-channel benchmark: rtcroom's Python peer, bare aiortc and Chromium, in every pairing.

Run inside a loopback-only namespace (never on a real network)::

    unshare -n sh -c 'ip link set lo up && .venv/bin/python bench/client_bench.py'

One command gives the whole table: by default the pairs Chromium→Chromium, bare aiortc→aiortc,
rtcroom→rtcroom, rtcroom→Chromium and Chromium→rtcroom (``--pairs``, ``SENDER>RECEIVER`` with
peers ``chromium``, ``aiortc``, ``rtcroom``; a lone name pairs it with itself), rounds
alternating between the pairs so that a change in the machine's load hits every pair alike.

Options: ``--rounds 3`` ``--megabytes 32`` ``--sizes 16,64`` (KiB) ``--uvloop`` (the Python
peers run on uvloop; ``NAME/uvloop``: that peer only). ``rtcroom[fix+fix]`` runs rtcroom's peer
with only those data-channel speed-ups (``rtcroom[]``: none; see ``rtcroom.client.datapath``),
to measure each one in the same run. ``--megabytes 1024 --sizes 64 --pairs rtcroom`` is the
1 GiB transfer. The table reports the receiver's peak RSS (Python receivers, sampled every
0.2 s).

Each round starts a fresh pair of peers in two processes (Chromium: a page of one browser),
joined through a real rtcroom signaling server: the newcomer ("sender") measures
join-to-connected (socket opened → data channel open), then pushes ``--megabytes`` of binary
messages of each size with back-pressure (high-water 4 MiB, low-water 1 MiB) until the receiver
confirms the last byte, then times small-message round trips (ping → echo). Each Python peer
reports the CPU seconds it spent per MB moved (user + system, the measured passes only).
Medians over the rounds, with the spread (min–max) of each rate.
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
from contextlib import AsyncExitStack, suppress
from typing import Any

import websockets
from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from rtcroom import ice
from rtcroom.app import create_app
from rtcroom.client import DataChannelConfig, WebRTCCall
from rtcroom.testing import cpu_seconds, rss_bytes, run_uvicorn
from rtcroom.testing.browser import chromium

KIB = 1024
MB = 1024 * 1024
HIGH, LOW = 4 * MB, 1 * MB
WARM_MAX = 8 * MB
RTT_COUNT = 300
SIGNAL_PATH = "/api/call/signal"


def warm_bytes(total: int) -> int:
    """The first pass warms SCTP up (congestion window) and is not reported."""
    return min(total // 4, WARM_MAX)


def process_cpu() -> float:
    return cpu_seconds(os.getpid())


# --- the peer protocol over the data channel ----------------------------------------------------
# receiver: "expect:N" → count N binary bytes → "done"; "p..." → echo; "bye" → exit.
# sender:   connect, then per size: expect, chunks with back-pressure, wait "done"; then pings.
# The first "expect" is the warm-up pass; both sides count CPU over the later ones only.


class Receiver:
    def __init__(self, send_text: Callable[[str], None]) -> None:
        self.send_text = send_text
        self.expect = 0
        self.count = 0
        self.passes = 0
        self.cpu = 0.0
        self.measured = 0
        self._cpu_start = 0.0
        self.finished = asyncio.Event()

    def on_message(self, data: str | bytes) -> None:
        if isinstance(data, bytes):
            self.count += len(data)
            if self.expect and self.count >= self.expect:
                if self.passes > 1:
                    self.cpu += process_cpu() - self._cpu_start
                    self.measured += self.expect
                self.expect = 0
                self.send_text("done")
        elif data.startswith("p"):
            self.send_text(data)
        elif data.startswith("expect:"):
            self.expect, self.count = int(data[7:]), 0
            self.passes += 1
            self._cpu_start = process_cpu()
        elif data == "bye":
            self.finished.set()

    def report(self) -> dict[str, Any]:
        return {"cpu_s_per_mb": self.cpu / max(self.measured / MB, 1e-9)}


class Sender:
    """Drives one measurement run over ``send``/``wait_low`` primitives."""

    def __init__(
        self,
        send: Callable[[str | bytes], None],
        buffered: Callable[[], int],
        wait_low: Callable[[], Awaitable[None]],
    ) -> None:
        self.send = send
        self.buffered = buffered
        self.wait_low = wait_low
        self.replies: asyncio.Queue[str] = asyncio.Queue()

    def on_message(self, data: str | bytes) -> None:
        if isinstance(data, str):
            self.replies.put_nowait(data)

    async def run(self, total: int, sizes: list[int]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        cpu = 0.0
        for name, size, amount in [("warm", 64 * KIB, warm_bytes(total))] + [
            (f"mbps_{s // KIB}k", s, total) for s in sizes
        ]:
            chunk = os.urandom(size)
            n = amount // size
            self.send(f"expect:{n * size}")
            cpu_start = process_cpu()
            start = time.perf_counter()
            for _ in range(n):
                if self.buffered() > HIGH:
                    await self.wait_low()
                self.send(chunk)
            assert await asyncio.wait_for(self.replies.get(), 3600) == "done"
            out[name] = n * size / MB / (time.perf_counter() - start)
            if name != "warm":
                cpu += process_cpu() - cpu_start
        del out["warm"]
        out["cpu_s_per_mb"] = cpu / (len(sizes) * total / MB)
        rtts = []
        for i in range(RTT_COUNT + 20):
            start = time.perf_counter()
            self.send(f"p{i}")
            await asyncio.wait_for(self.replies.get(), 10)
            if i >= 20:  # warm-up excluded
                rtts.append((time.perf_counter() - start) * 1000)
        rtts.sort()
        out["rtt_median_ms"] = statistics.median(rtts)
        out["rtt_p99_ms"] = rtts[int(len(rtts) * 0.99) - 1]
        self.send("bye")
        await asyncio.sleep(0.2)
        return out


# --- rtcroom's WebRTCCall ---------------------------------------------------------------------


async def peer_rtcroom(
    role: str, url: str, room: str, total: int, sizes: list[int]
) -> dict[str, Any]:
    call = WebRTCCall(
        room,
        url,
        data_channels=[DataChannelConfig("bench")],
        ice_servers=[],
        ice_host_addresses=["127.0.0.1"],
    )
    handler: Callable[[str | bytes], None]
    start = time.perf_counter()
    if role == "receiver":
        receiver = Receiver(lambda text: call.send_string("bench", text) and None)
        handler = receiver.on_message
    else:
        sender = Sender(
            lambda data: (
                (
                    call.send_binary("bench", data)
                    if isinstance(data, bytes)
                    else call.send_string("bench", data)
                )
                and None
            ),
            lambda: call.buffered_amount("bench"),
            lambda: call.drain("bench", low=LOW),
        )
        handler = sender.on_message
    # The raw payload, not the JSON-parsed form (the benchmark's own protocol is not JSON).
    call._bus.callbacks.on_event = None
    call._bus.callbacks.on_data_channel_message = None

    def on_event(event: Any) -> None:
        raw = getattr(event, "raw", None)
        if raw is not None:
            handler(raw)

    call._bus.callbacks.on_event = on_event
    await call.connect()
    await call.wait_connected(timeout=30)
    connect_ms = (time.perf_counter() - start) * 1000
    try:
        if role == "receiver":
            await asyncio.wait_for(receiver.finished.wait(), 3600)
            return receiver.report()
        result = await sender.run(total, sizes)
        result["connect_ms"] = connect_ms
        return result
    finally:
        await call.hangup()


# --- bare aiortc, same signaling ------------------------------------------------------------------


async def peer_aiortc(
    role: str, url: str, room: str, total: int, sizes: list[int]
) -> dict[str, Any]:
    start = time.perf_counter()
    ws = await websockets.connect(url, proxy=None, compression=None, max_size=None)
    await ws.send(json.dumps({"t": "join", "roomId": room}))
    pc = RTCPeerConnection(ice.rtc_configuration([]))
    opened: asyncio.Future[RTCDataChannel] = asyncio.get_running_loop().create_future()
    remote = ""

    async def send_description() -> None:
        d = pc.localDescription
        await ws.send(
            json.dumps({"t": "sdp", "to": remote, "description": {"type": d.type, "sdp": d.sdp}})
        )

    def watch(channel: RTCDataChannel) -> None:
        if channel.label != "bench":  # rtcroom's peer opens its own channels too
            return
        if channel.readyState == "open":
            opened.set_result(channel)
        else:
            channel.on("open", lambda: opened.done() or opened.set_result(channel))

    pc.on("datachannel", watch)
    while not opened.done():
        recv = asyncio.ensure_future(ws.recv())
        await asyncio.wait([recv, opened], timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if not recv.done():
            recv.cancel()
            break
        msg = json.loads(recv.result())
        if msg["t"] == "joined" and msg["peers"]:
            remote = msg["peers"][0]
            watch(pc.createDataChannel("bench"))
            with ice.host_addresses(["127.0.0.1"]):
                await pc.setLocalDescription(await pc.createOffer())
            await send_description()
        elif msg["t"] == "sdp":
            remote = msg["from"]
            desc = msg["description"]
            await pc.setRemoteDescription(RTCSessionDescription(desc["sdp"], desc["type"]))
            if desc["type"] == "offer":
                with ice.host_addresses(["127.0.0.1"]):
                    await pc.setLocalDescription(await pc.createAnswer())
                await send_description()
            else:
                await asyncio.wait_for(opened, 30)
    channel = opened.result()
    connect_ms = (time.perf_counter() - start) * 1000

    async def wait_low() -> None:
        low = asyncio.Event()
        channel.bufferedAmountLowThreshold = LOW
        channel.once("bufferedamountlow", low.set)
        if channel.bufferedAmount > LOW:
            await low.wait()

    try:
        if role == "receiver":
            receiver = Receiver(channel.send)
            channel.on("message", receiver.on_message)
            await asyncio.wait_for(receiver.finished.wait(), 3600)
            return receiver.report()
        sender = Sender(channel.send, lambda: channel.bufferedAmount, wait_low)
        channel.on("message", sender.on_message)
        result = await sender.run(total, sizes)
        result["connect_ms"] = connect_ms
        return result
    finally:
        await pc.close()
        await ws.close()


# --- two Chromium pages -------------------------------------------------------------------------

PAGE_JS = """
async ([role, url, room, total, sizes, high, low, rttCount, warm]) => {
  const ws = new WebSocket(url);
  const t0 = performance.now();
  let pc = null, remote = null, channel = null, pending = [];
  const opened = new Promise(resolve => {
    const watch = ch => { channel = ch; ch.binaryType = 'arraybuffer';
      if (ch.readyState === 'open') resolve(); else ch.onopen = () => resolve(); };
    const makePc = () => {
      pc = new RTCPeerConnection({iceServers: []});
      pc.onicecandidate = e => { if (e.candidate) ws.send(JSON.stringify(
        {t: 'ice', to: remote, candidate: e.candidate.toJSON()})); };
      // Only ours: rtcroom's Python peer opens its own channels too (rtcroom-ping).
      pc.ondatachannel = e => { if (e.channel.label === 'bench') watch(e.channel); };
    };
    const sendSdp = () => ws.send(JSON.stringify({t: 'sdp', to: remote,
      description: pc.localDescription.toJSON()}));
    ws.onmessage = async ev => {
      const m = JSON.parse(ev.data);
      if (m.t === 'joined' && m.peers.length) {
        remote = m.peers[0]; makePc(); watch(pc.createDataChannel('bench'));
        await pc.setLocalDescription(); sendSdp();
      } else if (m.t === 'sdp') {
        remote = m.from; if (!pc) makePc();
        await pc.setRemoteDescription(m.description);
        for (const c of pending) await pc.addIceCandidate(c); pending = [];
        if (m.description.type === 'offer') { await pc.setLocalDescription(); sendSdp(); }
      } else if (m.t === 'ice' && m.candidate.candidate) {
        if (pc && pc.remoteDescription) await pc.addIceCandidate(m.candidate);
        else pending.push(m.candidate);
      }
    };
  });
  await new Promise(r => ws.onopen = r);
  ws.send(JSON.stringify({t: 'join', roomId: room}));
  await opened;
  const connectMs = performance.now() - t0;
  if (role === 'receiver') {
    let expect = 0, count = 0;
    await new Promise(resolve => {
      channel.onmessage = e => {
        const d = e.data;
        if (typeof d !== 'string') {
          count += d.byteLength;
          if (expect && count >= expect) { expect = 0; channel.send('done'); }
        } else if (d[0] === 'p') channel.send(d);
        else if (d.startsWith('expect:')) { expect = parseInt(d.slice(7)); count = 0; }
        else if (d === 'bye') resolve();
      };
    });
    return {};
  }
  const replies = []; let wake = null;
  channel.onmessage = e => { replies.push(e.data); if (wake) { wake(); wake = null; } };
  const reply = async () => { while (!replies.length) await new Promise(r => wake = r);
    return replies.shift(); };
  channel.bufferedAmountLowThreshold = low;
  const out = {connect_ms: connectMs};
  for (const size of [0, ...sizes]) {  // pass 0: 64 KiB, total/4, warms SCTP up, not reported
    const bytes = size || 65536, amount = size ? total : warm;
    const chunk = new Uint8Array(bytes);
    for (let at = 0; at < bytes; at += 65536)
      crypto.getRandomValues(chunk.subarray(at, at + 65536));
    const n = Math.floor(amount / bytes);
    channel.send('expect:' + n * bytes);
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      if (channel.bufferedAmount > high)
        await new Promise(r => channel.addEventListener('bufferedamountlow', r, {once: true}));
      channel.send(chunk);
    }
    if (await reply() !== 'done') throw new Error('protocol');
    const seconds = (performance.now() - start) / 1000;
    if (size) out['mbps_' + size / 1024 + 'k'] = n * bytes / 1048576 / seconds;
  }
  const rtts = [];
  for (let i = 0; i < rttCount + 20; i++) {
    const s = performance.now(); channel.send('p' + i); await reply();
    if (i >= 20) rtts.push(performance.now() - s);
  }
  rtts.sort((a, b) => a - b);
  out.rtt_median_ms = rtts[Math.floor(rtts.length / 2)];
  out.rtt_p99_ms = rtts[Math.floor(rtts.length * 0.99) - 1];
  channel.send('bye');
  await new Promise(r => setTimeout(r, 200));
  return out;
}
"""


class Pair:
    """``SENDER>RECEIVER``; a peer: ``chromium``, ``aiortc``, ``rtcroom`` or ``rtcroom[fixes]``."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        sender, _, receiver = spec.partition(">")
        self.sender, self.receiver = sender, receiver or sender
        for peer in (self.sender, self.receiver):
            if peer.partition("[")[0].removesuffix("/uvloop") not in (
                "chromium",
                "aiortc",
                "rtcroom",
            ):
                raise SystemExit(f"unknown peer {peer!r} in {spec!r}: chromium, aiortc, rtcroom")


async def start_peer(
    peer: str, role: str, url: str, room: str, opts: argparse.Namespace, page: Any
) -> tuple[Awaitable[dict[str, Any]], int]:
    """Starts one side; returns (its result, its pid or 0 for a Chromium page)."""
    total, sizes = opts.megabytes * MB, [k * KIB for k in opts.sizes]
    if peer == "chromium":
        args = [role, url, room, total, sizes, HIGH, LOW, RTT_COUNT, warm_bytes(total)]
        return asyncio.ensure_future(page.evaluate(PAGE_JS, args)), 0
    uvloop = opts.uvloop or peer.endswith("/uvloop")
    kind, _, fixes = peer.removesuffix("/uvloop").partition("[")
    command = [sys.executable, __file__, "--peer", role, "--kind", kind, "--url", url]
    command += ["--room", room, "--megabytes", str(opts.megabytes)]
    command += ["--sizes", ",".join(map(str, opts.sizes))]
    if fixes:
        command += ["--fixes", fixes.rstrip("]") or "none"]
    if uvloop:
        command.append("--uvloop")
    if opts.profile:
        command += ["--profile", opts.profile]
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)

    async def result() -> dict[str, Any]:
        out, _ = await process.communicate()
        if process.returncode:
            raise RuntimeError(f"{peer} {role} failed ({process.returncode})")
        parsed: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
        return parsed

    return asyncio.ensure_future(result()), process.pid


async def one_round(pair: Pair, url: str, room: str, opts: argparse.Namespace) -> dict[str, Any]:
    async with AsyncExitStack() as stack:
        pages: list[Any] = []
        if "chromium" in (pair.sender, pair.receiver):
            ctx = await stack.enter_async_context(chromium())
            # An http origin (not about:blank), or Chromium gathers no ICE candidates.
            health = url.replace("ws://", "http://").replace(SIGNAL_PATH, "/healthz")
            for _ in range((pair.sender == "chromium") + (pair.receiver == "chromium")):
                page = await ctx.new_page()
                await page.goto(health)
                pages.append(page)
        receiving, pid = await start_peer(
            pair.receiver, "receiver", url, room, opts, pages[-1] if pages else None
        )
        # The receiver is in the room before the sender joins (Python: importing aiortc).
        await asyncio.sleep(0.5 if pair.receiver == "chromium" else 1.5)
        sending, _ = await start_peer(
            pair.sender, "sender", url, room, opts, pages[0] if pages else None
        )
        peak = 0
        while not sending.done():
            if pid:
                with suppress(OSError):
                    peak = max(peak, rss_bytes(pid))
            await asyncio.wait([sending], timeout=0.2)
        result = dict(await asyncio.wait_for(sending, 1))
        received = await asyncio.wait_for(receiving, 60)
        if "cpu_s_per_mb" in received:
            result["recv_cpu_s_per_mb"] = received["cpu_s_per_mb"]
        if "cpu_s_per_mb" in result:
            result["send_cpu_s_per_mb"] = result.pop("cpu_s_per_mb")
        if pid:
            result["recv_peak_rss_mb"] = peak / MB
        return result


# --- orchestration --------------------------------------------------------------------------------


async def main(opts: argparse.Namespace) -> None:
    async with run_uvicorn(create_app(max_peers=2)) as port:
        await run(opts, f"ws://127.0.0.1:{port}{SIGNAL_PATH}")


def cell(values: list[float], digits: int, spread: bool = False) -> str:
    if not values:
        return "–"
    text = f"{statistics.median(values):.{digits}f}"
    if spread and len(values) > 1:
        text += f" ({min(values):.{digits}f}–{max(values):.{digits}f})"
    return text


async def run(opts: argparse.Namespace, url: str) -> None:
    pairs = [Pair(spec) for spec in opts.pairs.split(",")]
    results: dict[str, list[dict[str, Any]]] = {pair.spec: [] for pair in pairs}
    load = os.getloadavg()[0]
    for n in range(opts.rounds):
        # Alternate: each round runs every pair once, in a rotated order.
        for pair in pairs[n % len(pairs) :] + pairs[: n % len(pairs)]:
            result = await one_round(pair, url, f"bench-{n}-{pair.spec}", opts)
            print(pair.spec, n, {k: round(v, 3) for k, v in result.items()}, flush=True)
            results[pair.spec].append(result)
    load = max(load, os.getloadavg()[0])
    sizes = [f"{k} KiB MB/s" for k in opts.sizes]
    print()
    print(
        f"{opts.megabytes} MB per transfer, medians of {opts.rounds} alternating rounds "
        f"(min–max), {os.cpu_count()} cores, load average up to {load:.1f}"
        + (", Python peers on uvloop" if opts.uvloop else "")
    )
    head = ["sender → receiver", *sizes, "RTT median ms", "RTT p99 ms", "connect ms"]
    head += ["send CPU s/MB", "recv CPU s/MB", "recv peak RSS MB"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for pair in pairs:
        rows = results[pair.spec]

        def col(key: str, rows: list[dict[str, Any]] = rows) -> list[float]:
            return [r[key] for r in rows if key in r]

        cells = [pair.spec.replace(">", " → ")]
        cells += [cell(col(f"mbps_{k}k"), 1, spread=True) for k in opts.sizes]
        cells += [cell(col("rtt_median_ms"), 2), cell(col("rtt_p99_ms"), 2)]
        cells += [cell(col("connect_ms"), 0), cell(col("send_cpu_s_per_mb"), 3)]
        cells += [cell(col("recv_cpu_s_per_mb"), 3), cell(col("recv_peak_rss_mb"), 0)]
        print("| " + " | ".join(cells) + " |")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--megabytes", type=int, default=32)
    parser.add_argument(
        "--sizes", type=lambda v: [int(x) for x in v.split(",")], default=[16, 64],
        help="message sizes in KiB",
    )  # fmt: skip
    parser.add_argument(
        "--pairs",
        default="chromium,aiortc,rtcroom,rtcroom>chromium,chromium>rtcroom",
        help="comma list of SENDER>RECEIVER (chromium, aiortc, rtcroom, rtcroom[fix+...])",
    )
    parser.add_argument("--uvloop", action="store_true", help="Python peers run on uvloop")
    parser.add_argument("--peer", choices=["sender", "receiver"], help=argparse.SUPPRESS)
    parser.add_argument("--kind", choices=["aiortc", "rtcroom"], help=argparse.SUPPRESS)
    parser.add_argument("--fixes", help=argparse.SUPPRESS)
    parser.add_argument("--profile", help="a peer writes its cProfile stats to PROFILE.ROLE")
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--room", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.peer:
        print(json.dumps(run_peer(opts)), flush=True)
        return
    asyncio.run(main(opts))


def run_peer(opts: argparse.Namespace) -> dict[str, Any]:
    if opts.fixes:
        from rtcroom.client import datapath

        datapath.ENABLED = datapath.parse(opts.fixes)
    fn = peer_rtcroom if opts.kind == "rtcroom" else peer_aiortc
    sizes = [k * KIB for k in opts.sizes]
    coro = fn(opts.peer, opts.url, opts.room, opts.megabytes * MB, sizes)
    if opts.uvloop:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    if not opts.profile:
        return asyncio.run(coro)
    import cProfile

    profile = cProfile.Profile()
    result = profile.runcall(asyncio.run, coro)
    profile.dump_stats(f"{opts.profile}.{opts.peer}")
    return result


if __name__ == "__main__":
    cli()
