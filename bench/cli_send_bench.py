"""``rtcroom send`` / ``rtcroom recv`` throughput against the Python peer's bare data channel.

Run inside a loopback-only namespace (never on a real network)::

    unshare -n sh -c 'ip link set lo up && PYTHONPATH=src python bench/cli_send_bench.py'

Options: ``--rounds 3`` ``--megabytes 200``. Each round runs, alternating so machine load hits
both alike, (a) ``bench/client_bench.py``'s rtcroom pair (two ``WebRTCCall`` processes pushing
64 KiB messages with back-pressure until the receiver confirms the last byte) and (b) ``rtcroom
recv`` + ``rtcroom send FILE`` as a user runs them. For (b): the transfer rate is what
``send`` reports (header sent → receiver's sha256 verdict); "wall" is the whole ``send``
process (start-up, sha256 of the file, join, transfer, verdict). Both through one ``rtcroom
serve`` process. Medians over the rounds, with min-max.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from client_bench import MB, python_round
from rtcroom.testing import ServeProcess, this_rtcroom_env

LOCAL_ICE = ("--no-ice-servers", "--ice-host", "127.0.0.1")


async def rtcroom(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rtcroom.cli", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        env=this_rtcroom_env(),
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 600)
    return proc.returncode or 0, out.decode()


def empty(directory: Path) -> None:
    for received in directory.iterdir():
        received.unlink()


async def cli_round(url: str, room: str, path: Path, size: int, out_dir: Path) -> dict[str, float]:
    common = ("--room", room, "--url", url, *LOCAL_ICE, "--wait", "60")
    receiving = asyncio.ensure_future(rtcroom("recv", "--out", str(out_dir), *common))
    await asyncio.sleep(1.5)  # it imports aiortc and joins first, as in client_bench
    started = time.monotonic()
    status, out = await rtcroom("send", str(path), *common)
    wall = time.monotonic() - started
    recv_status, _ = await receiving
    match = re.search(r"intact \(sha256 verified\) in ([\d.]+) s", out)
    if status or recv_status or not match:
        raise RuntimeError(f"rtcroom send failed ({status}, recv {recv_status}):\n{out}")
    empty(out_dir)
    return {"mbps": size / MB / float(match.group(1)), "wall_s": wall}


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


async def main(opts: argparse.Namespace) -> None:
    total = opts.megabytes * MB
    bare: list[float] = []
    cli: list[float] = []
    wall: list[float] = []
    with tempfile.TemporaryDirectory(prefix="rtcroom-send-bench-") as tmp:
        path, out_dir = Path(tmp) / "payload.bin", Path(tmp) / "out"
        out_dir.mkdir()
        with path.open("wb") as f:
            for _ in range(opts.megabytes):
                f.write(os.urandom(MB))
        async with ServeProcess("--max-peers", "2") as server:
            for n in range(opts.rounds):
                result = await python_round("rtcroom", server.url, f"bare-{n}", total, 0)
                bare.append(result["mbps_64k"])
                measured = await cli_round(server.url, f"cli-{n}", path, total, out_dir)
                cli.append(measured["mbps"])
                wall.append(measured["wall_s"])
                print(
                    f"round {n}: WebRTCCall {bare[-1]:.1f} MB/s, rtcroom send "
                    f"{cli[-1]:.1f} MB/s ({wall[-1]:.1f} s wall)",
                    flush=True,
                )
    print()
    print(f"{opts.megabytes} MB (MiB) per run, medians (min-max) of {opts.rounds} rounds")
    print("| what | MB/s | wall s |")
    print("|---|---|---|")
    print(f"| `WebRTCCall` ↔ `WebRTCCall`, 64 KiB messages (client_bench) | {spread(bare)} | |")
    print(f"| `rtcroom send` → `rtcroom recv` | {spread(cli)} | {spread(wall)} |")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--megabytes", type=int, default=200)
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
