"""The operator's commands: ``rtcroom rooms``, ``rtcroom kick``, ``rtcroom bench``, and the
``serve`` options for metrics, webhooks and JSON logs.

Secrets come from the environment only (``RTCROOM_ADMIN_SECRET``, ``RTCROOM_WEBHOOK_SECRET``),
never from the command line, so they stay out of ``ps`` and shell history.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from . import admin, metrics, webhooks
from ._extras import MissingExtraError, require

DEFAULT_URL = "http://127.0.0.1:8000"
EXIT_UNREACHABLE = 1
EXIT_USAGE = 2


# --- rtcroom serve --metrics --webhook-url --log-format ----------------------------------------


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    ops = serve.add_argument_group(
        "operations",
        f"The admin API (/admin: rtcroom rooms, rtcroom kick) takes ${admin.SECRET_ENV} as a "
        "Bearer secret; without it, it answers local requests only.",
    )
    ops.add_argument(
        "--metrics",
        action="store_true",
        help="serve GET /metrics in the Prometheus format (needs rtcroom[metrics])",
    )
    ops.add_argument(
        "--webhook-url",
        action="append",
        default=[],
        metavar="URL",
        help=f"POST signed room and peer events here (repeatable; secret from "
        f"${webhooks.SECRET_ENV})",
    )
    ops.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="json: one JSON object per line, with a line per join, leave and error",
    )


def app_options(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``create_app`` options from the serve flags; raises ``ValueError`` with what to fix."""
    env = os.environ if env is None else env
    hooks = None
    if args.webhook_url:
        secret = env.get(webhooks.SECRET_ENV, "").strip()
        if not secret:
            raise ValueError(
                f"--webhook-url needs a signing secret: set the environment variable "
                f"{webhooks.SECRET_ENV} (receivers verify each POST with it)"
            )
        hooks = webhooks.Webhooks(args.webhook_url, secret)
    return {
        "admin_secret": env.get(admin.SECRET_ENV, "").strip() or None,
        "metrics": args.metrics,
        "webhooks": hooks,
        "log_events": args.log_format == "json",
    }


def banner(args: argparse.Namespace, options: Mapping[str, Any]) -> str:
    """Start-up lines for what the operations options turned on ('' when none)."""
    lines = []
    if options["admin_secret"]:
        lines.append(f"admin API at /admin (Bearer ${admin.SECRET_ENV})")
    if args.metrics:
        lines.append(
            "metrics at /metrics"
            if metrics.available()
            else "--metrics: " + metrics.NOT_INSTALLED.strip() + " (/metrics answers 404)"
        )
    if options["webhooks"] is not None:
        lines.append(f"webhooks to {', '.join(options['webhooks'].urls)}")
    return "\n".join(f"rtcroom: {line}" for line in lines)


# --- rtcroom rooms / rtcroom kick ---------------------------------------------------------------


