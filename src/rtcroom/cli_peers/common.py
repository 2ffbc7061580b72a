"""What every peer command shares: where to join, ICE options, extras, and Ctrl-C.

Nothing here imports aiortc at module level: ``rtcroom --help`` and ``rtcroom serve`` must work
on the base install.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

DEFAULT_URL = "ws://127.0.0.1:8000/api/call/signal"

EXIT_OK = 0
EXIT_FAILED = 1
"""The command ran but did not do its job (transfer failed, server unreachable, check failed)."""
EXIT_USAGE = 2
"""A bad option, or a missing pip extra."""
EXIT_INTERRUPTED = 130
"""Ctrl-C stopped work that was not finished (128 + SIGINT, the shell's convention)."""


class CommandError(Exception):
    """A problem the user can fix; printed as one line, no traceback."""

    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


def add_peer_options(parser: argparse.ArgumentParser) -> None:
    """--url, --token and the ICE options of every command that joins a room."""
    parser.add_argument(
        "--url",
        default=os.environ.get("RTCROOM_URL", DEFAULT_URL),
        help=f"signaling WebSocket URL (default $RTCROOM_URL or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("RTCROOM_TOKEN"),
        help="join token, sent as ?token= (default $RTCROOM_TOKEN)",
    )
    parser.add_argument(
        "--ice-server",
        action="append",
        default=None,
        metavar="URL",
        help="a STUN/TURN server (repeatable); default: the client's default servers",
    )
    parser.add_argument(
        "--no-ice-servers",
        action="store_true",
        help="use no STUN/TURN server at all (host candidates only; same machine or LAN)",
    )
    parser.add_argument(
        "--ice-host",
        action="append",
        default=None,
        metavar="ADDRESS",
        help="gather ICE candidates only on this IP address (repeatable; 127.0.0.1 for one "
        "machine)",
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="library log lines on stderr (default warning; info shows each ICE step)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for the server and for peers to connect (default 30)",
    )


def signal_url(url: str, token: str | None) -> str:
    """``url`` with ``?token=`` added (kept if the URL already carries one)."""
    if not token:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "token"]
    query.append(("token", token))
    return urlunsplit(parts._replace(query=urlencode(query)))


async def call_options(args: argparse.Namespace) -> dict[str, Any]:
    """``WebRTCCall`` keyword options from the peer options. With neither ``--ice-server`` nor
    ``--no-ice-servers``, ``ice_servers`` is None: the Python peer then uses the ICE servers the
    server hands out in ``joined`` (fresh TURN credentials included), else its default."""
    if args.no_ice_servers and args.ice_server:
        raise CommandError("--no-ice-servers and --ice-server contradict each other", EXIT_USAGE)
    ice_servers: list[Any] | None = [] if args.no_ice_servers else args.ice_server
    return {
        "ice_servers": ice_servers,
        "ice_host_addresses": args.ice_host,
        "connection_timeout": args.timeout,
        "auto_reconnect": False,  # a command reports a lost server instead of hiding it
    }


def require_extras(command: str, *extras: str) -> None:
    """Raise CommandError with one pip line naming every extra ``rtcroom command`` lacks
    (``rtcroom[client,cli]``), so a bare install is fixed in one step."""
    from .._extras import MissingExtraError, require

    modules = {
        "client": ("aiortc", "numpy"),
        "media": ("aiortc", "av", "numpy"),  # [media] includes [client]
        "cli": ("rich",),  # progress bars and live status
    }
    missing: list[MissingExtraError] = []
    for extra in extras:
        try:
            require(extra, f"rtcroom {command}", *modules[extra])
        except MissingExtraError as exc:
            missing.append(exc)
    if missing:
        needed = ",".join(exc.extra for exc in missing)
        first = MissingExtraError(f"rtcroom {command}", needed, missing[0].missing)
        raise CommandError(str(first), EXIT_USAGE)


def fail(message: str, status: int = EXIT_FAILED) -> int:
    """Print a one-line problem for the user and give the exit status."""
    print(f"rtcroom: {message}", file=sys.stderr)
    return status


def run(body: Callable[[], Awaitable[int]]) -> int:
    """Run a command's coroutine; SIGINT/SIGTERM cancel it, and it turns that into a status.

    A command catches ``asyncio.CancelledError`` where it can finish cleanly (close files, hang
    up) and returns 0 or :data:`EXIT_INTERRUPTED`; if it does not, the status is 130.
    """

    async def main() -> int:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            return await body()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    try:
        return run_loop(main())
    except CommandError as exc:
        return fail(str(exc), exc.status)
    except (asyncio.CancelledError, KeyboardInterrupt):
        print("rtcroom: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def run_in_out_dir(args: argparse.Namespace, body: Callable[[], Awaitable[int]]) -> int:
    """Create ``--out`` (or say in one line why it cannot be used), then :func:`run` ``body``."""
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return fail(f"cannot use --out {args.out}: {exc.strerror}", EXIT_USAGE)
    return run(body)


def connect_error(exc: BaseException, url: str) -> CommandError:
    """A join that failed, in words (the client's own errors already say why)."""
    return CommandError(f"cannot join through {url}: {exc}")


def short(peer_id: str) -> str:
    """A peer id as the demo page shows it: ``peer-1764420000000-3`` is ``peer 3``."""
    return re.sub(r"^peer-\d+-", "peer ", peer_id)


def is_peer(peer_id: str, wanted: str) -> bool:
    """Whether ``wanted`` (a full id, ``peer 3`` as the demo page shows it, or ``3``) names
    ``peer_id``."""
    return wanted in (peer_id, short(peer_id), short(peer_id).removeprefix("peer "))


def run_loop(main: Coroutine[Any, Any, int]) -> int:
    """``asyncio.run`` on uvloop where it is installed (it comes with ``uvicorn[standard]``):
    the Python peer's data channels use ~35 % less CPU per MB on it (docs/benchmarks.md)."""
    try:
        import uvloop
    except ImportError:  # no Windows build
        return asyncio.run(main)
    result: int = uvloop.run(main)
    return result
