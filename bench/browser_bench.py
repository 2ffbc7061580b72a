"""Browser client benchmark: two Chromium pages running rtcroom.js against ``rtcroom serve``.

    unshare -n sh -c 'ip link set lo up; PYTHONPATH=src python bench/browser_bench.py'

Measures, as medians of ``--rounds`` rounds: join -> connected (data-only and with the fake
camera), join -> first decoded video frame, data-channel round trip, data-channel throughput,
and how long after ``rtcroom serve`` comes back from a SIGKILL both pages are connected again.
Times come from the pages' own clocks (performance.timeOrigin + now), not from polling.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from typing import Any

from rtcroom.testing import ServeProcess, free_port, run_uvicorn
from rtcroom.testing.browser import (
    chromium,
    harness_app,
    open_harness,
    peer_id,
    start_call,
    wait_for,
)

FIRST = "(name) => (window.eventTimes.find((e) => e[0] === name) || [])[1]"

RTT = """async ([peer, count]) => {
    const samples = [];
    for (let i = 0; i < count; i++) {
        const got = new Promise((r) => { window.call.callbacks.onDataChannelMessage = r; });
        const t = performance.now();
        window.call.sendStringTo(peer, 'bench', 'x' + i);
        await got;
        samples.push(performance.now() - t);
    }
    samples.sort((a, b) => a - b);
    return samples[Math.floor(samples.length / 2)];
}"""

THROUGHPUT = """async ([peer, total]) => {
    const channel = window.call.getDataChannel(peer, 'bulk');
    const chunk = new Uint8Array(64 * 1024);
    channel.bufferedAmountLowThreshold = 1 << 20;
    const done = new Promise((r) => { window.call.callbacks.onDataChannelMessage = r; });
    const t = performance.now();
    for (let sent = 0; sent < total; sent += chunk.length) {
        if (channel.bufferedAmount > 4 << 20) {
            await new Promise((r) => { channel.onbufferedamountlow = r; });
        }
        channel.send(chunk);
    }
    await done;   // the receiver says when it has everything
    return total / 1e6 / ((performance.now() - t) / 1000);
}"""

COUNT_BYTES = """(total) => {
    let got = 0;
    window.call.callbacks.onDataChannelMessage = (from, label, data) => {
        if (label === 'bench') { window.call.sendStringTo(from, 'bench', data); return; }
        got += data.byteLength;
        if (got >= total) window.call.sendStringTo(from, 'bench', 'done');
    };
}"""

FIRST_FRAME = """async (peer) => {
    for (let i = 0; i < 2000; i++) {
        const s = await window.inbound(peer, 'video');
        if (s && s.framesDecoded > 0) return performance.timeOrigin + performance.now();
        await new Promise((r) => setTimeout(r, 5));
    }
    return null;
}"""


async def call_round(ctx: Any, base: str, signal: str, media: bool) -> dict[str, float]:
    room = f"bench-{uuid.uuid4().hex[:8]}"
    a, b = await open_harness(ctx, base), await open_harness(ctx, base)
    try:
        options: dict[str, Any] = {
            "roomId": room,
            "signalUrl": signal,
            "iceServers": [],
            "dataChannels": [{"label": "bench"}, {"label": "bulk"}],
        }
        if not media:
            options["media"] = False
        await start_call(a, **options)
        await peer_id(a)
        await start_call(b, **options)
        await wait_for(b, "() => window.call.state === 'connected'")
        await wait_for(a, "() => window.call.state === 'connected'")
        id_a, id_b = await peer_id(a), await peer_id(b)
        start = await b.evaluate(FIRST, "connect()")
        result = {"connect_ms": await b.evaluate(FIRST, "onConnect") - start}
        if media:
            result["first_frame_ms"] = await a.evaluate(FIRST_FRAME, id_b) - start
        else:
            await wait_for(a, "(p) => window.call.getDataChannelState(p, 'bulk') === 'open'", id_b)
            await wait_for(b, "(p) => window.call.getDataChannelState(p, 'bulk') === 'open'", id_a)
            total = 32 << 20
            await b.evaluate(COUNT_BYTES, total)
            result["rtt_ms"] = await a.evaluate(RTT, [id_b, 200])
            result["mb_per_s"] = await a.evaluate(THROUGHPUT, [id_b, total])
        return result
    finally:
        await a.close()
        await b.close()


async def reconnect_round(ctx: Any, base: str) -> float:
    port = free_port()
    signal = f"ws://127.0.0.1:{port}/api/call/signal"
    room = f"bench-{uuid.uuid4().hex[:8]}"
    a, b = await open_harness(ctx, base), await open_harness(ctx, base)
    try:
        async with ServeProcess("--max-peers", "4", port=port) as server:
            for page in (a, b):
                await start_call(
                    page,
                    roomId=room,
                    signalUrl=signal,
                    iceServers=[],
                    media=False,
                    dataChannels=[{"label": "c"}],
                )
                await peer_id(page)
            await wait_for(a, "() => window.call.state === 'connected'")
            server.kill()
        for page in (a, b):
            await wait_for(page, "() => window.call.state === 'connecting'")
        async with ServeProcess("--max-peers", "4", port=port):
            back = time.time() * 1000
            for page in (a, b):
                await wait_for(page, "() => window.call.state === 'connected'")
            times = [
                await p.evaluate(
                    "() => window.eventTimes.filter((e) => e[0] === 'onConnect')"
                    ".map((e) => e[1]).pop()"
                )
                for p in (a, b)
            ]
            return max(times) - back
    finally:
        await a.close()
        await b.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows: dict[str, list[float]] = {}
    async with run_uvicorn(harness_app(max_peers=2)) as port, chromium() as ctx:
        base = f"http://127.0.0.1:{port}"
        for _ in range(args.rounds):
            for media in (False, True):
                for key, value in (await call_round(ctx, base, "/api/call/signal", media)).items():
                    name = f"{key} ({'camera+mic' if media else 'data-only'})"
                    rows.setdefault(name, []).append(value)
            rows.setdefault("rejoin_after_restart_ms", []).append(await reconnect_round(ctx, base))
    print(f"| metric (median of {args.rounds}) | value | min | max |")
    print("|---|---|---|---|")
    for name, values in rows.items():
        print(
            f"| {name} | {statistics.median(values):.1f} | {min(values):.1f} | {max(values):.1f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
