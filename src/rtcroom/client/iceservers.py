"""Fresh TURN credentials for a long call: the server's ``<signal path>/ice-servers`` endpoint.

The server hands out STUN/TURN servers in ``joined`` (rtcroom's extension); TURN credentials in
coturn's REST scheme carry their expiry in the username (``<unix seconds>:<identity>``). Before
they expire the call fetches a new list with the same token, so peer connections created later
in the call (a peer that joins after an hour) get credentials coturn still accepts. aiortc
cannot change the configuration of a connection that exists; those keep their allocation.
"""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from .inbound import ice_servers_from
from .refusals import redact

log = logging.getLogger("rtcroom.client")

REFRESH_AT = 0.8
"""Refresh when this share of the credentials' lifetime is used up (at least 1 s before)."""
RETRY_DELAY = 5.0
MAX_HURRIED = 3
"""Refreshes in a row that came too late (the clock is off): then stop, with a warning."""
FETCH_TIMEOUT = 10.0


def credentials_expire_at(servers: Sequence[dict[str, Any]]) -> int | None:
    """Unix seconds when the earliest TURN credential in ``servers`` expires (None: never)."""
    times = []
    for server in servers:
        head = str(server.get("username") or "").partition(":")[0]
        if head.isdigit():
            times.append(int(head))
    return min(times, default=None)


def ice_servers_url(signal_url: str) -> str:
    """``http(s)://host/<signal path>/ice-servers?<the signal URL's query>``."""
    parts = urlsplit(signal_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    return urlunsplit(
        (scheme, parts.netloc, parts.path.rstrip("/") + "/ice-servers", parts.query, "")
    )


def _fetch(url: str, token: str | None) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    # No proxy from the environment, as for the signaling socket.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=FETCH_TIMEOUT) as response:
        return orjson.loads(response.read())


class IceServerRefresh:
    """Fetches the server's ICE servers again before the current credentials expire and hands
    each fresh list to ``apply``; failures are logged and retried while the old ones last."""

    def __init__(
        self,
        signal_url: str,
        token: str | None,
        apply: Callable[[tuple[dict[str, Any], ...]], None],
    ) -> None:
        self._url = ice_servers_url(signal_url)
        self._token = token
        self._apply = apply
        self._task: asyncio.Task[None] | None = None

    def start(self, servers: Sequence[dict[str, Any]]) -> None:
        expires_at = credentials_expire_at(servers)
        if expires_at is not None:
            self._task = asyncio.get_running_loop().create_task(self._run(expires_at))

    async def _run(self, expires_at: int) -> None:
        issued = time.time()
        hurried = 0
        while True:
            left = expires_at - time.time()
            hurried = hurried + 1 if left <= 1.0 else 0
            if hurried > MAX_HURRIED:
                log.warning("TURN credentials expire before they can be refreshed: check the clock")
                return
            lifetime = max(expires_at - issued, 0.0)
            await asyncio.sleep(max(1.0, min(left - lifetime * (1 - REFRESH_AT), left - 1.0)))
            try:
                body = await asyncio.to_thread(_fetch, self._url, self._token)
                servers = ice_servers_from(
                    body.get("iceServers") if isinstance(body, dict) else None
                )
                if servers is None:
                    raise ValueError("the answer has no iceServers list")
            except Exception as exc:  # the network, the server: the call goes on
                log.warning(
                    "could not refresh the TURN credentials from %s: %s",
                    redact(self._url),
                    redact(str(exc)),
                )
                if expires_at - time.time() <= RETRY_DELAY:
                    return
                await asyncio.sleep(RETRY_DELAY)
                continue
            self._apply(servers)
            next_expiry = credentials_expire_at(servers)
            if next_expiry is None:
                return
            issued, expires_at = time.time(), next_expiry

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
