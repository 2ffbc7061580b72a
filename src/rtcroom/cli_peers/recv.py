"""``rtcroom recv --room R [--out DIR]``: receive one file sent with ``rtcroom send``.

Bytes go straight to ``NAME.<sha256 prefix>.part`` (unbuffered, so its length is exactly what
arrived, even after a SIGKILL); the next offer of the same file resumes at that length. The
file gets its real name only after the sha256 matched.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import time
from pathlib import Path
from typing import IO, Any

from . import file_format as ff
from .common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    CommandError,
    add_peer_options,
    call_options,
    connect_error,
    require_extras,
    run_in_out_dir,
    short,
    signal_url,
)
from .progress import rate_text, size_text

BYE_TIMEOUT = 5.0
STALL_TIMEOUT = 60.0
"""A sender that stays in the room but sends nothing for this long has stalled."""


def event_is_bye(event: object, peer: str) -> bool:
    """The sender's bye, or the sender leaving."""
    from ..client import DataChannelMessageEvent, PeerLeftEvent

    if isinstance(event, PeerLeftEvent):
        return event.peer_id == peer
    return (
        isinstance(event, DataChannelMessageEvent)
        and event.peer_id == peer
        and event.label == ff.LABEL
        and ff.kind_of(event.data) == "bye"
    )


def add_command(sub: Any) -> None:
    p = sub.add_parser("recv", help="receive a file sent to a room (rtcroom send, demo page)")
    p.add_argument("--room", required=True, help="room to join")
    p.add_argument(
        "--out", type=Path, default=Path("."), metavar="DIR", help="where to save (default .)"
    )
    p.add_argument(
        "--wait",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for a sender (default 300)",
    )
    add_peer_options(p)
    p.set_defaults(func=main)


class Incoming:
    """One file arriving from one peer."""

    def __init__(self, peer: str, out_dir: Path, name: str, size: int, digest: str) -> None:
        self.peer, self.out_dir, self.name, self.size, self.digest = (
            peer,
            out_dir,
            name,
            size,
            digest,
        )
        self.part = ff.part_path(out_dir, name, digest)
        self.hash: Any = hashlib.sha256()
        self.offset = 0
        self.received = 0
        self.file: IO[bytes] | None = None
        self.started = time.monotonic()
        self.task: Any = None

    async def resume_point(self) -> int:
        """The bytes already here (a .part of this very file), hashed so far."""
        if self.part.exists():
            have = self.part.stat().st_size
            if have > self.size:
                self.part.unlink()
            else:
                self.hash = await asyncio.to_thread(ff.sha256_of, self.part, have)
                self.offset = have
        return self.offset

    def open(self) -> None:
        self.file = open(self.part, "ab", buffering=0)
        self.file.truncate(self.offset)

    def write(self, data: bytes) -> None:
        if self.file is None:
            raise ff.FormatError("file bytes before the header")
        if self.offset + self.received + len(data) > self.size:
            raise ff.FormatError("more bytes than announced")
        self.file.write(data)
        self.hash.update(data)
        self.received += len(data)

    @property
    def have(self) -> int:
        return self.offset + self.received

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def finish(self) -> Path:
        """Check the size and sha256; move the .part to its name (never over another file)."""
        self.close()
        if self.have != self.size:
            raise ff.FormatError(f"got {self.have} of {self.size} bytes")
        if self.hash.hexdigest() != self.digest:
            self.part.unlink(missing_ok=True)  # wrong bytes: resuming from them cannot help
            raise ff.FormatError("sha256 mismatch: the file arrived damaged (deleted; send again)")
        target = ff.free_target(self.out_dir, self.name)
        self.part.rename(target)
        return target


def main(args: argparse.Namespace) -> int:
    return run_in_out_dir(args, lambda: recv(args))


