"""``rtcroom doctor``: check what makes calls fail in the field, and say what to do.

1. the signaling endpoint: ``GET /healthz`` and a WebSocket join to a throwaway room;
2. ICE: host candidates, a server-reflexive one from each STUN server, a relay from each TURN
   server, with aioice directly so a refusal is told apart from silence.

STUN/TURN servers: the ones given, else the ones the server sent in ``joined.iceServers``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    add_peer_options,
    require_extras,
    run,
    signal_url,
)

TURN_REFUSED = {
    401: "credentials refused (401 Unauthorized)",
    403: "forbidden (403)",
    437: "allocation mismatch (437)",
    438: "stale nonce (438)",
    441: "wrong credentials (441)",
    486: "allocation quota reached (486)",
}


def add_command(sub: Any) -> None:
    p = sub.add_parser("doctor", help="check the signaling server, STUN and TURN from here")
    p.add_argument(
        "--stun",
        action="append",
        default=[],
        metavar="URL",
        help="a STUN server to check, e.g. stun:stun.example.org:3478 (repeatable)",
    )
    p.add_argument(
        "--turn",
        action="append",
        default=[],
        metavar="URL",
        help="a TURN server to check, e.g. turn:turn.example.org:3478?transport=udp",
    )
    p.add_argument("--turn-user", metavar="USER", help="TURN username")
    p.add_argument("--turn-password", metavar="PASSWORD", help="TURN password")
    add_peer_options(p)
    p.set_defaults(func=lambda args: run(lambda: doctor(args)))


@dataclass
class Check:
    ok: bool | None  # None: a warning, not a failure
    name: str
    result: str
    advice: str = ""

    def show(self) -> None:
        mark = {True: "✓", False: "✗", None: "!"}[self.ok]
        print(f"{mark} {self.name}: {self.result}", flush=True)
        if self.advice and self.ok is not True:
            print(f"    → {self.advice}", flush=True)


def _healthz_url(url: str) -> str:
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "/healthz", "", ""))


def check_healthz(url: str, timeout: float) -> Check:
    target = _healthz_url(url)
    name = f"HTTP {target}"
    try:
        with urllib.request.urlopen(target, timeout=timeout) as response:
            return Check(True, name, f"{response.status} in reach")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return Check(
                None,
                name,
                "404: no health endpoint (an app that mounts rtcroom)",
                "fine if your app has none; the WebSocket check below decides",
            )
        return Check(
            False,
            name,
            f"HTTP {exc.code}",
            "the server is up but unhealthy (e.g. Redis unreachable): see its log",
        )
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Check(
            False,
            name,
            f"unreachable ({reason})",
            "is the server running, and is --url right? A proxy or firewall may block the port",
        )


async def check_join(url: str, token: str | None, timeout: float) -> tuple[Check, list[Any]]:
    """Join a throwaway room; the check, and the iceServers the server sent (if any)."""
    import websockets

    room = f"rtcroom-doctor-{secrets.token_hex(4)}"
    name = f"WebSocket join {url}"
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            async with websockets.connect(signal_url(url, token), open_timeout=timeout) as ws:
                await ws.send(json.dumps({"t": "join", "roomId": room}))
                frame = json.loads(await ws.recv())
    except TimeoutError:
        return Check(
            False,
            name,
            f"no answer within {timeout:g} s",
            "a proxy may not forward WebSocket upgrades (check Upgrade/Connection "
            "headers), or the path is wrong",
        ), []
    except websockets.ConnectionClosed as exc:
        close = exc.rcvd
        code, reason = (close.code, close.reason) if close else (None, "")
        if code is not None and 4401 <= code <= 4406:  # rtcroom's join-token refusals
            advice = (
                "pass a valid --token (or set RTCROOM_TOKEN) for a room matching rtcroom-doctor-*"
                if code != 4404
                else "the token expired: mint a new one"
            )
            return Check(False, name, f"refused: {reason} ({code})", advice), []
        return Check(
            False,
            name,
            f"closed by the server: {reason or 'no reason'} ({code})",
            "see the server's log",
        ), []
    except websockets.InvalidStatus as exc:
        status = exc.response.status_code
        advice = (
            "the server wants a join token: pass --token or set RTCROOM_TOKEN"
            if status in (401, 403)
            else "check the signaling path in --url"
        )
        return Check(False, name, f"refused with HTTP {status}", advice), []
    except (OSError, websockets.WebSocketException, ValueError) as exc:
        return Check(
            False,
            name,
            f"failed ({exc})",
            "is the server running, and is --url a ws:// or wss:// URL?",
        ), []
    ms = (time.monotonic() - started) * 1000
    if frame.get("t") == "joined":
        servers = frame.get("iceServers") or []
        extra = f"; it offers {len(servers)} ICE server entr{'y' if len(servers) == 1 else 'ies'}"
        return Check(
            True, name, f"joined {room} in {ms:.0f} ms" + (extra if servers else "")
        ), list(servers)
    message = frame.get("message", frame)
    advice = (
        "pass a valid --token (or RTCROOM_TOKEN)"
        if "token" in str(message).lower()
        else "see the server's message"
    )
    return Check(False, name, f"refused: {message}", advice), []


def _servers_from_joined(entries: list[Any]) -> tuple[list[str], list[tuple[str, str, str]]]:
    stun: list[str] = []
    turn: list[tuple[str, str, str]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        urls = entry.get("urls")
        for u in [urls] if isinstance(urls, str) else (urls or []):
            if not isinstance(u, str):
                continue
            if u.startswith("stun"):
                stun.append(u)
            elif u.startswith("turn"):
                turn.append((u, str(entry.get("username", "")), str(entry.get("credential", ""))))
    return stun, turn


async def gather_host(timeout: float) -> Check:
    import aioice

    agent = aioice.Connection(ice_controlling=True, components=1)
    try:
        await asyncio.wait_for(agent.gather_candidates(), timeout)
        hosts = sorted({c.host for c in agent.local_candidates if c.type == "host"})
    except TimeoutError:
        hosts = []
    finally:
        await agent.close()
    if hosts:
        return Check(True, "ICE host candidates", ", ".join(hosts))
    return Check(
        False,
        "ICE host candidates",
        "none",
        "no usable network interface (aioice skips loopback: use --ice-host "
        "127.0.0.1 on one machine)",
    )


async def check_stun(uri: str, timeout: float) -> Check:
    import aioice
    from aiortc.rtcicetransport import parse_stun_turn_uri

    name = f"STUN {uri}"
    try:
        server = parse_stun_turn_uri(uri)
    except ValueError as exc:
        return Check(False, name, f"not a STUN URL ({exc})", "write stun:HOST[:PORT]")
    agent = aioice.Connection(
        ice_controlling=True, components=1, stun_server=(server["host"], server["port"])
    )
    try:
        await asyncio.wait_for(agent.gather_candidates(), timeout)
        srflx = sorted({f"{c.host}:{c.port}" for c in agent.local_candidates if c.type == "srflx"})
    except (TimeoutError, OSError):
        srflx = []
    finally:
        await agent.close()
    if srflx:
        return Check(
            True,
            name,
            f"server-reflexive candidate {', '.join(srflx)} (your address as others see it)",
        )
    return Check(
        False,
        name,
        "no server-reflexive candidate (no answer)",
        "check the host and port, and that outgoing UDP to it is allowed; without "
        "STUN, peers behind different NATs cannot connect",
    )


async def check_turn(uri: str, user: str | None, password: str | None, timeout: float) -> Check:
    from aioice import stun, turn
    from aiortc.rtcicetransport import parse_stun_turn_uri

    name = f"TURN {uri}"
    try:
        server = parse_stun_turn_uri(uri)
    except ValueError as exc:
        return Check(
            False, name, f"not a TURN URL ({exc})", "write turn:HOST[:PORT][?transport=udp|tcp]"
        )
    if not user or not password:
        return Check(
            False,
            name,
            "no credentials",
            "pass --turn-user and --turn-password "
            "(or let the server hand them out in joined.iceServers)",
        )
    try:
        transport, _ = await asyncio.wait_for(
            turn.create_turn_endpoint(
                asyncio.DatagramProtocol,
                server_addr=(server["host"], server["port"]),
                username=user,
                password=password,
                ssl=server["scheme"] == "turns",
                transport=server["transport"],
            ),
            timeout,
        )
    except stun.TransactionFailed as exc:
        code = exc.response.attributes.get("ERROR-CODE", (0, ""))[0]
        result = TURN_REFUSED.get(code, f"refused ({exc})")
        advice = (
            "the username/password are wrong or expired: with a shared secret "
            "(use-auth-secret), the server and rtcroom serve --turn-secret-file must "
            "hold the same secret, and the clocks must agree"
            if code in (401, 441)
            else "see the TURN server's log"
        )
        return Check(False, name, result, advice)
    except (TimeoutError, stun.TransactionTimeout):
        return Check(
            False,
            name,
            f"no answer within {timeout:g} s",
            "check the host, port and transport; outgoing UDP (or TCP with "
            "?transport=tcp) to it may be blocked",
        )
    except OSError as exc:
        return Check(False, name, f"unreachable ({exc.strerror or exc})", "check the host and port")
    relayed = transport.get_extra_info("sockname")
    transport.close()
    return Check(True, name, f"credentials accepted; relay candidate {relayed[0]}:{relayed[1]}")


async def doctor(args: argparse.Namespace) -> int:
    require_extras("doctor", "client")
    if bool(args.turn_user) != bool(args.turn_password):
        raise CommandError("--turn-user and --turn-password go together", EXIT_USAGE)
    from .. import ice

    timeout = min(args.timeout, 15.0)
    checks: list[Check] = []

    def add(check: Check) -> None:
        checks.append(check)
        check.show()

    add(await asyncio.to_thread(check_healthz, args.url, timeout))
    joined, offered = await check_join(args.url, args.token, timeout)
    add(joined)
    stun_urls: list[str] = list(args.stun)
    turn_servers = [(u, args.turn_user, args.turn_password) for u in args.turn]
    if not stun_urls and not turn_servers and not args.no_ice_servers:
        stun_urls, turn_servers = _servers_from_joined(offered)
        if offered:
            print("  (checking the ICE servers the server offered)", flush=True)
    with ice.host_addresses(args.ice_host):
        add(await gather_host(timeout))
        for uri in stun_urls:
            add(await check_stun(uri, timeout))
        for uri, user, password in turn_servers:
            add(await check_turn(uri, user, password, timeout))
    if not stun_urls and not turn_servers:
        add(
            Check(
                None,
                "STUN/TURN",
                "none given and the server offers none",
                "calls work on one network only; pass --stun/--turn to check yours, or "
                "configure rtcroom serve --stun-url/--turn-url",
            )
        )
    failed = sum(1 for c in checks if c.ok is False)
    print(
        f"{len(checks) - failed} of {len(checks)} checks passed"
        if failed
        else f"all {len(checks)} checks passed",
        flush=True,
    )
    return EXIT_FAILED if failed else EXIT_OK
