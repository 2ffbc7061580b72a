"""``rtcroom`` on the command line."""

from __future__ import annotations

import argparse
import dataclasses
import errno
import logging
import math
import socket
import sys
from typing import TYPE_CHECKING

from . import cli_ops, cli_peers, cli_resume, cli_security
from .app import DEFAULT_PATH, create_app, reserved_paths
from .hub import DEFAULT_MAX_PEERS

if TYPE_CHECKING:
    from .backends.redis import RedisBackend

EXIT_USAGE = 2
"""A bad option (argparse's own status for usage errors)."""
EXIT_CANNOT_SERVE = 1
"""Options were fine but the server could not start (port taken, address not here)."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rtcroom")
    except PackageNotFoundError:  # run from a source checkout that was never installed
        from . import __version__

        return __version__


def _option_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the options, in the user's words, or None."""
    if not 0 <= args.port <= 65535:
        return f"--port must be between 0 and 65535 (0 picks a free port), got {args.port}"
    if not args.path.startswith("/"):
        return f"--path must start with '/', got {args.path!r}"
    if any(c in args.path for c in "?#{}") or any(c.isspace() for c in args.path):
        return f"--path is a plain URL path (no '?', '#', braces or spaces), got {args.path!r}"
    if args.path in reserved_paths():
        return f"--path {args.path} is taken by the demo server itself; choose another path"
    if args.max_peers < 1:
        return f"--max-peers must be at least 1, got {args.max_peers}"
    if not args.redis_node_ttl > 0:
        return f"--redis-node-ttl must be positive, got {args.redis_node_ttl}"
    if not math.isfinite(args.redis_node_ttl):
        return f"--redis-node-ttl must be a finite number of seconds, got {args.redis_node_ttl}"
    if args.server == "aiohttp":
        if not _have_aiohttp():
            return "--server aiohttp needs aiohttp: pip install 'rtcroom[fast]'"
        if args.forwarded_allow_ips:
            return "--forwarded-allow-ips needs --server uvicorn (or auto)"
    return None


def _listen(host: str, port: int) -> socket.socket:
    """Bind before announcing anything, so a taken port is reported instead of claimed."""
    family, _, _, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    return socket.create_server(address, family=family)


def _cannot_listen(host: str, port: int, exc: OSError) -> str:
    where = f"{host}:{port}"
    if isinstance(exc, socket.gaierror):
        return f"--host {host!r} is neither an address nor a name this machine resolves"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use by another process; "
            f"pick another with --port (--port 0 picks a free one), or stop that process"
        )
    if exc.errno == errno.EACCES:
        return f"no permission to listen on {where} (ports below 1024 need root); try --port 8000"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"--host {host} is not an address of this machine (try 127.0.0.1 or 0.0.0.0)"
    return f"cannot listen on {where}: {exc.strerror or exc}"


def _server_layer(args: argparse.Namespace) -> str:
    """``aiohttp`` when it is installed (the faster layer), else uvicorn; ``--server`` forces."""
    if args.server != "auto":
        return str(args.server)
    if args.forwarded_allow_ips:  # uvicorn's proxy-header handling
        return "uvicorn"
    return "aiohttp" if _have_aiohttp() else "uvicorn"


def _have_aiohttp() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("aiohttp") is not None
    except ImportError:
        return False


def _resume_through_redis(
    setup: cli_resume.ResumeSetup, backend: RedisBackend
) -> cli_resume.ResumeSetup:
    """No configured secret: every process of the deployment adopts one key through Redis, so a
    peer resumes on any of them."""
    from .backends.redis.secret import share_resume_key

    shared, problem = share_resume_key(setup.resume, backend)
    if problem is not None:
        print(f"rtcroom: warning: {problem}", file=sys.stderr)
        return setup
    return dataclasses.replace(setup, resume=shared, where="shared through Redis", problem="")


