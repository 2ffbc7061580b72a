"""STUN/TURN servers the signaling server hands to its clients, with TURN credentials.

TURN credentials follow coturn's REST scheme (``use-auth-secret`` / ``static-auth-secret``):
username ``<expiry unix seconds>:<user>``, password base64(HMAC-SHA1(secret, username)). The
TURN server checks them with the shared secret alone, so nothing is stored per user, and a
leaked credential stops working at its expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

DEFAULT_TURN_TTL: Final = 24 * 3600

_STUN_SCHEMES: Final = ("stun:", "stuns:")
_TURN_SCHEMES: Final = ("turn:", "turns:")


def turn_credentials(
    secret: str | bytes, user: str, ttl: float = DEFAULT_TURN_TTL, now: float | None = None
) -> tuple[str, str]:
    """``(username, password)`` valid for ``ttl`` seconds from ``now``."""
    expiry = int((time.time() if now is None else now) + ttl)
    username = f"{expiry}:{user}"
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def _urls(urls: Sequence[str] | str, schemes: tuple[str, ...], option: str) -> tuple[str, ...]:
    if isinstance(urls, str):
        raise TypeError(
            f"{option} must be a list of URLs, got the string {urls!r}; write [{urls!r}]"
        )
    out = []
    for url in urls:
        if not isinstance(url, str) or not url.startswith(schemes):
            raise ValueError(
                f"{option}: {url!r} is not a {' or '.join(s[:-1] for s in schemes)} URL "
                f"(for example {schemes[0]}host.example.com:3478)"
            )
        out.append(url)
    return tuple(out)


@dataclass(slots=True, frozen=True, init=False)
class IceServers:
    """What the server tells clients to use (``iceServers`` in ``joined`` and over HTTP).

    ``stun``: STUN URLs (``stun:host:3478``). ``turn``: TURN URLs (``turn:host:3478``,
    ``turn:host:3478?transport=tcp``, ``turns:host:5349``), which need ``turn_secret``, the
    coturn ``static-auth-secret``. ``turn_ttl``: seconds each credential lives.
    """

    stun: tuple[str, ...]
    turn: tuple[str, ...]
    turn_secret: bytes | None
    turn_ttl: float

    def __init__(
        self,
        stun: Sequence[str] = (),
        turn: Sequence[str] = (),
        *,
        turn_secret: str | bytes | None = None,
        turn_ttl: float = DEFAULT_TURN_TTL,
    ) -> None:
        object.__setattr__(self, "stun", _urls(stun, _STUN_SCHEMES, "stun"))
        object.__setattr__(self, "turn", _urls(turn, _TURN_SCHEMES, "turn"))
        if self.turn and not turn_secret:
            raise ValueError(
                "TURN URLs need the TURN server's shared secret (coturn's static-auth-secret): "
                "pass turn_secret=..., or set RTCROOM_TURN_SECRET for rtcroom serve"
            )
        if isinstance(turn_ttl, bool) or not isinstance(turn_ttl, int | float) or turn_ttl <= 0:
            raise ValueError(f"turn_ttl must be a positive number of seconds, got {turn_ttl!r}")
        secret = turn_secret.encode() if isinstance(turn_secret, str) else turn_secret
        object.__setattr__(self, "turn_secret", secret or None)
        object.__setattr__(self, "turn_ttl", float(turn_ttl))

    def __repr__(self) -> str:  # never the secret
        return (
            f"IceServers(stun={list(self.stun)}, turn={list(self.turn)}, turn_ttl={self.turn_ttl})"
        )

    def __bool__(self) -> bool:
        return bool(self.stun or self.turn)

    def for_user(self, user: str, now: float | None = None) -> list[dict[str, Any]]:
        """RTCIceServer dicts for one client; TURN credentials carry ``user`` (its identity)."""
        servers: list[dict[str, Any]] = []
        if self.stun:
            servers.append({"urls": list(self.stun)})
        if self.turn and self.turn_secret is not None:
            username, password = turn_credentials(self.turn_secret, user, self.turn_ttl, now)
            servers.append({"urls": list(self.turn), "username": username, "credential": password})
        return servers

    def expires_at(self, now: float | None = None) -> int | None:
        """When credentials issued ``now`` expire (``None`` without TURN)."""
        if not self.turn:
            return None
        return int((time.time() if now is None else now) + self.turn_ttl)

    def describe(self) -> str:
        """One line for the start-up banner: what clients will be told."""
        if not self:
            return "no ICE servers given to clients (they use their own defaults)"
        parts = list(self.stun)
        if self.turn:
            hours = self.turn_ttl / 3600
            ttl = f"{hours:g} h" if hours >= 1 else f"{self.turn_ttl:g} s"
            parts += [f"{url} (credentials for {ttl})" for url in self.turn]
        return "ICE servers for clients: " + ", ".join(parts)
