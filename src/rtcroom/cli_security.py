"""``rtcroom serve``'s options for a public deployment, and ``rtcroom token create``.

Secrets come from the environment or a file, never from the command line, so they stay out of
``ps`` and shell history: ``RTCROOM_SECRET`` (join tokens) and ``RTCROOM_TURN_SECRET`` (coturn's
``static-auth-secret``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .auth import Auth
from .hub import DuplicateIdentity
from .limits import Limits
from .tokens import DEFAULT_TTL, JoinTokens, TokenConfigError, create, parse_ttl
from .turn import DEFAULT_TURN_TTL, IceServers

SECRET_ENV = "RTCROOM_SECRET"
TURN_SECRET_ENV = "RTCROOM_TURN_SECRET"


class OptionError(ValueError):
    """A bad option: the message is printed as ``rtcroom: <message>`` and serve exits with 2."""


@dataclass(slots=True)
class Security:
    """What the serve options add to ``create_app``."""

    auth: Auth | None = None
    limits: Limits = field(default_factory=Limits)
    ice_servers: IceServers = field(default_factory=IceServers)
    on_duplicate_identity: DuplicateIdentity = "allow"
    auth_description: str = "no join tokens (anyone who reaches the server may join any room)"

    def app_options(self) -> dict[str, Any]:
        return {
            "auth": self.auth,
            "limits": self.limits,
            "ice_servers": self.ice_servers,
            "on_duplicate_identity": self.on_duplicate_identity,
        }

    def banner(self) -> str:
        return f"rtcroom: {self.auth_description}; {self.ice_servers.describe()}"


def _read_secret_file(path: str, option: str) -> str:
    try:
        text = Path(path).read_text().strip()
    except OSError as exc:
        raise OptionError(f"{option} {path}: cannot read it ({exc.strerror})") from None
    if not text:
        raise OptionError(f"{option} {path}: the file is empty")
    return text


def _secret(
    args: argparse.Namespace, env: Mapping[str, str], *, required: bool
) -> tuple[str | None, str]:
    """The join-token secret and where it came from (for messages; never its value)."""
    if args.secret_file:
        return _read_secret_file(
            args.secret_file, "--secret-file"
        ), f"--secret-file {args.secret_file}"
    name = args.secret_env or SECRET_ENV
    value = env.get(name, "").strip()
    if value:
        return value, f"${name}"
    if required:
        raise OptionError(
            f"no signing secret: set the environment variable {name} (or pass --secret-file "
            "PATH); secrets are never taken from the command line"
        )
    if args.secret_env:
        raise OptionError(f"--secret-env {name}: that environment variable is not set")
    return None, ""


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    tokens = serve.add_argument_group(
        "join tokens",
        f"Tokens are required when ${SECRET_ENV} is set or --secret-file/--public-key-file is "
        "given. A socket presents its token as ?token=... or Authorization: Bearer ....",
    )
    tokens.add_argument("--secret-file", metavar="PATH", help="read the HS256 secret from a file")
    tokens.add_argument(
        "--secret-env",
        metavar="NAME",
        help=f"read the HS256 secret from this environment variable (default {SECRET_ENV})",
    )
    tokens.add_argument(
        "--public-key-file",
        metavar="PEM",
        help="also accept ES256/EdDSA tokens signed by this public key's private key",
    )
    tokens.add_argument(
        "--on-duplicate-identity",
        choices=["allow", "replace", "reject"],
        default="allow",
        help="a second socket with the same identity in one room: allow it (default), replace "
        "the first (closed with 4409), or reject it (error frame)",
    )
    ice = serve.add_argument_group(
        "ICE servers told to clients",
        f"TURN credentials use coturn's REST scheme with the secret from ${TURN_SECRET_ENV} "
        "(coturn: use-auth-secret, static-auth-secret=the same value).",
    )
    ice.add_argument(
        "--stun-url", action="append", default=[], metavar="URL", help="stun:host:3478 (repeatable)"
    )
    ice.add_argument(
        "--turn-url",
        action="append",
        default=[],
        metavar="URL",
        help="turn:host:3478, turn:host:3478?transport=tcp, turns:host:5349 (repeatable)",
    )
    ice.add_argument(
        "--turn-secret-file", metavar="PATH", help="read the TURN secret from a file instead"
    )
    ice.add_argument(
        "--turn-ttl",
        type=float,
        default=DEFAULT_TURN_TTL,
        metavar="SECONDS",
        help=f"lifetime of each TURN credential (default {DEFAULT_TURN_TTL}, 24 h)",
    )
    lim = serve.add_argument_group("limits", "0 turns a limit off. Defaults fit any honest client.")
    d = Limits()
    lim.add_argument(
        "--allow-origin",
        action="append",
        metavar="ORIGIN",
        help="a page origin allowed to open sockets, e.g. https://app.example.com or "
        "https://*.example.com (repeatable; default: any; the server's own host is always "
        "allowed; others get HTTP 403)",
    )
    lim.add_argument(
        "--max-sockets-per-address",
        type=int,
        default=d.max_sockets_per_address,
        metavar="N",
        help=f"open sockets per client address (default {d.max_sockets_per_address}; more get "
        "HTTP 429)",
    )
    lim.add_argument(
        "--join-rate",
        type=float,
        default=d.join_rate,
        metavar="N",
        help=f"joins per second per client address (default {d.join_rate:g})",
    )
    lim.add_argument(
        "--join-burst",
        type=int,
        default=d.join_burst,
        metavar="N",
        help=f"joins in a burst per client address (default {d.join_burst})",
    )
    lim.add_argument(
        "--frame-rate",
        type=float,
        default=d.frame_rate,
        metavar="N",
        help=f"frames per second per socket (default {d.frame_rate:g}; more: close 1008)",
    )
    lim.add_argument(
        "--frame-burst",
        type=int,
        default=d.frame_burst,
        metavar="N",
        help=f"frames in a burst per socket (default {d.frame_burst})",
    )
    lim.add_argument(
        "--max-rooms",
        type=int,
        default=d.max_rooms,
        metavar="N",
        help=f"rooms with members on this process (default {d.max_rooms})",
    )
    lim.add_argument(
        "--join-timeout",
        type=float,
        default=d.join_timeout,
        metavar="SECONDS",
        help=f"close sockets that have not joined a room by then (default {d.join_timeout:g}; "
        "close 4408)",
    )
    lim.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="behind a reverse proxy: trust X-Forwarded-For from these proxy addresses "
        "(comma-separated, uvicorn's option), so per-address limits see the real clients",
    )


def from_serve_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Security:
    """Validate the options; raises :class:`OptionError` with what to fix."""
    env = os.environ if env is None else env
    security = Security(on_duplicate_identity=args.on_duplicate_identity)
    secret, source = _secret(args, env, required=False)
    public_key = None
    if args.public_key_file:
        try:
            public_key = Path(args.public_key_file).read_bytes()
        except OSError as exc:
            raise OptionError(f"--public-key-file {args.public_key_file}: {exc.strerror}") from None
    if secret is not None or public_key is not None:
        try:
            tokens = JoinTokens(secret, public_key=public_key)
        except TokenConfigError as exc:
            raise OptionError(f"{source or '--public-key-file'}: {exc}") from None
        security.auth = tokens
        sources = [s for s in (source, args.public_key_file and "--public-key-file") if s]
        security.auth_description = (
            f"join tokens required ({', '.join(tokens.algorithms)}, key from "
            f"{' and '.join(sources)})"
        )
    turn_secret: str | None = None
    if args.turn_secret_file:
        turn_secret = _read_secret_file(args.turn_secret_file, "--turn-secret-file")
    else:
        turn_secret = env.get(TURN_SECRET_ENV, "").strip() or None
    try:
        security.ice_servers = IceServers(
            args.stun_url, args.turn_url, turn_secret=turn_secret, turn_ttl=args.turn_ttl
        )
    except ValueError as exc:
        message = str(exc).replace("pass turn_secret=..., or set", "set")
        for option, flag in (("stun: ", "--stun-url "), ("turn: ", "--turn-url ")):
            if message.startswith(option):
                message = flag + message.removeprefix(option)
        raise OptionError(message) from None
    try:
        security.limits = Limits(
            allowed_origins=tuple(args.allow_origin) if args.allow_origin else None,
            max_sockets_per_address=args.max_sockets_per_address,
            join_rate=args.join_rate,
            join_burst=args.join_burst,
            frame_rate=args.frame_rate,
            frame_burst=args.frame_burst,
            max_rooms=args.max_rooms,
            join_timeout=args.join_timeout,
        )
    except ValueError as exc:  # "Limits.frame_rate must be ..." -> "--frame-rate must be ..."
        name, _, rest = str(exc).removeprefix("Limits.").partition(" ")
        raise OptionError(f"--{name.replace('_', '-')} {rest}") from None
    return security


def uvicorn_options(args: argparse.Namespace) -> dict[str, Any]:
    if not args.forwarded_allow_ips:
        return {}
    return {"proxy_headers": True, "forwarded_allow_ips": args.forwarded_allow_ips}


# --- rtcroom token create ---------------------------------------------------------------------


def add_token_command(sub: Any) -> None:
    token = sub.add_parser("token", help="mint join tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create_p = token_sub.add_parser(
        "create",
        help="print a signed join token",
        description=f"Print a join token signed with the secret from ${SECRET_ENV} (or "
        "--secret-env / --secret-file), or with --private-key-file for ES256/EdDSA.",
    )
    create_p.add_argument("--room", required=True, help="room id, or a pattern: lobby-*, * (all)")
    create_p.add_argument("--identity", required=True, help="the token's sub: who this is")
    create_p.add_argument(
        "--ttl", default=str(DEFAULT_TTL), help="lifetime: 90s, 15m, 1h, 7d (default 1h)"
    )
    create_p.add_argument("--name", help="display name passed to the server's callbacks")
    create_p.add_argument("--metadata", metavar="JSON", help="any JSON passed to the server")
    create_p.add_argument("--max-peers", type=int, help="room size for this peer's joins")
    create_p.add_argument("--secret-env", metavar="NAME", help=f"default {SECRET_ENV}")
    create_p.add_argument("--secret-file", metavar="PATH")
    create_p.add_argument(
        "--private-key-file", metavar="PEM", help="sign with an EC P-256 or Ed25519 private key"
    )
    create_p.set_defaults(func=_token_create)


def _token_create(args: argparse.Namespace) -> int:
    try:
        ttl = parse_ttl(args.ttl)
        metadata = orjson.loads(args.metadata) if args.metadata is not None else None
        if args.private_key_file:
            key: str | bytes = Path(args.private_key_file).read_bytes()
        else:
            secret, _ = _secret(args, os.environ, required=True)
            assert secret is not None
            key = secret
        token = create(
            key,
            room=args.room,
            identity=args.identity,
            ttl=ttl,
            name=args.name,
            metadata=metadata,
            max_peers=args.max_peers,
        )
    except orjson.JSONDecodeError:
        print('rtcroom: --metadata must be JSON, e.g. \'{"role": "host"}\'', file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"rtcroom: --private-key-file {args.private_key_file}: {exc.strerror}", file=sys.stderr
        )
        return 2
    except ValueError as exc:  # OptionError, TokenConfigError, bad ttl/room/identity
        print(f"rtcroom: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0
