"""``rtcroom record ROOM --out DIR``: a receive-only bot that records every peer to its own file.

A peer's tracks arrive one by one, so a recording starts once its tracks have been quiet for
:data:`SETTLE` seconds; a track that arrives later starts a new file (``-2``, ``-3``...). A peer
that leaves gets its file closed at once; Ctrl-C closes them all, so every file is complete.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import (
    EXIT_OK,
    add_peer_options,
    call_options,
    connect_error,
    require_extras,
    run_in_out_dir,
    short,
    signal_url,
)

SETTLE = 1.0
"""Seconds without a new track from a peer before its recording starts."""


def add_command(sub: Any) -> None:
    p = sub.add_parser("record", help="record every peer of a room to its own file")
    p.add_argument("room", help="room to join")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="where to write the files (default .)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this long (default: until Ctrl-C)",
    )
    add_peer_options(p)
    p.set_defaults(func=main)


@dataclass
class PeerRecording:
    peer: str
    kinds: set[str] = field(default_factory=set)
    handle: Any = None
    path: Path | None = None
    started: float = 0.0
    part: int = 0
    pending: asyncio.TimerHandle | None = None


def _file_stem(room: str, peer: str, part: int) -> str:
    safe_room = re.sub(r"[^A-Za-z0-9._-]", "_", room)[:40]
    suffix = f"-{part}" if part > 1 else ""
    return f"{safe_room}-{short(peer).replace(' ', '')}-{time.strftime('%Y%m%d-%H%M%S')}{suffix}"


def main(args: argparse.Namespace) -> int:
    return run_in_out_dir(args, lambda: record(args))


async def record(args: argparse.Namespace) -> int:
    require_extras("record", "media", "cli")
    out_dir: Path = args.out
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    from ..client import CallError, PeerJoinedEvent, PeerLeftEvent, TrackAddedEvent, WebRTCCall

    console = Console(stderr=True)
    call = WebRTCCall(
        args.room, signal_url(args.url, args.token), media=False, **(await call_options(args))
    )
    peers: dict[str, PeerRecording] = {}
    saved: list[str] = []

    def table() -> Table:
        t = Table(title=f"recording room {args.room!r} → {out_dir}", expand=False)
        for column in ("peer", "tracks", "file", "time", "dropped"):
            t.add_column(column)
        now = time.monotonic()
        for rec in peers.values():
            recording = rec.handle is not None
            t.add_row(
                short(rec.peer),
                "+".join(sorted(rec.kinds)) or "-",
                rec.path.name if rec.path and recording else "waiting for media",
                f"{now - rec.started:.0f} s" if recording else "",
                str(rec.handle.frames_dropped) if recording else "",
            )
        return t

    async def stop(rec: PeerRecording, why: str) -> None:
        handle, rec.handle = rec.handle, None
        if rec.pending is not None:
            rec.pending.cancel()
        if handle is None:
            return
        seconds = time.monotonic() - rec.started  # before stop(), which flushes the encoder
        try:
            path = await handle.stop()
        except Exception as exc:  # a failed encoder must not lose the other files
            console.print(f"✗ {short(rec.peer)}: recording failed: {exc}")
            return
        line = f"✓ {path} ({seconds:.1f} s, {handle.mime_type}; {why})"
        saved.append(str(path))
        print(line, flush=True)

    starting: set[asyncio.Task[None]] = set()

    def begin(rec: PeerRecording) -> None:
        rec.pending = None
        task = asyncio.create_task(restart(rec))
        starting.add(task)
        task.add_done_callback(starting.discard)

    async def restart(rec: PeerRecording) -> None:
        if rec.handle is not None:
            await stop(rec, "a new track arrived; continuing in a new file")
        rec.part += 1
        path = out_dir / f"{_file_stem(args.room, rec.peer, rec.part)}.webm"
        handle = call.start_recording(rec.peer, path=path)
        if handle is None:
            return
        rec.handle, rec.path, rec.started = handle, path, time.monotonic()
        print(f"● {short(rec.peer)} ({'+'.join(sorted(rec.kinds))}) → {path}", flush=True)

    def on_track(peer: str, kind: str) -> None:
        rec = peers.setdefault(peer, PeerRecording(peer))
        rec.kinds.add(kind)
        if rec.pending is not None:
            rec.pending.cancel()
        rec.pending = asyncio.get_running_loop().call_later(SETTLE, begin, rec)

    try:
        try:
            await call.connect()
        except CallError as exc:
            raise connect_error(exc, args.url) from None
        print(
            f"recording room {args.room!r} as {short(call.peer_id or '')} into {out_dir} "
            "(Ctrl-C stops and closes the files)",
            flush=True,
        )
        for peer in call.remote_peer_ids:
            peers.setdefault(peer, PeerRecording(peer))
        end = None if args.duration is None else time.monotonic() + args.duration
        with Live(table(), console=console, refresh_per_second=2, transient=True) as live:
            async with call.events() as events:
                while end is None or time.monotonic() < end:
                    try:
                        event = await events.next(timeout=0.5)
                    except TimeoutError:
                        live.update(table())
                        continue
                    if isinstance(event, TrackAddedEvent):
                        on_track(event.peer_id, event.track.kind)
                    elif isinstance(event, PeerJoinedEvent):
                        peers.setdefault(event.peer_id, PeerRecording(event.peer_id))
                    elif isinstance(event, PeerLeftEvent) and event.peer_id in peers:
                        await stop(peers.pop(event.peer_id), "left the room")
                    live.update(table())
        return EXIT_OK
    except asyncio.CancelledError:
        return EXIT_OK  # Ctrl-C is how a recording ends: the files are closed below
    finally:
        for rec in list(peers.values()):
            await stop(rec, "stopped")
        await call.hangup()
        print(f"{len(saved)} file(s) in {out_dir}", flush=True)
