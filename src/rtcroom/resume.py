"""Resume tokens: a peer whose socket dropped comes back under the same peer id.

A token is ``v1.<base64url(JSON payload)>.<base64url(HMAC-SHA256)>`` with the payload
``{"p": peer id, "r": room id, "m": max_peers, "s": identity sub or null, "iat", "exp"}``
(Unix seconds). It is signed, not encrypted: the client may read it, never forge it, and any
process holding the same secret (a restarted one, or another one of a cluster) can verify it
without having seen the peer. No framework here; the hub decides what a valid token admits.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from . import protocol
from .protocol import ProtocolError

TOKEN_VERSION: Final = "v1"
DEFAULT_GRACE: Final = 30.0
DEFAULT_BUFFER: Final = 256
DEFAULT_TOKEN_TTL: Final = 86400.0
_DERIVE_LABEL: Final = b"rtcroom resume-token key v1"
MAX_TOKEN_LENGTH: Final = 4096
"""Longer ``resumeToken`` strings are refused unread (a real one is a few hundred bytes)."""


class ResumeRefused(ProtocolError):
    """A resume the server refuses: ``message`` is the wire text (it starts with
    ``Resume refused: ``); ``reason`` a short label for metrics (``resume_expired``...)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def derive_secret(master: str | bytes) -> bytes:
    """The resume key made from a deployment secret (the join-token secret): an HMAC with a
    fixed label, so one secret never signs two kinds of token with the same key."""
    key = master.encode() if isinstance(master, str) else master
    return hmac.new(key, _DERIVE_LABEL, hashlib.sha256).digest()


@dataclass(slots=True, frozen=True)
class ResumeToken:
    """What a verified token says."""

    peer_id: str
    room_id: str
    max_peers: int
    sub: str | None
    iat: int
    exp: int


@dataclass(slots=True, frozen=True)
class Resume:
    """How peers that opted in (``join`` with ``resume: true``) survive a dropped socket.

    ``secret`` signs the tokens; without one a random per-process key is made, so tokens work
    until this process exits (``rtcroom serve`` keeps one in a state file instead). ``grace``:
    seconds an away peer stays a member before it leaves with reason ``"timeout"`` (0 turns
    resume off: no tokens are issued). ``buffer``: frames kept for an away peer (past it the
    peer is told to renegotiate). ``token_ttl``: seconds a token stays valid.
    """

    secret: str | bytes | None = field(default=None, repr=False)
    grace: float = DEFAULT_GRACE
    buffer: int = DEFAULT_BUFFER
    token_ttl: float = DEFAULT_TOKEN_TTL
    _key: bytes = field(init=False, repr=False, compare=False, default=b"")

    def __post_init__(self) -> None:
        secret = self.secret
        if secret is None:
            key = os.urandom(32)
        elif isinstance(secret, str | bytes):
            key = secret.encode() if isinstance(secret, str) else bytes(secret)
            if len(key) < 16:
                raise ValueError(
                    "Resume.secret must be at least 16 bytes (use rtcroom.resume.derive_secret "
                    "on your deployment secret, or leave it None for a per-process key)"
                )
        else:
            raise TypeError(
                f"Resume.secret must be str, bytes or None, got {type(secret).__name__}"
            )
        _check_seconds("grace", self.grace, allow_zero=True)
        _check_seconds("token_ttl", self.token_ttl, allow_zero=False)
        if isinstance(self.buffer, bool) or not isinstance(self.buffer, int) or self.buffer < 0:
            raise ValueError(
                f"Resume.buffer must be a whole number of frames >= 0, got {self.buffer!r}"
            )
        object.__setattr__(self, "_key", key)

    @classmethod
    def off(cls) -> Resume:
        """Resume turned off: no peer gets a token, a dropped socket leaves at once."""
        return cls(grace=0.0)

    @property
    def enabled(self) -> bool:
        return self.grace > 0

    def issue(
        self,
        peer_id: str,
        room_id: str,
        max_peers: int,
        sub: str | None,
        *,
        now: float | None = None,
    ) -> str:
        """A fresh token for this peer (every ``joined`` carries one)."""
        iat = int(time.time() if now is None else now)
        payload = {
            "p": peer_id,
            "r": room_id,
            "m": max_peers,
            "s": sub,
            "iat": iat,
            "exp": iat + math.ceil(self.token_ttl),
        }
        body = _b64(orjson.dumps(payload))
        signed = f"{TOKEN_VERSION}.{body}"
        return f"{signed}.{_b64(self._sign(signed))}"

    def verify(self, token: str, room_id: str, *, now: float | None = None) -> ResumeToken:
        """The token's claims if it is genuine, for ``room_id`` and unexpired; else raises
        :class:`ResumeRefused` with the wire text."""
        claims = self._read(token)
        if claims.room_id != room_id:
            raise ResumeRefused(protocol.RESUME_OTHER_ROOM, "resume_other_room")
        if claims.exp <= (time.time() if now is None else now):
            raise ResumeRefused(protocol.RESUME_EXPIRED, "resume_expired")
        return claims

    def _read(self, token: str) -> ResumeToken:
        invalid = ResumeRefused(protocol.RESUME_INVALID, "resume_invalid")
        if len(token) > MAX_TOKEN_LENGTH:
            raise invalid
        version, _, rest = token.partition(".")
        body, _, signature = rest.partition(".")
        if version != TOKEN_VERSION or not body or not signature:
            raise invalid
        try:
            given = _unb64(signature)
            payload: Any = orjson.loads(_unb64(body))
        except (ValueError, binascii.Error):
            raise invalid from None
        if not hmac.compare_digest(given, self._sign(f"{version}.{body}")):
            raise invalid
        claims = _claims(payload)
        if claims is None:  # signed by us but not a shape we write: a key shared by mistake
            raise invalid
        return claims

    def _sign(self, text: str) -> bytes:
        return hmac.new(self._key, text.encode(), hashlib.sha256).digest()


def _claims(payload: Any) -> ResumeToken | None:
    if not isinstance(payload, dict):
        return None
    p, r, m, s = payload.get("p"), payload.get("r"), payload.get("m"), payload.get("s")
    iat, exp = payload.get("iat"), payload.get("exp")
    if not (isinstance(p, str) and p and isinstance(r, str) and r):
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (m, iat, exp)):
        return None
    if s is not None and not isinstance(s, str):
        return None
    assert isinstance(m, int) and isinstance(iat, int) and isinstance(exp, int)
    if m < 1:
        return None
    return ResumeToken(p, r, m, s, iat, exp)


def _check_seconds(name: str, value: object, *, allow_zero: bool) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):  # type: ignore[operator]
        least = ">= 0 (0 turns resume off)" if allow_zero else "> 0"
        raise ValueError(f"Resume.{name} must be a finite number of seconds {least}, got {value!r}")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
