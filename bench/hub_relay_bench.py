"""The hub's own cost per relayed frame, in-process: ``Session.receive`` of one realistic ICE
candidate to a partner whose connection does nothing. No sockets, no framework, so a change to
the relay path shows here first (compare two checkouts by their ``src``)::

    PYTHONPATH=src python bench/hub_relay_bench.py
    PYTHONPATH=/path/to/other/checkout/src python bench/hub_relay_bench.py

Prints the median and the minimum of ``--runs`` runs of ``--frames`` frames, in µs per frame.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import orjson

import rtcroom
from rtcroom.hub import SignalingHub
from rtcroom.limits import Limits
from rtcroom.loadtest import CANDIDATE


class NullConnection:
    """A socket that accepts every frame at once."""

    async def send(self, text: str) -> None:
        pass

    async def close(self, code: int, reason: str) -> None:
        pass


async def main(args: argparse.Namespace) -> None:
    hub = SignalingHub(limits=Limits(frame_rate=0))  # no frame budget: measure the relay only
    a = await hub.session(NullConnection())
    b = await hub.session(NullConnection())
    await a.receive('{"t":"join","roomId":"r"}')
    await b.receive('{"t":"join","roomId":"r"}')
    frame = orjson.dumps({"t": "ice", "to": b.peer_id, "candidate": CANDIDATE}).decode()
    runs = []
    for _ in range(args.runs):
        start = time.perf_counter()
        for _ in range(args.frames):
            await a.receive(frame)
        runs.append((time.perf_counter() - start) / args.frames * 1e6)
    print(
        f"{rtcroom.__file__}: {statistics.median(runs):.2f} µs per frame "
        f"(median of {args.runs} runs of {args.frames}; min {min(runs):.2f})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--frames", type=int, default=20_000)
    asyncio.run(main(parser.parse_args()))
