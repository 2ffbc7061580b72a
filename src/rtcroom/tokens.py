"""Join tokens: standard JWTs, so any JWT library in any language can mint them.

HS256 with a shared secret (at least 32 bytes, as RFC 7518 asks), or ES256 / EdDSA verified with
a public key so that another service holds the private key. Claims:

``sub`` (required)   the identity; the TURN username's user part
``room`` (required)  an exact room id, a pattern with ``*`` wildcards, or ``*`` for every room
``exp`` (required)   expiry, unix seconds
``nbf``              not valid before, unix seconds
``max_peers``        room size for this peer's joins (overrides the server's)
``name``, ``metadata``  passed through to the host app

Mint one with :func:`create` or ``rtcroom token create``; check them with
``webrtc(auth=JoinTokens(secret))``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

import jwt

from .auth import AuthCloseCode, AuthRefused, Identity, RequestInfo

DEFAULT_TTL: Final = 3600
MIN_SECRET_BYTES: Final = 32
_ASYMMETRIC: Final = ("ES256", "EdDSA")
_SIGN_ALGORITHMS: Final = ("HS256", *_ASYMMETRIC)


class TokenConfigError(ValueError):
    """A secret or key that cannot be used (too short, not a PEM key, wrong type)."""


def _secret_bytes(secret: str | bytes) -> bytes:
    raw = secret.encode() if isinstance(secret, str) else secret
    if not isinstance(raw, bytes):
        raise TypeError(f"the token secret must be str or bytes, got {type(secret).__name__}")
    if len(raw) < MIN_SECRET_BYTES:
        raise TokenConfigError(
            f"the token secret is {len(raw)} bytes; HS256 needs at least {MIN_SECRET_BYTES} "
            "(make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return raw


def _seconds(ttl: float | timedelta) -> float:
    value = ttl.total_seconds() if isinstance(ttl, timedelta) else ttl
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"ttl must be a positive number of seconds or a timedelta, got {ttl!r}")
    return float(value)


def create(
    key: str | bytes,
    *,
    room: str,
    identity: str,
    ttl: float | timedelta = DEFAULT_TTL,
    name: str | None = None,
    metadata: Any = None,
    max_peers: int | None = None,
    not_before: float | None = None,
    algorithm: str | None = None,
    now: float | None = None,
) -> str:
    """A signed join token for ``identity`` to join ``room`` (``*`` wildcards allowed).

    ``key`` is the shared secret for HS256, or a PEM private key (EC P-256 or Ed25519) for
    ES256 / EdDSA; ``algorithm`` defaults to what the key is for.
    """
    Identity(identity, room, name, metadata, max_peers)  # the same checks the server applies
    pem = _pem(key).lstrip().startswith(b"-----BEGIN")
    if algorithm is None:
        algorithm = _algorithm_of(_private_key(key)) if pem else "HS256"
    if algorithm not in _SIGN_ALGORITHMS:
        raise ValueError(
            f"algorithm must be one of {', '.join(_SIGN_ALGORITHMS)}, got {algorithm!r}"
        )
    issued = time.time() if now is None else now
    claims: dict[str, Any] = {
        "sub": identity,
        "room": room,
        "iat": int(issued),
        "exp": int(issued + _seconds(ttl)),
    }
    if not_before is not None:
        claims["nbf"] = int(not_before)
    if max_peers is not None:
        claims["max_peers"] = max_peers
    if name is not None:
        claims["name"] = name
    if metadata is not None:
        claims["metadata"] = metadata
    signing_key: Any = _secret_bytes(key) if algorithm == "HS256" else _private_key(key)
    return jwt.encode(claims, signing_key, algorithm=algorithm)


class JoinTokens:
    """An ``auth`` callable that admits sockets presenting a valid join token.

    ``secret`` verifies HS256 tokens; ``public_key`` (PEM, EC P-256 or Ed25519) verifies ES256
    or EdDSA tokens minted elsewhere; give one or both. ``leeway`` (seconds) forgives clock skew
    on ``exp``/``nbf``. Each failure raises :class:`~rtcroom.auth.AuthRefused` with its own code.
    """

    def __init__(
        self,
        secret: str | bytes | None = None,
        *,
        public_key: str | bytes | None = None,
        leeway: float = 5.0,
    ) -> None:
        if secret is None and public_key is None:
            raise TokenConfigError(
                "JoinTokens needs a secret (HS256) or a public_key (ES256/EdDSA)"
            )
        self._keys: dict[str, Any] = {}
        if secret is not None:
            self._keys["HS256"] = _secret_bytes(secret)
        if public_key is not None:
            loaded, algorithm = _public_key(public_key)
            self._keys[algorithm] = loaded
        self.leeway = leeway

    @property
    def algorithms(self) -> list[str]:
        return list(self._keys)

    def __repr__(self) -> str:  # never the secret
        return f"JoinTokens(algorithms={self.algorithms})"

    def __call__(self, request: RequestInfo) -> Identity:
        token = request.bearer_token()
        if token is None:
            raise AuthRefused(AuthCloseCode.TOKEN_MISSING)
        return self.verify(token)

    def verify(self, token: str) -> Identity:
        """The token's identity, or :class:`AuthRefused` saying what is wrong with it."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise AuthRefused(AuthCloseCode.TOKEN_MALFORMED) from None
        key = self._keys.get(header.get("alg", ""))
        if key is None:  # "none", or an algorithm this server holds no key for
            raise AuthRefused(AuthCloseCode.TOKEN_BAD_SIGNATURE)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[header["alg"]],
                leeway=self.leeway,
                options={"require": ["exp", "sub", "room"], "verify_aud": False},
            )
        except jwt.InvalidSignatureError:
            raise AuthRefused(AuthCloseCode.TOKEN_BAD_SIGNATURE) from None
        except jwt.ExpiredSignatureError:
            raise AuthRefused(AuthCloseCode.TOKEN_EXPIRED) from None
        except jwt.ImmatureSignatureError:
            raise AuthRefused(AuthCloseCode.TOKEN_NOT_YET_VALID) from None
        except jwt.PyJWTError:  # missing claims, bad JSON, wrong types of exp/nbf/sub, ...
            raise AuthRefused(AuthCloseCode.TOKEN_MALFORMED) from None
        return _identity(claims)