def _admin_request(base: str, path: str, method: str = "GET") -> tuple[int, dict[str, Any]]:
    url = base.rstrip("/") + admin.DEFAULT_PREFIX + path
    headers = {"Accept": "application/json"}
    secret = os.environ.get(admin.SECRET_ENV, "").strip()
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    request = urllib.request.Request(
        url, method=method, headers=headers, data=b"" if method == "POST" else None
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            body = orjson.loads(exc.read())
        except orjson.JSONDecodeError:
            body = {"error": f"HTTP {exc.code} {exc.reason} (is {base} an rtcroom server?)"}
        return exc.code, body


def _base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--url must be the server's http(s)://host:port, got {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def _call_admin(
    args: argparse.Namespace, path: str, method: str
) -> tuple[int, dict[str, Any]] | int:
    try:
        base = _base_url(args.url)
        return _admin_request(base, path, method)
    except ValueError as exc:
        print(f"rtcroom: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print(
            f"rtcroom: cannot reach {args.url}: {reason} (is rtcroom serve running?)",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE


def _rooms(args: argparse.Namespace) -> int:
    answer = _call_admin(args, "/rooms", "GET")
    if isinstance(answer, int):
        return answer
    status, body = answer
    if status != 200:
        print(f"rtcroom: {body.get('error', status)}", file=sys.stderr)
        return EXIT_UNREACHABLE
    if args.json:
        print(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
        return 0
    try:
        require("cli", "rtcroom rooms", "rich")
    except MissingExtraError as exc:
        print(f"rtcroom: {exc} (or use --json)", file=sys.stderr)
        return EXIT_USAGE
    from rich.console import Console
    from rich.table import Table

    rooms = body["rooms"]
    table = Table(title=f"{len(rooms)} rooms, {sum(len(r['peers']) for r in rooms)} peers")
    for column in ("room", "peer", "identity", "name"):
        table.add_column(column)
    for room in rooms:
        for i, peer in enumerate(room["peers"]):
            identity = peer["identity"] or {}
            table.add_row(
                room["roomId"] if i == 0 else "",
                peer["peerId"],
                identity.get("sub") or ("–" if peer["local"] else "(other process)"),
                identity.get("name") or "",
            )
    Console().print(table)
    return 0


def _kick(args: argparse.Namespace) -> int:
    answer = _call_admin(args, f"/peers/{quote(args.peer, safe='')}/kick", "POST")
    if isinstance(answer, int):
        return answer
    status, body = answer
    if status != 200:
        print(f"rtcroom: {body.get('error', status)}", file=sys.stderr)
        return 1 if status != 404 else 3
    print(f"rtcroom: kicked {body['kicked']}")
    return 0


# --- rtcroom bench ------------------------------------------------------------------------------


def _bench(args: argparse.Namespace) -> int:
    try:
        from . import loadtest
    except MissingExtraError as exc:
        print(f"rtcroom: {exc}", file=sys.stderr)
        return EXIT_USAGE
    parts = urlsplit(args.url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        print(
            f"rtcroom: --url must be a ws:// or wss:// signaling URL, got {args.url!r}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    for name in ("rooms", "messages"):
        if getattr(args, name) < 1:
            print(f"rtcroom: --{name} must be at least 1", file=sys.stderr)
            return EXIT_USAGE
    if not args.duration > 0:
        print("rtcroom: --duration must be a positive number of seconds", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = asyncio.run(
            loadtest.run(args.url, rooms=args.rooms, messages=args.messages, duration=args.duration)
        )
    except loadtest.LoadTestError as exc:
        print(f"rtcroom: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    print(result.report())
    return 0 if result.complete else 1


def add_commands(sub: Any) -> None:
    url_help = (
        f"the server's address (default {DEFAULT_URL}); the secret comes from ${admin.SECRET_ENV}"
    )
    rooms = sub.add_parser("rooms", help="list the rooms and peers of a running server")
    rooms.add_argument("--url", default=DEFAULT_URL, help=url_help)
    rooms.add_argument("--json", action="store_true", help="print the admin API's JSON")
    rooms.set_defaults(func=_rooms)
    kick = sub.add_parser("kick", help="remove a peer from its room on a running server")
    kick.add_argument("peer", metavar="PEER", help="the peer id (rtcroom rooms lists them)")
    kick.add_argument("--url", default=DEFAULT_URL, help=url_help)
    kick.set_defaults(func=_kick)
    bench = sub.add_parser(
        "bench",
        help="signaling load test against a running server",
        description="Join ROOMS rooms of two peers, relay MESSAGES ICE candidates per room as "
        "fast as the server takes them (stopping after DURATION seconds), and print relayed "
        "messages per second and relay latency percentiles. Add ?token=... to the URL for a "
        "server that requires join tokens.",
    )
    bench.add_argument("--url", required=True, help="signaling URL, ws://host:port/api/call/signal")
    bench.add_argument("--rooms", type=int, default=50, help="rooms of 2 peers (default 50)")
    bench.add_argument(
        "--messages", type=int, default=200, help="candidates relayed per room (default 200)"
    )
    bench.add_argument(
        "--duration",
        type=float,
        default=30.0,
        help="stop sending after this many seconds (default 30)",
    )
    bench.set_defaults(func=_bench)
