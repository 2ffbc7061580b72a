"""Server closes that end a call, and keeping join tokens out of every message.

A token-protected server refuses a socket right after the upgrade with a close code that says
why (see docs/security.md). Reconnecting with the same token would be refused again, so those
codes end the call with a typed error instead of starting the reconnect loop. A token is a
credential: it may ride in the signal URL's query, so every message that names the URL goes
through :func:`redact` first.
"""

from __future__ import annotations

import re
from typing import Final

from ..protocol import RESUMED_CLOSE_CODE
from .errors import AuthError, SignalingClosedError

_TOKEN_IN_QUERY = re.compile(r"([?&;]token=)[^&#\s'\"]*", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)

AUTH_HINTS: Final[dict[int, str]] = {
    4401: "this server requires a join token: pass token=... to WebRTCCall or ?token= in "
    "signal_url",
    4402: "the token is not a join token (a JWT with the rtcroom claims); check what your app "
    "hands out",
    4403: "the token was signed with another secret or key than the server's",
    4404: "token expired: get a new one from your app",
    4405: "the token is not valid yet (its nbf is in the future; check the clocks)",
    4406: "the server's auth refused this client",
    1011: "the server's auth check failed (a server fault; see the server's log)",
}
"""Close codes of a refused socket (rtcroom.auth.AuthCloseCode), with what the user can do."""

OTHER_FINAL: Final[dict[int, str]] = {
    4000: "the server's app kicked this client out of the room",
    4409: "another client with the same identity joined the room and replaced this one",
    1008: "this client sent more frames than the server allows (its frame-rate limit)",
    RESUMED_CLOSE_CODE: "the call was resumed on another connection (a newer socket "
    "presented this call's resume token)",
}
"""Closes after which a blind reconnect would only repeat what happened."""

NEVER_JOINED: Final = 4408
"""The server closed a socket that sent no ``join`` in time: one reconnect attempt, logged."""


def redact(text: str) -> str:
    """``text`` with any ``token=`` value and bearer token replaced by ``REDACTED``."""
    return _BEARER.sub(r"\1REDACTED", _TOKEN_IN_QUERY.sub(r"\1REDACTED", text))


def final_close_error(code: int | None, reason: str, url: str) -> SignalingClosedError | None:
    """The error that ends the call for this close, or None if a reconnect may help."""
    if code is None:
        return None
    reason = redact(reason) or "(no reason given)"
    where = redact(url)
    if code in AUTH_HINTS:
        return AuthError(
            f"the signaling server at {where} refused this client: {reason} (close code {code}); "
            f"{AUTH_HINTS[code]}",
            code,
            reason,
        )
    if code in OTHER_FINAL:
        return SignalingClosedError(
            f"the signaling server at {where} closed the socket: {reason} (close code {code}); "
            f"{OTHER_FINAL[code]}, so the call ended instead of reconnecting",
            code,
            reason,
        )
    return None
