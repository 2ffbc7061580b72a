"""``rtcroom send`` / ``rtcroom recv`` end to end against a real ``rtcroom serve``."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from rtcroom.testing import ServeProcess

from .cli import LOCAL_ICE, Command, rtcroom

BIG = 200 * 1000 * 1000


@pytest_asyncio.fixture
async def server() -> AsyncIterator[ServeProcess]:
    async with ServeProcess("--max-peers", "3") as s:
        yield s


def random_file(path: Path, size: int) -> str:
    """A file of random bytes; its sha256."""
    h = hashlib.sha256()
    block = os.urandom(1 << 20)
    with path.open("wb") as f:
        written = 0
        while written < size:
            # Vary each MiB so a chunk sent twice or out of order changes the hash.
            piece = (written.to_bytes(8, "big") + block)[: min(len(block), size - written)]
            f.write(piece)
            h.update(piece)
            written += len(piece)
    return h.hexdigest()


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def part_file(out: Path, size: int) -> Path | None:
    """The receiver's .part file once it holds ``size`` bytes."""
    parts = list(out.glob("*.part"))
    return parts[0] if parts and parts[0].stat().st_size >= size else None


async def until_part_file_reaches(out: Path, size: int, timeout: float = 60) -> Path:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if part := part_file(out, size):
            return part
        await asyncio.sleep(0.05)
    raise AssertionError(f"no .part file of {size} bytes in {out} within {timeout} s")


@pytest.mark.timeout(180)
async def test_a_200_mb_file_resumes_after_the_receiver_is_killed(
    server: ServeProcess, tmp_path: Path
) -> None:
    source, out = tmp_path / "big.bin", tmp_path / "out"
    digest = random_file(source, BIG)
    common = ("--room", "files", "--url", server.url, *LOCAL_ICE, "--wait", "60")

    # First run: the receiver dies (SIGKILL) a third of the way through.
    recv = await Command.start("recv", "--out", str(out), *common)
    await recv.wait_for_output("waiting for a file")
    send = await Command.start("send", str(source), *common)
    part = await until_part_file_reaches(out, BIG // 3)
    recv.kill()
    await recv.finish()
    sent = await send.finish(60)
    assert sent.status == 1, sent
    assert "run both again to resume" in sent.out, sent
    kept = part.stat().st_size
    assert BIG // 3 <= kept < BIG

    # Second run: the receiver offers its .part length, and only the rest travels.
    recv = await Command.start("recv", "--out", str(out), *common)
    await recv.wait_for_output("waiting for a file")
    sent = await rtcroom("send", str(source), *common, timeout=120)
    received = await recv.finish(30)
    assert sent.status == 0, sent
    assert received.status == 0, received
    assert "resuming at" in received.out, received
    assert re.search(r"✓ .*big\.bin .*sha256 verified.*resumed at", received.out), received
    assert "received it intact (sha256 verified)" in sent.out, sent
    assert sha256(out / "big.bin") == digest
    assert not list(out.glob("*.part"))  # renamed once verified
    resumed_at = re.search(r"resumed at ([\d.]+) MiB", received.out)
    assert resumed_at and float(resumed_at.group(1)) * 2**20 >= kept - 2**20


async def test_a_file_goes_to_every_receiver_and_never_overwrites(
    server: ServeProcess, tmp_path: Path
) -> None:
    source = tmp_path / "notes.txt"
    digest = random_file(source, 3 * 2**20 + 17)
    outs = [tmp_path / "a", tmp_path / "b"]
    outs[0].mkdir()
    (outs[0] / "notes.txt").write_text("an older file of the same name")
    common = ("--room", "fanout", "--url", server.url, *LOCAL_ICE, "--wait", "30")
    receivers = [await Command.start("recv", "--out", str(o), *common) for o in outs]
    for r in receivers:
        await r.wait_for_output("waiting for a file")
    sent = await rtcroom("send", str(source), *common)
    results = [await r.finish(30) for r in receivers]
    assert sent.status == 0, sent
    assert sent.out.count("received it intact") == 2, sent
    assert all(r.status == 0 for r in results), results
    assert (outs[0] / "notes.txt").read_text() == "an older file of the same name"
    assert sha256(outs[0] / "notes (2).txt") == digest
    assert sha256(outs[1] / "notes.txt") == digest


async def test_send_to_one_peer_only(server: ServeProcess, tmp_path: Path) -> None:
    source = tmp_path / "one.bin"
    random_file(source, 100_000)
    common = ("--room", "one", "--url", server.url, *LOCAL_ICE, "--wait", "20")
    chosen = await Command.start("recv", "--out", str(tmp_path / "chosen"), *common)
    other = await Command.start("recv", "--out", str(tmp_path / "other"), *common)
    await chosen.wait_for_output("waiting for a file")
    await other.wait_for_output("waiting for a file")
    peer = re.search(r" as peer (\d+);", "".join(chosen.out))  # as the demo page shows it
    assert peer
    sent = await rtcroom("send", str(source), "--to", peer.group(1), *common)
    assert sent.status == 0, sent
    assert (await chosen.finish(20)).status == 0
    other.signal()  # Ctrl-C while nothing is arriving: a clean exit
    stopped = await other.finish(20)
    assert stopped.status == 0, stopped
    assert not (tmp_path / "other" / "one.bin").exists()


async def test_bad_input_is_a_clear_error(server: ServeProcess, tmp_path: Path) -> None:
    missing = await rtcroom("send", str(tmp_path / "nope"), "--room", "x", "--url", server.url)
    assert missing.status == 2
    assert "nope is not a file" in missing.err
    assert "Traceback" not in missing.err
    nobody = await rtcroom(
        "send", __file__, "--room", "empty", "--url", server.url, *LOCAL_ICE, "--wait", "1"
    )
    assert nobody.status == 1
    assert "no receiver joined room 'empty'" in nobody.out, nobody
    unreachable = await rtcroom(
        "recv", "--room", "x", "--url", "ws://127.0.0.1:1/api/call/signal", *LOCAL_ICE
    )
    assert unreachable.status == 1
    assert "cannot join through ws://127.0.0.1:1" in unreachable.err, unreachable


async def test_ctrl_c_mid_transfer_exits_130_on_either_side(
    server: ServeProcess, tmp_path: Path
) -> None:
    source, out = tmp_path / "movie.bin", tmp_path / "out"
    # Big enough that the transfer is still running when the signal lands: two rtcroom peers
    # move well over 100 MB/s on loopback (big SCTP packets, docs/benchmarks.md).
    random_file(source, 320 * 2**20)
    common = ("--room", "ctrl-c", "--url", server.url, *LOCAL_ICE, "--wait", "30")
    for interrupted in ("recv", "send"):
        recv = await Command.start("recv", "--out", str(out), *common)
        await recv.wait_for_output("waiting for a file")
        send = await Command.start("send", str(source), *common)
        part = await until_part_file_reaches(out, (part_size(out) or 0) + 4 * 2**20)
        (recv if interrupted == "recv" else send).signal()  # Ctrl-C
        stopped, other = (
            (await recv.finish(30), await send.finish(60))
            if interrupted == "recv"
            else (await send.finish(30), await recv.finish(60))
        )
        assert stopped.status == 130, stopped
        assert "run both again to resume" in stopped.out, stopped
        assert other.status == 1, other
        assert "Traceback" not in stopped.err + other.err, f"{stopped}\n{other}"
        assert part.exists()  # kept for the next run
    assert not (out / "movie.bin").exists()


def part_size(out: Path) -> int | None:
    parts = list(out.glob("*.part"))
    return parts[0].stat().st_size if parts else None
