"""ICE recovery: how long a broken network path takes to notice and to repair.

Run inside a loopback-only namespace (never on a real network; the break is an nftables rule
that drops every UDP datagram of the namespace)::

    unshare -n sh -c 'ip link set lo up && PYTHONPATH=src python bench/ice_recovery_bench.py'

Options: ``--rounds 3``, ``--pairs python,browser,mixed`` (Python↔Python, Chromium↔Chromium,
Chromium↔Python), ``--break-seconds 20``.

Each round connects a fresh pair through a real rtcroom server (data channel ``chat`` open),
drops UDP and times until *both* sides reported the peer reconnecting (``detect``), keeps the
break for ``--break-seconds`` in all, restores it and times until both reported it reconnected
(``repair``) and a message crossed each way (``data``). Median, min and max over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from rtcroom.client import (
    CallCallbacks,
    DataChannelMessageEvent,
    PeerReconnectedEvent,
    PeerReconnectingEvent,
    WebRTCCall,
)
from rtcroom.testing import run_uvicorn
from rtcroom.testing.browser import chromium, harness_app, open_harness, peer_id, start_call
from rtcroom.testing.network import udp_dropped

LIMIT = 120.0  # seconds any one step may take before the round fails
SIGNAL_PATH = "/api/call/signal"


class Side:
    """One peer of the pair, Python or a page, seen through the same few questions."""

    seen: Callable[[str], Awaitable[bool]]  # has it reported this event name for the peer?
    send: Callable[[str], Awaitable[None]]
    got: Callable[[str], Awaitable[bool]]


def python_side(events: list[Any], call: WebRTCCall) -> Side:
    side = Side()
    kinds = {"reconnecting": PeerReconnectingEvent, "reconnected": PeerReconnectedEvent}

    async def seen(name: str) -> bool:
        return any(isinstance(e, kinds[name]) for e in events)

    async def send(text: str) -> None:
        call.send_string("chat", text)

    async def got(text: str) -> bool:
        return any(isinstance(e, DataChannelMessageEvent) and e.raw == text for e in events)

    side.seen, side.send, side.got = seen, send, got
    return side


def page_side(page: Any) -> Side:
    side = Side()
    names = {"reconnecting": "onPeerReconnecting", "reconnected": "onPeerReconnected"}

    async def seen(name: str) -> bool:
        found: bool = await page.evaluate("(n) => window.eventNames().includes(n)", names[name])
        return found

    async def send(text: str) -> None:
        await page.evaluate("(t) => window.call.sendString('chat', t)", text)

    async def got(text: str) -> bool:
        found: bool = await page.evaluate("(t) => window.messages.some((m) => m.data === t)", text)
        return found

    side.seen, side.send, side.got = seen, send, got
    return side


async def until(check: Callable[[], Awaitable[bool]], what: str) -> float:
    """Seconds until ``check()`` holds (polled every 50 ms, at most LIMIT)."""
    start = time.monotonic()
    while time.monotonic() - start < LIMIT:
        if await check():
            return time.monotonic() - start
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{what}: not within {LIMIT:g} s")


async def both(a: Side, b: Side, name: str) -> bool:
    return await a.seen(name) and await b.seen(name)


async def crossed(a: Side, b: Side, tag: str) -> bool:
    """Send both ways (again) and say whether both arrived."""
    await a.send(f"{tag}-a")
    await b.send(f"{tag}-b")
    return await b.got(f"{tag}-a") and await a.got(f"{tag}-b")


async def one_round(a: Side, b: Side, break_seconds: float, n: int) -> dict[str, float]:
    with udp_dropped():
        broke = time.monotonic()
        detect = await until(lambda: both(a, b, "reconnecting"), "detect")
        await asyncio.sleep(max(0.0, break_seconds - (time.monotonic() - broke)))
    repair = await until(lambda: both(a, b, "reconnected"), "repair")
    data = await until(lambda: crossed(a, b, f"r{n}"), "data")
    return {"detect": detect, "repair": repair, "data": repair + data}


@asynccontextmanager
async def pair(kind: str, base: str, room: str) -> AsyncIterator[tuple[Side, Side]]:
    url = base.replace("http://", "ws://") + SIGNAL_PATH
    async with AsyncExitStack() as stack:
        sides: list[Side] = []
        kinds = {"python": "pp", "browser": "bb", "mixed": "bp"}[kind]
        for k in kinds:
            if k == "p":
                events: list[Any] = []
                call = WebRTCCall(
                    room,
                    url,
                    data_channels=["chat"],
                    ice_servers=[],
                    ice_host_addresses=["127.0.0.1"],
                    callbacks=CallCallbacks(on_event=events.append),
                )
                side = python_side(events, call)
                await call.connect()
                stack.push_async_callback(call.hangup)
                sides.append(side)
                await call.wait_connected(0 if len(sides) == 1 else 1, timeout=30)
            else:
                ctx = await stack.enter_async_context(chromium())
                page = await open_harness(ctx, base)
                await start_call(
                    page,
                    roomId=room,
                    signalUrl=SIGNAL_PATH,
                    iceServers=[],
                    media=False,
                    dataChannels=[{"label": "chat"}],
                )
                await peer_id(page)
                sides.append(page_side(page))
        await until(lambda: crossed(sides[0], sides[1], "hello"), "connect")
        yield sides[0], sides[1]


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):5.1f} s ({min(values):.1f}-{max(values):.1f})"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pairs", default="python,browser,mixed")
    parser.add_argument("--break-seconds", type=float, default=20.0)
    args = parser.parse_args()
    async with run_uvicorn(harness_app(max_peers=2)) as port:
        base = f"http://127.0.0.1:{port}"
        for kind in args.pairs.split(","):
            results: list[dict[str, float]] = []
            for n in range(args.rounds):
                async with pair(kind, base, f"bench-{kind}-{n}") as (a, b):
                    results.append(await one_round(a, b, args.break_seconds, n))
                print(
                    f"{kind} round {n + 1}: "
                    + ", ".join(f"{k} {v:.1f} s" for k, v in results[-1].items()),
                    flush=True,
                )
            print(
                f"{kind:8} detect {summary([r['detect'] for r in results])}  "
                f"repair {summary([r['repair'] for r in results])}  "
                f"data {summary([r['data'] for r in results])}  "
                f"({args.rounds} rounds, break {args.break_seconds:g} s)",
                flush=True,
            )


if __name__ == "__main__":
    asyncio.run(main())