def _serve(args: argparse.Namespace) -> int:
    problem = _option_problem(args)
    if problem:
        print(f"rtcroom: {problem}", file=sys.stderr)
        return EXIT_USAGE
    backend = None
    if args.redis:
        from .backends.redis import RedisBackend  # only a clustered server needs Redis

        try:
            ttl = args.redis_node_ttl
            backend = RedisBackend(args.redis, node_ttl=ttl, heartbeat_interval=min(1.0, ttl / 4))
        except ValueError as exc:
            print(f"rtcroom: --redis: {exc}", file=sys.stderr)
            return EXIT_USAGE
    try:
        security = cli_security.from_serve_args(args)
    except ValueError as exc:
        print(f"rtcroom: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        ops = cli_ops.app_options(args)
        resume = cli_resume.from_serve_args(args)
    except ValueError as exc:
        print(f"rtcroom: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if backend is not None and resume.resume.enabled and not resume.configured:
        resume = _resume_through_redis(resume, backend)  # no configured secret: share one
    try:
        sock = _listen(args.host, args.port)
    except OSError as exc:
        print(f"rtcroom: {_cannot_listen(args.host, args.port, exc)}", file=sys.stderr)
        return EXIT_CANNOT_SERVE
    port: int = sock.getsockname()[1]
    where = f"rooms in Redis at {backend.address.display()}" if backend else "rooms in memory"
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    announcement = (
        f"rtcroom: serving on http://{shown_host}:{port}/  "
        f"(signaling at ws://{shown_host}:{port}{args.path}, max {args.max_peers} peers "
        f"per room, {where})\n{security.banner()}"
    )
    if cli_ops.banner(args, ops):
        announcement += "\n" + cli_ops.banner(args, ops)
    announcement += "\n" + resume.banner()
    options = {
        "max_peers": args.max_peers,
        "backend": backend,
        "resume": resume.resume,
        **security.app_options(),
        **ops,
    }
    if _server_layer(args) == "aiohttp":
        from . import _serving_aiohttp

        app_ = _serving_aiohttp.create_app(path=args.path, **options)
        return _serving_aiohttp.serve(app_, sock, announcement, args.log_level)
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from ._serving import QuietServer

    app = create_app(path=args.path, **options)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=port,
        ws="websockets-sansio",
        loop="auto",
        # uvicorn logs every connection and request at info, which costs CPU on each one, so
        # its lines (those, and its own start and stop chatter) show only at debug.
        log_level="warning" if args.log_level == "info" else args.log_level,
        lifespan="on",
        log_config=None if args.log_format == "json" else LOGGING_CONFIG,  # json: ours
        **cli_security.uvicorn_options(args),
    )
    server = QuietServer(config, announcement)
    server.run(sockets=[sock])
    if server.stopped_by is not None:
        print("rtcroom: stopped", flush=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rtcroom", description="WebRTC rooms for Python.")
    parser.add_argument("--version", action="version", version=f"rtcroom {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the signaling server with the demo page")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port",
        type=int,
        default=8000,
        help="port to bind, 0..65535; 0 picks a free one and prints it (default 8000)",
    )
    serve.add_argument(
        "--max-peers",
        type=int,
        default=DEFAULT_MAX_PEERS,
        help=f"peers per room (default {DEFAULT_MAX_PEERS})",
    )
    serve.add_argument(
        "--path", default=DEFAULT_PATH, help=f"signaling WebSocket path (default {DEFAULT_PATH})"
    )
    serve.add_argument(
        "--redis",
        metavar="URL",
        help="share rooms with other rtcroom processes through Redis, e.g. redis://127.0.0.1:6379/0",
    )
    serve.add_argument(
        "--redis-node-ttl",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="with --redis: a process silent this long is presumed dead and its peers are "
        "announced as left (default 5)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="default info; debug adds a line per connection and request",
    )
    serve.add_argument(
        "--server",
        default="auto",
        choices=["auto", "aiohttp", "uvicorn"],
        help="the HTTP/WebSocket layer: aiohttp (faster, leaner; pip install 'rtcroom[fast]') "
        "or uvicorn; default auto: aiohttp when installed",
    )
    cli_security.add_serve_options(serve)
    cli_ops.add_serve_options(serve)
    cli_resume.add_serve_options(serve)
    serve.set_defaults(func=_serve)
    cli_security.add_token_command(sub)
    cli_ops.add_commands(sub)
    cli_peers.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = getattr(args, "log_level", "info").upper()
    if getattr(args, "log_format", "text") == "json":
        from .logs import use_json_logs

        use_json_logs(level)
    else:
        logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        result: int = args.func(args)
    except KeyboardInterrupt:  # Ctrl-C before the server took over the signals
        print("rtcroom: stopped", flush=True)
        return 0
    return result


if __name__ == "__main__":
    raise SystemExit(main())
