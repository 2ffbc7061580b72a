"""Everything a socket passes before the hub sees it: origin, per-address sockets, auth.

Framework-free, so the ASGI and aiohttp endpoints refuse the same sockets with the same codes:

- wrong ``Origin``: HTTP 403 before the upgrade;
- too many open sockets from one address: HTTP 429 before the upgrade;
- ``auth`` says no: the upgrade completes and the socket is closed at once with a 44xx code and
  a reason (see :class:`rtcroom.auth.AuthCloseCode`), which a browser can read, unlike the status
  of a refused handshake.

Also answers ``GET <signal path>/ice-servers`` for apps that fetch ICE servers before connecting.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .auth import (
    Auth,
    Identity,
    Refusal,
    RequestInfo,
    authenticate,
    check_auth,
    redact_tokens_in_access_logs,
)
from .hub import Connection, Session, SignalingHub
from .limits import ORIGIN_REFUSED, TOO_MANY_SOCKETS

log = logging.getLogger("rtcroom.gate")

ICE_SERVERS_SUFFIX = "/ice-servers"
"""The ICE servers endpoint lives at the signaling path plus this."""

ANONYMOUS_TURN_USER = "anonymous"


class Gate:
    """Admission for one endpoint. The address counts live on the hub, so endpoints sharing a
    hub share them."""

    def __init__(self, hub: SignalingHub, auth: Auth | None = None) -> None:
        self.hub = hub
        self.auth = check_auth(auth)
        if self.auth is not None:
            redact_tokens_in_access_logs()

    def check_handshake(self, request: RequestInfo) -> Refusal | None:
        """Origin and open-socket checks. When it returns ``None`` the socket is counted
        against its address until the session made by :meth:`open_session` closes."""
        limits = self.hub.limits
        if not limits.origin_allowed(request.origin, request.headers.get("host")):
            log.warning(
                "refused a socket from %s: Origin %r is not allowed",
                request.address,
                request.origin,
            )
            self.hub.telemetry.socket_refused(403, request.address)
            return Refusal(403, ORIGIN_REFUSED, 403)
        if not self.hub.addresses.open_socket(request.address):
            log.warning(
                "refused a socket from %s: it has %d open (the maximum)",
                request.address,
                limits.max_sockets_per_address,
            )
            self.hub.telemetry.socket_refused(429, request.address)
            return Refusal(429, TOO_MANY_SOCKETS, 429, {"retry-after": "10"})
        return None

    async def open_session(
        self, request: RequestInfo, conn: Connection, accept: Callable[[], Awaitable[object]]
    ) -> Session | None:
        """Complete the upgrade, authenticate, and hand the socket to the hub; ``None`` when
        ``auth`` refused it (it is then closed with the refusal's code and reason)."""
        address = request.address
        try:
            await accept()
            identity: Identity | None = None
            if self.auth is not None:
                outcome = await authenticate(self.auth, request)
                if isinstance(outcome, Refusal):
                    self.hub.telemetry.socket_refused(outcome.code, address)
                    self.hub.addresses.close_socket(address)
                    await conn.close(outcome.code, outcome.message)
                    return None
                identity = outcome
            return await self.hub.session(conn, identity=identity, address=address)
        except BaseException:
            self.hub.addresses.close_socket(address)
            raise

    async def ice_servers(self, request: RequestInfo) -> tuple[int, dict[str, Any], dict[str, str]]:
        """``(status, JSON body, headers)`` for ``GET <path>/ice-servers``."""
        headers = {"cache-control": "no-store"}
        limits = self.hub.limits
        origin = request.origin
        if not limits.origin_allowed(origin, request.headers.get("host")):
            return 403, {"error": ORIGIN_REFUSED}, headers
        if origin is not None and limits.allowed_origins is not None:
            headers["access-control-allow-origin"] = origin
            headers["vary"] = "Origin"
        user = ANONYMOUS_TURN_USER
        if self.auth is not None:
            outcome = await authenticate(self.auth, request)
            if isinstance(outcome, Refusal):
                body = {"error": outcome.message, "code": outcome.code}
                return outcome.http_status, body, headers
            user = outcome.sub
        ice = self.hub.ice_servers
        return 200, {"iceServers": ice.for_user(user), "expiresAt": ice.expires_at()}, headers
