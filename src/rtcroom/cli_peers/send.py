"""``rtcroom send FILE --room R [--to PEER]``: a file to one or all peers of a room.

Each receiver gets its own task reading the file from the offset it asked for, so memory stays
bounded (one chunk plus the channel's send queue, which ``drain`` caps) whatever the size.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import file_format as ff
from .common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    add_peer_options,
    call_options,
    connect_error,
    fail,
    is_peer,
    require_extras,
    run,
    short,
    signal_url,
)
from .progress import rate_text, size_text

ANSWER_TIMEOUT = 15.0
"""A peer that does not answer an offer in this time is not running a receiver."""
DRAIN_TIMEOUT = 60.0
"""A receiver that reads nothing for this long is stuck."""
DONE_TIMEOUT = 60.0
HIGH_WATER, LOW_WATER = 4 << 20, 1 << 20
"""Send until this much is queued, then wait until it is down to LOW_WATER: one wake-up per
3 MiB instead of one per chunk, and the queue never runs dry."""


def add_command(sub: Any) -> None:
    p = sub.add_parser("send", help="send a file to the peers of a room (rtcroom recv, demo page)")
    p.add_argument("file", type=Path, help="the file to send")
    p.add_argument("--room", required=True, help="room to join")
    p.add_argument(
        "--to",
        metavar="PEER",
        help="only this peer: its id, or its number as the demo page shows it (peer 3 or 3)",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for a receiver (default 300)",
    )
    add_peer_options(p)
    p.set_defaults(func=main)


@dataclass
class Outcome:
    peer: str
    ok: bool
    answered: bool
    text: str
    sent: int = 0


def main(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        return fail(f"{path} is not a file", EXIT_USAGE)
    if not os.access(path, os.R_OK):
        return fail(f"{path} is not readable (permissions)", EXIT_USAGE)
    return run(lambda: send(args, path.stat().st_size))


async def send(args: argparse.Namespace, size: int) -> int:
    require_extras("send", "client", "cli")
    from .progress import transfer_progress

    path: Path = args.file
    progress = transfer_progress()
    with progress.console.status(f"computing the sha256 of {path.name} ({size_text(size)})"):
        digest = (await asyncio.to_thread(ff.sha256_of, path)).hexdigest()
    return await _send(args, path, size, digest, progress)


def outcome(peer: str, task: asyncio.Task[Outcome]) -> Outcome:
    if task.cancelled():  # the peer left during the transfer
        return Outcome(
            peer, False, True, "left before the end; run both again to resume where it stopped"
        )
    return task.result()


async def _send(args: argparse.Namespace, path: Path, size: int, digest: str, progress: Any) -> int:
    from ..client import (
        CallError,
        DataChannelConfig,
        DataChannelMessageEvent,
        DataChannelOpenEvent,
        PeerJoinedEvent,
        PeerLeftEvent,
        WebRTCCall,
    )

    call = WebRTCCall(
        args.room,
        signal_url(args.url, args.token),
        data_channels=[DataChannelConfig(ff.LABEL, ordered=True)],
        **(await call_options(args)),
    )
    inboxes: dict[str, asyncio.Queue[Any]] = {}
    tasks: dict[str, asyncio.Task[Outcome]] = {}
    started = time.monotonic()

    async def transfer(peer: str) -> Outcome:
        inbox = inboxes[peer]
        call.send_json_to(
            peer, ff.LABEL, ff.message("offer", name=path.name, size=size, sha256=digest)
        )
        try:
            reply = await asyncio.wait_for(inbox.get(), ANSWER_TIMEOUT)
        except TimeoutError:
            return Outcome(peer, False, False, "did not answer (not running rtcroom recv?)")
        if ff.kind_of(reply) != "accept" or reply.get("sha256") != digest:
            return Outcome(peer, False, True, f"refused the file: {reply.get('reason', reply)}")
        offset = reply.get("offset")
        if not isinstance(offset, int) or not 0 <= offset <= size:
            return Outcome(peer, False, True, f"asked for a bad offset {offset!r}")
        task = progress.add_task(f"→ {short(peer)}", total=size, completed=offset)
        call.send_json_to(
            peer,
            ff.LABEL,
            ff.message("header", name=path.name, size=size, sha256=digest, offset=offset),
        )
        sent = 0
        t0 = time.monotonic()
        with path.open("rb") as f:
            f.seek(offset)
            while chunk := f.read(ff.CHUNK_SIZE):
                if not call.send_binary_to(peer, ff.LABEL, chunk):
                    return Outcome(
                        peer,
                        False,
                        True,
                        f"channel closed after {offset + sent} bytes; run both again to resume",
                        sent,
                    )
                sent += len(chunk)
                progress.update(task, advance=len(chunk))
                if call.buffered_amount(ff.LABEL, peer) > HIGH_WATER:
                    await call.drain(ff.LABEL, peer_id=peer, low=LOW_WATER, timeout=DRAIN_TIMEOUT)
        call.send_json_to(peer, ff.LABEL, ff.message("end", sha256=digest))
        try:
            done = await asyncio.wait_for(inbox.get(), DONE_TIMEOUT)
        except TimeoutError:
            return Outcome(peer, False, True, "never confirmed the file", sent)
        seconds = time.monotonic() - t0
        call.send_json_to(peer, ff.LABEL, ff.message("bye", sha256=digest))
        if ff.kind_of(done) == "done" and done.get("ok") is True:
            resumed = f", resumed at {size_text(offset)}" if offset else ""
            return Outcome(
                peer,
                True,
                True,
                f"received it intact (sha256 verified) in "
                f"{seconds:.1f} s, {rate_text(sent, seconds)}{resumed}",
                sent,
            )
        return Outcome(peer, False, True, f"rejected it: {done.get('reason', done)}", sent)

    def wanted(peer: str) -> bool:
        return args.to is None or is_peer(peer, args.to)

    def start(peer: str) -> None:
        if peer not in tasks and wanted(peer):
            inboxes[peer] = asyncio.Queue(16)
            tasks[peer] = asyncio.create_task(guarded(peer))

    async def guarded(peer: str) -> Outcome:
        try:
            return await transfer(peer)
        except (CallError, TimeoutError) as exc:
            return Outcome(peer, False, True, f"transfer stopped: {exc}")

    def finish(outcomes: list[Outcome]) -> int:
        answered = [o for o in outcomes if o.answered]
        for o in outcomes:
            if o.answered or not answered:
                mark = "✓" if o.ok else "✗"
                print(f"{mark} {path.name} → {short(o.peer)}: {o.text}", flush=True)
        if not answered:
            return EXIT_FAILED
        return EXIT_OK if all(o.ok for o in answered) else EXIT_FAILED

    try:
        try:
            await call.connect()
        except CallError as exc:
            raise connect_error(exc, args.url) from None
        print(
            f"in room {args.room!r} as {short(call.peer_id or '')}; offering {path.name} "
            f"({size_text(size)}, sha256 {digest[:16]}…)",
            flush=True,
        )
        deadline = time.monotonic() + args.wait
        with progress:
            async with call.events() as events:
                seen = {peer: time.monotonic() for peer in call.remote_peer_ids}
                for peer in call.remote_peer_ids:
                    if call.get_data_channel_state(peer, ff.LABEL) == "open":
                        start(peer)
                while True:
                    if (
                        tasks
                        and all(t.done() for t in tasks.values())
                        and not any(
                            # a peer already here whose channel is still opening gets its turn
                            peer not in tasks
                            and time.monotonic() - seen.get(peer, 0) < ANSWER_TIMEOUT
                            for peer in call.remote_peer_ids
                            if wanted(peer)
                        )
                    ):
                        if any(outcome(p, t).answered for p, t in tasks.items()):
                            break
                    if time.monotonic() > deadline and not any(
                        not t.done() for t in tasks.values()
                    ):
                        break
                    try:
                        event = await events.next(timeout=0.2)
                    except TimeoutError:
                        continue
                    if isinstance(event, PeerJoinedEvent):
                        seen[event.peer_id] = time.monotonic()
                    elif isinstance(event, DataChannelOpenEvent) and event.label == ff.LABEL:
                        start(event.peer_id)
                    elif isinstance(event, DataChannelMessageEvent) and event.label == ff.LABEL:
                        inbox = inboxes.get(event.peer_id)
                        if inbox is not None and not inbox.full() and isinstance(event.raw, str):
                            inbox.put_nowait(event.data)
                    elif isinstance(event, PeerLeftEvent) and event.peer_id in tasks:
                        task = tasks[event.peer_id]
                        if not task.done():
                            task.cancel()
        outcomes = [outcome(peer, task) for peer, task in tasks.items()]
        if not tasks:
            who = f"peer {args.to!r} never" if args.to else "no receiver"
            print(
                f"✗ {path.name}: {who} joined room {args.room!r} within {args.wait:g} s "
                "(start rtcroom recv there)",
                flush=True,
            )
            return EXIT_FAILED
        return finish(outcomes)
    except asyncio.CancelledError:
        running = [t for t in tasks.values() if not t.done()]
        for t in running:
            t.cancel()
        print(
            f"interrupted after {time.monotonic() - started:.0f} s"
            + ("; run both again to resume" if running else ""),
            flush=True,
        )
        return EXIT_INTERRUPTED if running else EXIT_OK
    finally:
        await call.hangup()
