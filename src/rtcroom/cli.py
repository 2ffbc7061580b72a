"""``rtcroom`` on the command line."""

from __future__ import annotations

import argparse
import logging
import sys

from . import cli_security
from .app import DEFAULT_PATH, create_app
from .hub import DEFAULT_MAX_PEERS


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    if not args.path.startswith("/"):
        print(f"rtcroom: --path must start with '/', got {args.path!r}", file=sys.stderr)
        return 2
    if args.max_peers < 1:
        print(f"rtcroom: --max-peers must be at least 1, got {args.max_peers}", file=sys.stderr)
        return 2
    if not args.redis_node_ttl > 0:
        print(
            f"rtcroom: --redis-node-ttl must be positive, got {args.redis_node_ttl}",
            file=sys.stderr,
        )
        return 2
    backend = None
    if args.redis:
        from .backends.redis import RedisBackend  # only a clustered server needs Redis

        try:
            ttl = args.redis_node_ttl
            backend = RedisBackend(args.redis, node_ttl=ttl, heartbeat_interval=min(1.0, ttl / 4))
        except ValueError as exc:
            print(f"rtcroom: --redis: {exc}", file=sys.stderr)
            return 2
    try:
        security = cli_security.from_serve_args(args)
    except ValueError as exc:
        print(f"rtcroom: {exc}", file=sys.stderr)
        return 2
    app = create_app(
        max_peers=args.max_peers, path=args.path, backend=backend, **security.app_options()
    )
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        ws="websockets-sansio",
        loop="auto",
        log_level=args.log_level,
        lifespan="on",
        **cli_security.uvicorn_options(args),
    )
    server = uvicorn.Server(config)
    where = f"rooms in Redis at {backend.address.display()}" if backend else "rooms in memory"
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"rtcroom: serving on http://{shown_host}:{args.port}/  "
        f"(signaling at ws://{shown_host}:{args.port}{args.path}, max {args.max_peers} peers "
        f"per room, {where})",
        flush=True,
    )
    print(security.banner(), flush=True)
    server.run()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rtcroom", description="WebRTC rooms for Python.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the signaling server with the demo page")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
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
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    cli_security.add_serve_options(serve)
    serve.set_defaults(func=_serve)
    cli_security.add_token_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
