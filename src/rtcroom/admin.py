"""The admin HTTP API: list rooms and peers, kick a peer (``rtcroom rooms``, ``rtcroom kick``).

``GET  <prefix>/rooms``                  -> ``{"rooms": [{"roomId", "peers": [...]}]}``
``POST <prefix>/peers/<peer id>/kick``    -> ``{"kicked": "<peer id>"}`` or 404

Guarded by a secret sent as ``Authorization: Bearer <secret>`` (``$RTCROOM_ADMIN_SECRET`` for
``rtcroom serve``). Without a secret it answers loopback clients only, and not requests that
came through a proxy (``X-Forwarded-For``, ``Forwarded``, ``X-Real-IP``), which would look
local.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from typing import Any, Final

import orjson

from .backends.base import BackendUnavailable
from .hub import SignalingHub

log = logging.getLogger("rtcroom.admin")

SECRET_ENV: Final = "RTCROOM_ADMIN_SECRET"
DEFAULT_PREFIX: Final = "/admin"
KICK_REASON: Final = "Removed by an administrator"

_NEEDS_SECRET: Final = (
    f"the admin API answers only local requests; set {SECRET_ENV} on the server and send it "
    "as Authorization: Bearer <secret>"
)


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AdminApi:
    """A plain ASGI app; mount it at a prefix (Starlette ``Mount``, or :func:`admin_api`)."""

    def __init__(self, hub: SignalingHub, secret: str | None = None) -> None:
        if secret is not None and (not isinstance(secret, str) or not secret.strip()):
            raise ValueError("the admin secret must be a non-empty string (or None: local only)")
        self.hub = hub
        self._secret = secret.strip() if secret else None

    def _refusal(self, scope: dict[str, Any]) -> tuple[int, str] | None:
        headers = dict(scope.get("headers") or [])
        if self._secret is not None:
            given = headers.get(b"authorization", b"").decode("latin-1")
            scheme, _, value = given.partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(
                value.strip().encode(), self._secret.encode()
            ):
                return None
            return 401, f"wrong or missing admin secret: send Authorization: Bearer ${SECRET_ENV}"
        client = scope.get("client")
        proxied = any(h in headers for h in (b"x-forwarded-for", b"forwarded", b"x-real-ip"))
        if proxied or not _loopback(client[0] if client else None):
            return 403, _NEEDS_SECRET
        return None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            status, message = refusal
            client = scope.get("client")
            log.warning("refused an admin request from %s: %s", client and client[0], message)
            await _answer(send, status, {"error": message})
            return
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):  # Starlette keeps the prefix in path
            path = path[len(root) :]
        method = scope.get("method", "GET")
        parts = [p for p in path.split("/") if p]
        try:
            if parts == ["rooms"] and method in ("GET", "HEAD"):
                await _answer(send, 200, await self.rooms())
            elif len(parts) == 3 and parts[0] == "peers" and parts[2] == "kick":
                if method != "POST":
                    await _answer(send, 405, {"error": "use POST"}, {"allow": "POST"})
                    return
                kicked = await self.hub.kick(parts[1], KICK_REASON)
                log.info("admin kick of %s: %s", parts[1], "done" if kicked else "no such peer")
                if kicked:
                    await _answer(send, 200, {"kicked": parts[1]})
                else:
                    await _answer(send, 404, {"error": f"no peer {parts[1]!r} is connected"})
            else:
                await _answer(
                    send, 404, {"error": "admin paths: GET rooms, POST peers/<peer id>/kick"}
                )
        except BackendUnavailable as exc:
            await _answer(send, 503, {"error": str(exc)})

    async def rooms(self) -> dict[str, Any]:
        """Every room (cluster-wide with Redis) and its peers; identities for this process's."""
        hub = self.hub
        rooms = await hub.get_rooms()
        local = hub.local_peers()
        listing = []
        for room_id, peer_ids in sorted(rooms.items()):
            peers = []
            for peer_id in peer_ids:
                identity = hub.peer_identity(peer_id)
                peers.append(
                    {
                        "peerId": peer_id,
                        "local": peer_id in local,
                        "identity": (
                            {"sub": identity.sub, "name": identity.name} if identity else None
                        ),
                    }
                )
            listing.append({"roomId": room_id, "peers": peers})
        return {"rooms": listing}


async def _answer(
    send: Any, status: int, body: dict[str, Any], extra: dict[str, str] | None = None
) -> None:
    payload = orjson.dumps(body)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(payload)),
        (b"cache-control", b"no-store"),
    ]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def admin_api(hub: SignalingHub, secret: str | None = None) -> AdminApi:
    """The admin API for ``hub`` (``webrtc(...).hub``); in Starlette/FastAPI:
    ``app.mount("/admin", admin_api(signaling.hub, secret=...))``."""
    return AdminApi(hub, secret)
