"""Memory of ``rtcroom send`` / ``rtcroom recv`` for a big file: it must not grow with the size.

Run inside a loopback-only namespace (never on a real network)::

    unshare -n sh -c 'ip link set lo up && PYTHONPATH=src python bench/cli_send_memory_bench.py'

Options: ``--megabytes 1024``. Writes a file of that many MiB to a temporary directory, runs
``rtcroom recv`` and ``rtcroom send`` as processes through one ``rtcroom serve``, samples each
one's resident memory twice a second, and prints the peak and the values at 10 % and 90 % of
the run (equal values: memory stays flat however long the transfer).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from rtcroom.testing import ServeProcess, rss_bytes, this_rtcroom_env

MIB = 1 << 20
LOCAL_ICE = ("--no-ice-servers", "--ice-host", "127.0.0.1", "--wait", "60")


def write_file(path: Path, megabytes: int) -> None:
    block = os.urandom(MIB)
    with path.open("wb") as f:
        for i in range(megabytes):  # every MiB different, so the sha256 covers the order
            f.write(i.to_bytes(8, "big") + block[8:])


async def main(megabytes: int) -> None:
    with tempfile.TemporaryDirectory(prefix="rtcroom-memory-bench-") as tmp:
        source = Path(tmp) / "big.bin"
        write_file(source, megabytes)
        async with ServeProcess() as server:

            async def start(*args: str) -> asyncio.subprocess.Process:
                return await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "rtcroom.cli", *args, "--room", "memory",
                    "--url", server.url, *LOCAL_ICE,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
                    env=this_rtcroom_env(),
                )  # fmt: skip

            recv = await start("recv", "--out", str(Path(tmp) / "out"))
            await asyncio.sleep(2)  # it joins first
            started = time.monotonic()
            send = await start("send", str(source))
            samples: dict[str, list[int]] = {"send": [], "recv": []}
            both = asyncio.gather(send.wait(), recv.wait())
            while not both.done():
                for name, proc in (("send", send), ("recv", recv)):
                    if proc.returncode is None:
                        try:
                            samples[name].append(rss_bytes(proc.pid))
                        except OSError:
                            pass  # it just exited
                await asyncio.wait({both}, timeout=0.5)
            seconds = time.monotonic() - started
            for proc in (send, recv):
                assert proc.stdout is not None
                print((await proc.stdout.read()).decode().rstrip())
    print()
    print(f"{megabytes} MiB in {seconds:.0f} s")
    print("| process | peak RSS MiB | at 10 % | at 90 % |")
    print("|---|---|---|---|")
    for name, values in samples.items():
        early, late = (values[int(len(values) * share)] / MIB for share in (0.1, 0.9))
        print(f"| rtcroom {name} | {max(values) / MIB:.0f} | {early:.0f} | {late:.0f} |")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=1024)
    asyncio.run(main(parser.parse_args().megabytes))


if __name__ == "__main__":
    cli()
