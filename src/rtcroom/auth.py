"""Who is on the other end of a signaling socket, decided before any room logic runs.

``webrtc(auth=...)`` takes a callable ``auth(request: RequestInfo) -> Identity | None`` (plain or
``async``). Join tokens (:class:`rtcroom.tokens.JoinTokens`) are one such callable; an app with
its own sessions writes another in a few lines (read a cookie, look the user up). A refusal
closes the socket right after the handshake with a code from :class:`AuthCloseCode`, so a browser
(which cannot read the HTTP status of a refused handshake) can tell "get a new token" from
"network trouble".
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache
from http.cookies import CookieError, SimpleCookie
from typing import Any, Final
from urllib.parse import parse_qsl

log = logging.getLogger("rtcroom.auth")


class AuthCloseCode(IntEnum):
    """Close codes for sockets refused by ``auth`` (sent right after the handshake)."""

    TOKEN_MISSING = 4401
    TOKEN_MALFORMED = 4402
    TOKEN_BAD_SIGNATURE = 4403
    TOKEN_EXPIRED = 4404
    TOKEN_NOT_YET_VALID = 4405
    NOT_AUTHORIZED = 4406
    AUTH_FAILED = 1011  # the auth callable raised: a server fault, logged with its traceback


# One reason per code: short (a close reason is at most 123 bytes), and nothing about the secret.
AUTH_MESSAGES: Final[dict[AuthCloseCode, str]] = {
    AuthCloseCode.TOKEN_MISSING: "Join token missing (pass ?token=... or Authorization: Bearer)",
    AuthCloseCode.TOKEN_MALFORMED: "Join token malformed (not a JWT with the rtcroom claims)",
    AuthCloseCode.TOKEN_BAD_SIGNATURE: "Join token signature invalid (signed with another key)",
    AuthCloseCode.TOKEN_EXPIRED: "Join token expired (get a new one)",
    AuthCloseCode.TOKEN_NOT_YET_VALID: "Join token not yet valid (nbf is in the future)",
    AuthCloseCode.NOT_AUTHORIZED: "Not authorized",
    AuthCloseCode.AUTH_FAILED: "Authorization check failed on the server",
}


class AuthRefused(Exception):
    """Raised by an ``auth`` callable to refuse a socket with a specific code and reason.

    Returning ``None`` is the plain way to refuse (code 4406, ``Not authorized``).
    """

    def __init__(self, code: AuthCloseCode, message: str | None = None) -> None:
        self.code = code
        self.message = message or AUTH_MESSAGES[code]
        super().__init__(self.message)


@dataclass(slots=True, frozen=True)
class Identity:
    """An authenticated peer: ``sub`` is its stable id (a token's ``sub`` claim).

    ``room`` is the room it may join: an exact id, a pattern with ``*`` wildcards, or ``*``
    alone for every room. ``max_peers`` overrides the server's room size for its joins.
    ``name`` and ``metadata`` are for the host app (callbacks, introspection).
    """

    sub: str
    room: str = "*"
    name: str | None = None
    metadata: Any = None
    max_peers: int | None = None
    expires_at: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.sub, str) or not self.sub:
            raise ValueError(f"Identity.sub must be a non-empty string, got {self.sub!r}")
        if not isinstance(self.room, str) or not self.room:
            raise ValueError(
                f"Identity.room must be a room id or pattern ('*' = every room), got {self.room!r}"
            )
        if self.max_peers is not None and (
            not isinstance(self.max_peers, int)
            or isinstance(self.max_peers, bool)
            or self.max_peers < 1
        ):
            raise ValueError(
                f"Identity.max_peers must be a positive integer, got {self.max_peers!r}"
            )

    def may_join(self, room_id: str) -> bool:
        return wildcard_match(self.room, room_id)


def wildcard_match(pattern: str, text: str) -> bool:
    """``*`` matches any run of characters (``/`` included); everything else is literal."""
    if pattern == "*":
        return True
    if "*" not in pattern:
        return pattern == text
    return _compiled(pattern).fullmatch(text) is not None


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


@dataclass(slots=True, frozen=True)
class RequestInfo:
    """The WebSocket handshake (or HTTP request) as ``auth`` sees it, framework-free.

    ``headers`` has lower-case names; ``client`` is ``(host, port)`` as the server saw it (the
    proxy's address behind a reverse proxy, unless the server is told to trust its headers).
    """

    path: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    cookies: Mapping[str, str]
    client: tuple[str, int] | None

    @classmethod
    def build(
        cls,
        path: str,
        headers: Mapping[str, str],
        query_string: str,
        client: tuple[str, int] | None,
    ) -> RequestInfo:
        lower = {k.lower(): v for k, v in headers.items()}
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        cookies: dict[str, str] = {}
        if "cookie" in lower:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(lower["cookie"])
            except CookieError:
                pass
            cookies = {name: morsel.value for name, morsel in jar.items()}
        return cls(path, lower, query, cookies, client)

    @property
    def address(self) -> str:
        return self.client[0] if self.client else "unknown"

    @property
    def origin(self) -> str | None:
        return self.headers.get("origin")

    def bearer_token(self) -> str | None:
        """The token from ``?token=`` (browsers cannot set headers on a WebSocket), else from
        ``Authorization: Bearer ...``; ``None`` when neither is there."""
        token = self.query.get("token")
        if token:
            return token
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None


Auth = Callable[[RequestInfo], "Identity | Awaitable[Identity | None] | None"]


@dataclass(slots=True, frozen=True)
class Refusal:
    """A socket the server will not serve: close code and reason (HTTP status for HTTP)."""

    code: int
    message: str
    http_status: int = 403
    headers: dict[str, str] = field(default_factory=dict)


async def authenticate(auth: Auth, request: RequestInfo) -> Identity | Refusal:
    """Run ``auth``; never raises. A crash is logged (without the request's token)."""
    try:
        result = auth(request)
        if inspect.isawaitable(result):
            result = await result
    except AuthRefused as exc:
        log.debug("refused a socket from %s: %s", request.address, exc.message)
        return Refusal(int(exc.code), _close_reason(exc.message), _http_status(exc.code))
    except Exception:
        log.exception("the auth callable raised for a socket from %s; refusing it", request.address)
        code = AuthCloseCode.AUTH_FAILED
        return Refusal(int(code), AUTH_MESSAGES[code], 500)
    if result is None:
        code = AuthCloseCode.NOT_AUTHORIZED
        log.debug("refused a socket from %s: not authorized", request.address)
        return Refusal(int(code), AUTH_MESSAGES[code], 403)
    if not isinstance(result, Identity):
        log.error(
            "the auth callable returned %s; it must return an rtcroom.Identity or None "
            "(refusing the socket)",
            type(result).__name__,
        )
        code = AuthCloseCode.AUTH_FAILED
        return Refusal(int(code), AUTH_MESSAGES[code], 500)
    return result


def _close_reason(message: str) -> str:
    """A WebSocket close reason holds at most 123 bytes of UTF-8."""
    raw = message.encode()
    return message if len(raw) <= 123 else raw[:120].decode(errors="ignore") + "..."


def _http_status(code: AuthCloseCode) -> int:
    return 401 if code is AuthCloseCode.TOKEN_MISSING else 403


def check_auth(auth: object) -> Auth | None:
    """Validate ``webrtc(auth=...)`` early, with a message that says what to pass."""
    if auth is None or callable(auth):
        return auth
    raise TypeError(
        "auth must be a callable taking an rtcroom.RequestInfo and returning an "
        "rtcroom.Identity or None (sync or async), or rtcroom.tokens.JoinTokens(...); "
        f"got {type(auth).__name__}"
    )


__all__ = [
    "AUTH_MESSAGES",
    "Auth",
    "AuthCloseCode",
    "AuthRefused",
    "Identity",
    "Refusal",
    "RequestInfo",
    "authenticate",
    "check_auth",
]


# --- tokens stay out of access logs --------------------------------------------------------------

_TOKEN_IN_URL: Final = re.compile(r"([?&]token=)[^&\s\"']+")
ACCESS_LOGGERS: Final = ("uvicorn.access", "uvicorn.error", "aiohttp.access")
"""Where ASGI/aiohttp servers log request lines, query string included."""


class RedactTokens(logging.Filter):
    """Replaces ``token=<value>`` in a log line with ``token=[redacted]``: a join token in a
    URL is a credential until it expires, and access logs are read by many."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message:
            record.msg, record.args = _TOKEN_IN_URL.sub(r"\1[redacted]", message), None
        return True


def redact_tokens_in_access_logs() -> None:
    """Install :class:`RedactTokens` on the servers' access loggers (once)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
