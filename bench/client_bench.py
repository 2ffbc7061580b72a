"""Data-channel benchmark: rtcroom's Python peer vs a bare aiortc pair vs two Chromium pages.

Run inside a loopback-only namespace (never on a real network)::

    unshare -n sh -c 'ip link set lo up && PYTHONPATH=src python bench/client_bench.py'

Options: ``--rounds 3`` ``--megabytes 16`` ``--impl rtcroom,aiortc,chromium`` (``NAME@BYTES``,
e.g. ``aiortc@4194304``, sets that UDP receive buffer on the Python peers), ``--sctp-user-data
N`` (experiment: aiortc's SCTP chunk size; see the README).

Each round starts a fresh pair of peers in two processes (Chromium: two pages), joined through
a real rtcroom signaling server: the newcomer ("sender") measures join-to-connected (socket
opened → data channel open), then pushes ``--megabytes`` of binary messages of 16 KiB and
64 KiB with back-pressure (high-water 4 MiB, low-water 1 MiB) until the receiver confirms the
last byte, then times small-message round trips (ping → echo). Medians over the rounds.
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
from pathlib import Path
from typing import Any

import websockets
from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from rtcroom import ice
from rtcroom.app import create_app
from rtcroom.client import DataChannelConfig, WebRTCCall
from rtcroom.client.tuning import grow_receive_buffers
from rtcroom.testing import run_uvicorn
from rtcroom.testing.browser import chromium

KIB = 1024
MB = 1024 * 1024
SIZES = (16 * KIB, 64 * KIB)
HIGH, LOW = 4 * MB, 1 * MB
RTT_COUNT = 300
SCTP_USER_DATA = 0  # set from --sctp-user-data
SIGNAL_PATH = "/api/call/signal"


# --- the peer protocol over the data channel ----------------------------------------------------
# receiver: "expect:N" → count N binary bytes → "done"; "p..." → echo; "bye" → exit.
# sender:   connect, then per size: expect, chunks with back-pressure, wait "done"; then pings.


class Receiver:
    def __init__(self, send_text: Callable[[str], None]) -> None:
        self.send_text = send_text
        self.expect = 0
        self.count = 0
        self.finished = asyncio.Event()

    def on_message(self, data: str | bytes) -> None:
        if isinstance(data, bytes):
            self.count += len(data)
            if self.expect and self.count >= self.expect:
                self.expect = 0
                self.send_text("done")
        elif data.startswith("p"):
            self.send_text(data)
        elif data.startswith("expect:"):
            self.expect, self.count = int(data[7:]), 0
        elif data == "bye":
            self.finished.set()


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

    async def run(self, total: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        # The first pass warms SCTP up (congestion window) and is not reported.
        for name, size, amount in [("warm", 64 * KIB, total // 4)] + [
            (f"mbps_{s // KIB}k", s, total) for s in SIZES
        ]:
            chunk = os.urandom(size)
            n = amount // size
            self.send(f"expect:{n * size}")
            start = time.perf_counter()
            for _ in range(n):
                if self.buffered() > HIGH:
                    await self.wait_low()
                self.send(chunk)
            assert await asyncio.wait_for(self.replies.get(), 120) == "done"
            out[name] = n * size / MB / (time.perf_counter() - start)
        del out["warm"]
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


async def peer_rtcroom(role: str, url: str, room: str, total: int, rcvbuf: int) -> dict[str, Any]:
    call = WebRTCCall(
        room,
        url,
        data_channels=[DataChannelConfig("bench")],
        ice_servers=[],
        ice_host_addresses=["127.0.0.1"],
        udp_receive_buffer=rcvbuf or None,  # 0 = kernel default
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
            await asyncio.wait_for(receiver.finished.wait(), 600)
            return {}
        result = await sender.run(total)
        result["connect_ms"] = connect_ms
        return result
    finally:
        await call.hangup()


# --- bare aiortc, same signaling ------------------------------------------------------------------


async def peer_aiortc(role: str, url: str, room: str, total: int, rcvbuf: int) -> dict[str, Any]:
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
    grow_receive_buffers(pc, rcvbuf)

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
            await asyncio.wait_for(receiver.finished.wait(), 600)
            return {}
        sender = Sender(channel.send, lambda: channel.bufferedAmount, wait_low)
        channel.on("message", sender.on_message)
        result = await sender.run(total)
        result["connect_ms"] = connect_ms
        return result
    finally:
        await pc.close()
        await ws.close()


# --- two Chromium pages -------------------------------------------------------------------------

PAGE_JS = """
async ([role, url, room, total, sizes, high, low, rttCount]) => {
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
      pc.ondatachannel = e => watch(e.channel);
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
    const bytes = size || 65536, amount = size ? total : total / 4;
    const chunk = new Uint8Array(bytes); crypto.getRandomValues(chunk.subarray(0, 65536));
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


async def chromium_round(url: str, room: str, total: int) -> dict[str, Any]:
    args = [room, total, list(SIZES), HIGH, LOW, RTT_COUNT]
    async with chromium() as ctx:
        first, second = await ctx.new_page(), await ctx.new_page()
        # An http origin (not about:blank), or Chromium gathers no ICE candidates.
        health = url.replace("ws://", "http://").replace(SIGNAL_PATH, "/healthz")
        await asyncio.gather(first.goto(health), second.goto(health))
        receiving = asyncio.ensure_future(first.evaluate(PAGE_JS, ["receiver", url, *args]))
        await asyncio.sleep(0.5)  # the receiver is in the room before the sender joins
        result: dict[str, Any] = await asyncio.wait_for(
            second.evaluate(PAGE_JS, ["sender", url, *args]), 300
        )
        await asyncio.wait_for(receiving, 30)
        return result


# --- orchestration --------------------------------------------------------------------------------


async def python_round(impl: str, url: str, room: str, total: int, rcvbuf: int) -> dict[str, Any]:
    def spawn(role: str) -> Awaitable[asyncio.subprocess.Process]:
        return asyncio.create_subprocess_exec(
            sys.executable, __file__, "--peer", role, "--impl", impl, "--url", url,
            "--room", room, "--megabytes", str(total // MB), "--rcvbuf", str(rcvbuf),
            "--sctp-user-data", str(SCTP_USER_DATA),
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip

    receiver = await spawn("receiver")
    await asyncio.sleep(1.5)  # let it import aiortc and join first
    sender = await spawn("sender")
    out, _ = await asyncio.wait_for(sender.communicate(), 600)
    await asyncio.wait_for(receiver.wait(), 60)
    if sender.returncode:
        raise RuntimeError(f"{impl} sender failed ({sender.returncode})")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def rcvbuf_errors() -> int:
    lines = Path("/proc/net/snmp").read_text().splitlines()
    udp = [line.split() for line in lines if line.startswith("Udp:")]
    return int(udp[1][udp[0].index("RcvbufErrors")])


async def main(opts: argparse.Namespace) -> None:
    async with run_uvicorn(create_app(max_peers=2)) as port:
        await run(opts, f"ws://127.0.0.1:{port}{SIGNAL_PATH}")


async def run(opts: argparse.Namespace, url: str) -> None:
    total = opts.megabytes * MB
    rows = []
    for impl in opts.impl.split(","):
        rounds = []
        drops_before = rcvbuf_errors()
        for n in range(opts.rounds):
            room = f"bench-{impl}-{n}"
            if impl == "chromium":
                result = await chromium_round(url, room, total)
            else:
                # "name@BYTES": that UDP receive buffer (else the kernel default).
                base, _, size = impl.partition("@")
                rcvbuf = int(size or 0)
                result = await python_round(base, url, room, total, rcvbuf)
            print(impl, n, {k: round(v, 2) for k, v in result.items()}, flush=True)
            rounds.append(result)
        median = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
        median["udp_rcvbuf_errors"] = (rcvbuf_errors() - drops_before) / opts.rounds
        rows.append((impl, median))
    print()
    print(f"{opts.megabytes} MB per run, medians of {opts.rounds} rounds")
    print(
        "| peers | 16 KiB MB/s | 64 KiB MB/s | RTT median ms | RTT p99 ms | connect ms "
        "| UDP RcvbufErrors/round |"
    )
    print("|---|---|---|---|---|---|---|")
    for impl, m in rows:
        print(
            f"| {impl} | {m['mbps_16k']:.1f} | {m['mbps_64k']:.1f} | {m['rtt_median_ms']:.2f} "
            f"| {m['rtt_p99_ms']:.2f} | {m['connect_ms']:.0f} | {m['udp_rcvbuf_errors']:.0f} |"
        )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--megabytes", type=int, default=16)
    parser.add_argument(
        "--impl",
        default="rtcroom,aiortc,chromium",
        help="comma list of rtcroom, aiortc, chromium; NAME@BYTES sets SO_RCVBUF",
    )
    parser.add_argument("--rcvbuf", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--sctp-user-data",
        type=int,
        default=0,
        help="experiment: aiortc's SCTP DATA chunk payload size (default 1189-28 bytes); "
        "Python peers only, both sides",
    )
    parser.add_argument("--peer", choices=["sender", "receiver"])
    parser.add_argument("--url")
    parser.add_argument("--room")
    opts = parser.parse_args()
    if opts.peer:
        if opts.sctp_user_data:
            import aiortc.rtcsctptransport as sctp

            sctp.USERDATA_MAX_LENGTH = opts.sctp_user_data  # type: ignore[misc]
        fn = peer_rtcroom if opts.impl == "rtcroom" else peer_aiortc
        result = asyncio.run(fn(opts.peer, opts.url, opts.room, opts.megabytes * MB, opts.rcvbuf))
        print(json.dumps(result), flush=True)
        return
    global SCTP_USER_DATA
    SCTP_USER_DATA = opts.sctp_user_data
    asyncio.run(main(opts))


if __name__ == "__main__":
    cli()