def _identity(claims: Mapping[str, Any]) -> Identity:
    name = claims.get("name")
    max_peers = claims.get("max_peers")
    try:
        if name is not None and not isinstance(name, str):
            raise ValueError("name")
        return Identity(
            sub=claims["sub"],
            room=claims["room"],
            name=name,
            metadata=claims.get("metadata"),
            max_peers=max_peers,
            expires_at=int(claims["exp"]),
        )
    except (ValueError, TypeError, KeyError):
        raise AuthRefused(AuthCloseCode.TOKEN_MALFORMED) from None


def _pem(key: str | bytes) -> bytes:
    return key.encode() if isinstance(key, str) else key


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import serialization
    except ImportError:  # pragma: no cover - depends on the install
        raise TokenConfigError(
            "ES256/EdDSA tokens need the cryptography package: pip install 'rtcroom[auth]'"
        ) from None
    return serialization


def _public_key(key: str | bytes) -> tuple[Any, str]:
    serialization = _crypto()
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    try:
        loaded = serialization.load_pem_public_key(_pem(key))
    except ValueError:
        raise TokenConfigError(
            "the public key is not a PEM public key ('-----BEGIN PUBLIC KEY-----' ...)"
        ) from None
    if isinstance(loaded, ec.EllipticCurvePublicKey) and loaded.curve.name == "secp256r1":
        return loaded, "ES256"
    if isinstance(loaded, ed25519.Ed25519PublicKey):
        return loaded, "EdDSA"
    raise TokenConfigError("the public key must be EC P-256 (ES256) or Ed25519 (EdDSA)")


def _algorithm_of(private_key: Any) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if (
        isinstance(private_key, ec.EllipticCurvePrivateKey)
        and private_key.curve.name == "secp256r1"
    ):
        return "ES256"
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    raise TokenConfigError("the signing key must be EC P-256 (ES256) or Ed25519 (EdDSA)")


def _private_key(key: str | bytes) -> Any:
    serialization = _crypto()
    try:
        return serialization.load_pem_private_key(_pem(key), password=None)
    except (ValueError, TypeError):
        raise TokenConfigError(
            "the signing key is not an unencrypted PEM private key "
            "('-----BEGIN PRIVATE KEY-----' ...)"
        ) from None


_TTL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> float:
    """``"90"``, ``"90s"``, ``"15m"``, ``"1h"``, ``"7d"`` -> seconds."""
    match = _TTL.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a duration; write e.g. 90s, 15m, 1h or 7d")
    return float(match.group(1)) * _UNIT[match.group(2)]
