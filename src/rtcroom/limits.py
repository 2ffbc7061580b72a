"""Limits that keep one abusive client from hurting the others.

Defaults are generous enough that no honest client meets them (a browser sends one ``join`` and
a few dozen ``sdp``/``ice`` frames per peer); tighten them for a public deployment. Any number
set to ``0`` turns that limit off. Addresses are the socket's peer address as the server sees it:
behind a reverse proxy, make the ASGI server trust the proxy's forwarded headers or every client
shares the proxy's address.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from .auth import wildcard_match

ORIGIN_REFUSED: Final = "Origin not allowed"
TOO_MANY_SOCKETS: Final = "Too many open sockets from your address"
FRAME_RATE_CLOSE_CODE: Final = 1008
JOIN_TIMEOUT_CLOSE_CODE: Final = 4408


def frame_rate_reason(rate: float, burst: int) -> str:
    return f"Too many frames (limit {rate:g} per second, bursts of {burst})"


def join_timeout_reason(seconds: float) -> str:
    return f"No join within {seconds:g} s"


def too_many_joins(rate: float) -> str:
    return f"Too many joins from your address (limit {rate:g} per second); try again shortly"


def too_many_rooms(limit: int) -> str:
    return f"Too many rooms on this server (max {limit}); try again later"


def _non_negative(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"Limits.{name} must be a number >= 0 (0 = no limit), got {value!r}")


@dataclass(slots=True, frozen=True)
class Limits:
    """Abuse limits for one hub. ``0`` turns a limit off; ``allowed_origins=None`` allows any.

    ``allowed_origins``: origins whose pages may open a socket (``https://app.example.com``,
    ``https://*.example.com``); a page on the server's own host is always allowed, and so is a
    socket with no ``Origin`` header (not a browser). Refused: HTTP 403 before the upgrade.
    ``max_sockets_per_address``: open sockets per client address (HTTP 429 before the upgrade).
    ``join_rate``/``join_burst``: joins per second per address, token bucket (error frame).
    ``frame_rate``/``frame_burst``: frames per second per socket, token bucket (close 1008).
    ``max_rooms``: rooms with members on this process (a join that would open one more gets an
    error frame). ``join_timeout``: seconds a socket may stay open without joining (close 4408).
    """

    allowed_origins: tuple[str, ...] | None = None
    max_sockets_per_address: int = 1000
    join_rate: float = 100.0
    join_burst: int = 1000
    frame_rate: float = 200.0
    frame_burst: int = 5000
    max_rooms: int = 100_000
    join_timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.allowed_origins is not None:
            origins = self.allowed_origins
            if isinstance(origins, str) or not all(isinstance(o, str) for o in origins):
                raise TypeError(
                    "Limits.allowed_origins must be a list of origins such as "
                    f"['https://app.example.com'], got {origins!r}"
                )
            object.__setattr__(self, "allowed_origins", tuple(o.rstrip("/") for o in origins))
        for name in (
            "max_sockets_per_address",
            "join_rate",
            "join_burst",
            "frame_rate",
            "frame_burst",
            "max_rooms",
            "join_timeout",
        ):
            _non_negative(name, getattr(self, name))

    @classmethod
    def off(cls) -> Limits:
        """No limits at all (today's behaviour of the reference server)."""
        return cls(None, 0, 0, 0, 0, 0, 0, 0)

    def origin_allowed(self, origin: str | None, host: str | None) -> bool:
        return origin_allowed(origin, host, self.allowed_origins)


def origin_allowed(origin: str | None, host: str | None, allowed: Sequence[str] | None) -> bool:
    """Cross-site WebSocket hijacking guard: is a page from ``origin`` allowed to connect?"""
    if allowed is None or origin is None:
        return True
    origin = origin.lower()
    if host and _same_host(origin, host.lower()):
        return True
    return any(wildcard_match(pattern.lower(), origin) for pattern in allowed)


_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def _same_host(origin: str, host: str) -> bool:
    parts = urlsplit(origin)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return False  # "null" (sandboxed frames, file://) is never the server's own origin
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
        there = urlsplit(f"{parts.scheme}://{host}")
        host_port = there.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        return False
    return parts.hostname == there.hostname and port == host_port


@dataclass(slots=True)
class TokenBucket:
    """``rate`` tokens per second up to ``burst``; ``rate == 0`` never refuses."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    stamp: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        if not self.rate:
            return True
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def idle(self) -> bool:
        """Full again: forgetting it loses nothing."""
        if not self.rate:
            return True
        return self.tokens + (time.monotonic() - self.stamp) * self.rate >= self.burst


@dataclass(slots=True)
class _Address:
    sockets: int
    joins: TokenBucket


class AddressBook:
    """Per-client-address counters: open sockets and a join bucket, forgotten once idle."""

    _PRUNE_AT: Final = 10_000

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._entries: dict[str, _Address] = {}

    def _entry(self, address: str) -> _Address:
        entry = self._entries.get(address)
        if entry is None:
            if len(self._entries) >= self._PRUNE_AT:
                self._prune()
            limits = self.limits
            entry = self._entries[address] = _Address(
                0, TokenBucket(limits.join_rate, limits.join_burst)
            )
        return entry

    def open_socket(self, address: str) -> bool:
        """Count a new socket; ``False`` (and not counted) when the address has too many."""
        limit = self.limits.max_sockets_per_address
        entry = self._entry(address)
        if limit and entry.sockets >= limit:
            return False
        entry.sockets += 1
        return True

    def close_socket(self, address: str) -> None:
        entry = self._entries.get(address)
        if entry is None:
            return
        entry.sockets = max(0, entry.sockets - 1)
        if entry.sockets == 0 and entry.joins.idle():
            del self._entries[address]

    def allow_join(self, address: str) -> bool:
        return self._entry(address).joins.take()

    def sockets(self, address: str) -> int:
        entry = self._entries.get(address)
        return entry.sockets if entry else 0

    def _prune(self) -> None:
        for address in [a for a, e in self._entries.items() if e.sockets == 0 and e.joins.idle()]:
            del self._entries[address]
