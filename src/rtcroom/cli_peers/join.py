"""``rtcroom join ROOM``: a terminal chat on the demo page's ``chat`` channel.

Messages are JSON strings on an ordered channel labelled ``chat`` (what the demo page and
``examples/chat_bot.py`` use). Lines typed are sent to every peer; ``/peers`` lists the room,
``/quit`` (or Ctrl-D, or Ctrl-C) leaves.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
from typing import Any

from .common import (
    EXIT_OK,
    CommandError,
    add_peer_options,
    call_options,
    connect_error,
    require_extras,
    run,
    short,
    signal_url,
)

CHAT = "chat"


def add_command(sub: Any) -> None:
    p = sub.add_parser("join", help="chat in a room from the terminal (the demo page's chat)")
    p.add_argument("room", help="room to join")
    media = p.add_mutually_exclusive_group()
    media.add_argument(
        "--data-only",
        action="store_true",
        help="send no media (the default); still receives the others' media",
    )
    media.add_argument(
        "--video",
        choices=["pattern"],
        help="also send video: 'pattern' = moving colour bars (needs rtcroom[media])",
    )
    add_peer_options(p)
    p.set_defaults(func=lambda args: run(lambda: join(args)))


def chat_text(data: object) -> str:
    """A chat message as the demo page shows it: a string as is, anything else as JSON."""
    return data if isinstance(data, str) else json.dumps(data)


def _stdin_lines(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
    """Read stdin in a daemon thread (a blocking readline must not hold the exit)."""

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line.rstrip("\r\n"))
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read, name="rtcroom-join-stdin", daemon=True).start()


async def join(args: argparse.Namespace) -> int:
    require_extras("join", "media" if args.video else "client", "cli")
    media: Any = False
    if args.video == "pattern":
        from ..media import TestPatternSource

        media = TestPatternSource(video={"width": 640, "height": 360, "fps": 15}, audio=False)
    from rich.console import Console
    from rich.markup import escape

    from ..client import (
        CallError,
        DataChannelConfig,
        DataChannelMessageEvent,
        DataChannelOpenEvent,
        ErrorEvent,
        PeerJoinedEvent,
        PeerLeftEvent,
        StateChangeEvent,
        WebRTCCall,
    )

    console = Console(highlight=False)
    call = WebRTCCall(
        args.room,
        signal_url(args.url, args.token),
        media=media,
        data_channels=[DataChannelConfig(CHAT, ordered=True)],
        **(await call_options(args)),
    )
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def note(text: str) -> None:
        console.print(f"[dim]· {escape(text)}[/dim]")

    async def typed() -> None:
        while (line := await lines.get()) is not None:
            text = line.strip()
            if not text:
                continue
            if text == "/quit":
                return
            if text == "/peers":
                peers = ", ".join(short(p) for p in call.remote_peer_ids) or "nobody else"
                note(f"in {args.room!r}: you ({short(call.peer_id or '')}), {peers}")
            elif call.send_json(CHAT, text):
                console.print(f"[bold cyan]you[/bold cyan]: {escape(text)}")
            else:
                note("not sent: no peer has the chat open yet")

    async def events() -> None:
        async with call.events() as stream:
            async for event in stream:
                if isinstance(event, DataChannelMessageEvent) and event.label == CHAT:
                    console.print(
                        f"[bold magenta]{short(event.peer_id)}[/]: {escape(chat_text(event.data))}"
                    )
                elif isinstance(event, DataChannelOpenEvent) and event.label == CHAT:
                    note(f"chat open with {short(event.peer_id)}")
                elif isinstance(event, PeerJoinedEvent):
                    note(f"{short(event.peer_id)} joined")
                elif isinstance(event, PeerLeftEvent):
                    note(f"{short(event.peer_id)} left")
                elif isinstance(event, StateChangeEvent):
                    note(f"connection: {event.state} ({event.reason})")
                    if str(event.state) == "idle":
                        return
                elif isinstance(event, ErrorEvent):
                    note(f"error: {event.error}")

    try:
        try:
            await call.connect()
        except CallError as exc:
            raise connect_error(exc, args.url) from None
        others = ", ".join(short(p) for p in call.remote_peer_ids) or "nobody else yet"
        note(
            f"joined {args.room!r} as {short(call.peer_id or '')} ({others}); type a line "
            "and Enter to send, /peers, /quit"
        )
        _stdin_lines(asyncio.get_running_loop(), lines)
        watch = asyncio.create_task(events())
        read = asyncio.create_task(typed())
        done, _ = await asyncio.wait({watch, read}, return_when=asyncio.FIRST_COMPLETED)
        for task in (watch, read):
            task.cancel()
        if watch in done and call.state == "idle":
            raise CommandError("disconnected from the server")
        return EXIT_OK
    except asyncio.CancelledError:
        return EXIT_OK  # leaving a chat is never an unfinished job
    finally:
        await call.hangup()
        note("left")