async def recv(args: argparse.Namespace) -> int:
    require_extras("recv", "client", "cli")
    out_dir: Path = args.out
    from ..client import (
        CallError,
        DataChannelConfig,
        DataChannelMessageEvent,
        PeerLeftEvent,
        WebRTCCall,
    )
    from .progress import transfer_progress

    progress = transfer_progress()
    call = WebRTCCall(
        args.room,
        signal_url(args.url, args.token),
        data_channels=[DataChannelConfig(ff.LABEL, ordered=True)],
        **(await call_options(args)),
    )
    current: Incoming | None = None

    def reply(peer: str, kind: str, **fields: Any) -> None:
        call.send_json_to(peer, ff.LABEL, ff.message(kind, **fields))

    async def until_bye(peer: str) -> None:
        """Stay until the sender read our verdict (its bye, or it left), at most BYE_TIMEOUT:
        leaving at once could close the connection before "done" is delivered."""
        deadline = time.monotonic() + BYE_TIMEOUT
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = await stream.next(timeout=left)
            except TimeoutError:
                return
            if event_is_bye(event, peer):
                return

    async def on_control(peer: str, data: Any) -> int | None:
        nonlocal current
        kind = ff.kind_of(data)
        if kind == "offer":
            try:
                name, size, digest = ff.checked_offer(data)
            except ff.FormatError as exc:
                reply(peer, "reject", sha256=data.get("sha256"), reason=str(exc))
                return None
            if current is not None and current.peer != peer:
                reply(peer, "reject", sha256=digest, reason="busy with another file")
                return None
            if current is not None:
                current.close()
            current = Incoming(peer, out_dir, name, size, digest)
            offset = await current.resume_point()
            note = f", resuming at {size_text(offset)}" if offset else ""
            print(f"{short(peer)} offers {name} ({size_text(size)}){note}", flush=True)
            reply(peer, "accept", sha256=digest, offset=offset)
        elif current is None or current.peer != peer:
            return None
        elif kind == "header":
            if data.get("sha256") != current.digest or data.get("offset") != current.offset:
                raise ff.FormatError("the header does not match the accepted offer")
            current.open()
            current.task = progress.add_task(
                f"← {short(peer)} {current.name}", total=current.size, completed=current.offset
            )
        elif kind == "end":
            incoming, current = current, None
            seconds = time.monotonic() - incoming.started
            try:
                target = await asyncio.to_thread(incoming.finish)
            except ff.FormatError as exc:
                reply(peer, "done", sha256=incoming.digest, ok=False, reason=str(exc))
                await until_bye(peer)
                print(f"✗ {incoming.name} from {short(peer)}: {exc}", flush=True)
                return EXIT_FAILED
            reply(peer, "done", sha256=incoming.digest, ok=True, reason="")
            await until_bye(peer)
            resumed = f", resumed at {size_text(incoming.offset)}" if incoming.offset else ""
            print(
                f"✓ {target} ({size_text(incoming.size)}) from {short(peer)}: sha256 verified, "
                f"{seconds:.1f} s, {rate_text(incoming.received, seconds)}{resumed}",
                flush=True,
            )
            return EXIT_OK
        return None

    try:
        try:
            await call.connect()
        except CallError as exc:
            raise connect_error(exc, args.url) from None
        print(
            f"in room {args.room!r} as {short(call.peer_id or '')}; waiting for a file "
            f"(saving to {out_dir})",
            flush=True,
        )
        deadline = time.monotonic() + args.wait
        with progress:
            async with call.events() as stream:
                last_event = time.monotonic()
                while current is not None or time.monotonic() < deadline:
                    try:
                        event = await stream.next(timeout=0.5)
                    except TimeoutError:
                        if current is not None and time.monotonic() - last_event > STALL_TIMEOUT:
                            current.close()
                            print(
                                f"✗ {current.name}: nothing from {short(current.peer)} for "
                                f"{STALL_TIMEOUT:g} s; kept {current.part.name}: run both "
                                "again to resume",
                                flush=True,
                            )
                            return EXIT_FAILED
                        continue
                    last_event = time.monotonic()
                    if isinstance(event, DataChannelMessageEvent) and event.label == ff.LABEL:
                        if isinstance(event.raw, bytes):
                            if current is not None and current.peer == event.peer_id:
                                current.write(event.raw)
                                progress.update(current.task, advance=len(event.raw))
                            continue
                        status = await on_control(event.peer_id, event.data)
                        if status is not None:
                            return status
                    elif isinstance(event, PeerLeftEvent) and current is not None:
                        if event.peer_id == current.peer:
                            current.close()
                            print(
                                f"✗ {current.name}: {short(event.peer_id)} left at "
                                f"{size_text(current.have)} of {size_text(current.size)}; "
                                f"kept {current.part.name}: run both again to resume",
                                flush=True,
                            )
                            return EXIT_FAILED
        print(f"✗ no file was offered in room {args.room!r} within {args.wait:g} s", flush=True)
        return EXIT_FAILED
    except ff.FormatError as exc:
        raise CommandError(f"the sender broke the file format: {exc}") from None
    except asyncio.CancelledError:
        if current is None:
            return EXIT_OK
        current.close()
        print(
            f"interrupted at {size_text(current.have)} of {size_text(current.size)}; kept "
            f"{current.part.name}: run both again to resume",
            flush=True,
        )
        return EXIT_INTERRUPTED
    finally:
        if current is not None:
            current.close()
        await call.hangup()
