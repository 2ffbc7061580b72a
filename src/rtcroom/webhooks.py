"""Signed webhooks: room started/finished and peer joined/left, POSTed to your app.

Each event is one JSON object, POSTed to every URL with three headers::

    X-Rtcroom-Event-Id: <uuid>          (the same on a retry: deduplicate on it)
    X-Rtcroom-Timestamp: <unix seconds> (refuse old ones: replay protection)
    X-Rtcroom-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>

:func:`verify` checks all of it. Delivery never blocks signaling: the hub only appends to a
bounded queue (when full, the oldest event is dropped, counted and logged); one task per URL
sends in order, retrying with exponential backoff.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import urlsplit

import orjson

from .telemetry import HubEvent, Telemetry

log = logging.getLogger("rtcroom.webhooks")

SECRET_ENV: Final = "RTCROOM_WEBHOOK_SECRET"
SIGNATURE_HEADER: Final = "X-Rtcroom-Signature"
TIMESTAMP_HEADER: Final = "X-Rtcroom-Timestamp"
EVENT_ID_HEADER: Final = "X-Rtcroom-Event-Id"
DEFAULT_TOLERANCE: Final = 300.0
"""Seconds a receiver accepts between the timestamp header and its own clock."""

DROP_WARNING_INTERVAL: Final = 10.0
"""Seconds between two "queue full" warnings for one URL."""

EVENTS: Final = ("room_started", "room_finished", "peer_joined", "peer_left")


class WebhookSignatureError(ValueError):
    """A webhook request is not from rtcroom (bad or missing signature) or is too old."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Rtcroom-Signature`` value for a body sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> dict[str, Any]:
    """Check a received webhook and return its event; raises :class:`WebhookSignatureError`.

    Pass the raw body (before any JSON parsing) and the two headers as received.
    """
    if not timestamp or not signature:
        raise WebhookSignatureError(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
    try:
        sent = float(timestamp)
    except ValueError:
        raise WebhookSignatureError(f"{TIMESTAMP_HEADER} is not a number") from None
    if abs((time.time() if now is None else now) - sent) > tolerance:
        raise WebhookSignatureError(
            f"{TIMESTAMP_HEADER} is more than {tolerance:g} s away from now (a replay, or a "
            "clock off)"
        )
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise WebhookSignatureError("signature mismatch (another secret, or a modified body)")
    event: dict[str, Any] = orjson.loads(body)
    return event


def event_body(event: HubEvent, event_id: str) -> bytes:
    """The JSON body of a webhook (documented in docs/operations.md)."""
    identity = event.identity
    payload: dict[str, Any] = {
        "id": event_id,
        "event": event.kind,
        "createdAt": round(event.at, 3),
        "roomId": event.room_id,
    }
    if event.peer_id is not None:
        payload["peerId"] = event.peer_id
        payload["identity"] = (
            {"sub": identity.sub, "name": identity.name} if identity is not None else None
        )
    if event.kind == "peer_left":
        payload["reason"] = event.reason
    return orjson.dumps(payload)


class _Target:
    """One receiving URL: its queue and its sender task."""

    def __init__(self, url: str, size: int) -> None:
        self.url = url
        self.queue: deque[tuple[str, bytes]] = deque()
        self.size = size
        self.task: asyncio.Task[None] | None = None
        self.unreported_drops = 0
        self.last_drop_warning = -DROP_WARNING_INTERVAL


class Webhooks:
    """POST signed lifecycle events to ``urls``; attach to a hub with :meth:`attach`.

    ``queue_size`` events wait per URL at most (then the oldest is dropped); each is tried
    ``attempts`` times, waiting ``backoff`` seconds doubled each time (at most ``max_backoff``),
    with ``timeout`` seconds per request. ``events`` picks which kinds are sent.
    """

    def __init__(
        self,
        urls: Sequence[str],
        secret: str,
        *,
        queue_size: int = 1000,
        attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        timeout: float = 5.0,
        events: Sequence[str] = EVENTS,
    ) -> None:
        if isinstance(urls, str):
            urls = [urls]
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"a webhook URL must be http(s)://host/path, got {url!r}")
        if not urls:
            raise ValueError("Webhooks needs at least one URL")
        if not isinstance(secret, str) or not secret:
            raise ValueError(f"Webhooks needs a signing secret (rtcroom serve reads ${SECRET_ENV})")
        unknown = set(events) - set(EVENTS)
        if unknown:
            raise ValueError(f"unknown webhook events {sorted(unknown)}; known: {list(EVENTS)}")
        if queue_size < 1 or attempts < 1 or backoff < 0 or timeout <= 0:
            raise ValueError("queue_size and attempts must be >= 1, backoff >= 0, timeout > 0")
        self._secret = secret
        self._targets = [_Target(url, queue_size) for url in urls]
        self.events = frozenset(events)
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.outcomes: dict[str, int] = {"delivered": 0, "failed": 0, "dropped": 0}
        self._closing = False

    @property
    def urls(self) -> list[str]:
        return [t.url for t in self._targets]

    @property
    def queued(self) -> int:
        return sum(len(t.queue) for t in self._targets)

    def attach(self, hub_or_telemetry: Any) -> Webhooks:
        """Send this hub's events (``webrtc(...).hub``, or a ``SignalingHub``); returns self."""
        telemetry = getattr(hub_or_telemetry, "telemetry", hub_or_telemetry)
        if not isinstance(telemetry, Telemetry):
            raise TypeError(
                "Webhooks.attach takes a SignalingHub (webrtc(...).hub), "
                f"got {type(hub_or_telemetry).__name__}"
            )
        telemetry.observe(self, close=self.close)
        return self

    def __call__(self, event: HubEvent) -> None:
        """Enqueue an event (never waits: called in the middle of signaling)."""
        if event.kind not in self.events or self._closing:
            return
        event_id = str(uuid.uuid4())
        body = event_body(event, event_id)
        for target in self._targets:
            if len(target.queue) >= target.size:
                target.queue.popleft()
                self.outcomes["dropped"] += 1
                self._warn_dropped(target)
            target.queue.append((event_id, body))
            if target.task is None or target.task.done():
                target.task = asyncio.get_running_loop().create_task(self._send_all(target))

    @staticmethod
    def _warn_dropped(target: _Target) -> None:
        """One warning per interval, with the count, however many events an outage drops."""
        target.unreported_drops += 1
        now = time.monotonic()
        if now - target.last_drop_warning >= DROP_WARNING_INTERVAL:
            log.warning(
                "webhook queue for %s is full (%d events): dropped the oldest %d; is the "
                "receiver down?",
                target.url,
                target.size,
                target.unreported_drops,
            )
            target.unreported_drops = 0
            target.last_drop_warning = now

    async def close(self, timeout: float = 5.0) -> None:
        """Stop taking events; give queued ones ``timeout`` seconds to go out, then drop them."""
        self._closing = True
        tasks = [t.task for t in self._targets if t.task is not None and not t.task.done()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            left = self.queued
            if left:
                log.warning("dropped %d webhook events not sent before shutdown", left)
                self.outcomes["dropped"] += left

    async def _send_all(self, target: _Target) -> None:
        while target.queue:
            event_id, body = target.queue[0]
            if await self._deliver(target, event_id, body):
                self.outcomes["delivered"] += 1
            else:
                self.outcomes["failed"] += 1
            if target.queue and target.queue[0][0] == event_id:
                target.queue.popleft()

    async def _deliver(self, target: _Target, event_id: str, body: bytes) -> bool:
        delay = self.backoff
        problem = ""
        for attempt in range(1, self.attempts + 1):
            problem = await asyncio.to_thread(self._post, target.url, event_id, body)
            if not problem:
                return True
            if attempt < self.attempts and not self._closing:
                log.info(
                    "webhook %s to %s failed (%s); retry %d/%d in %g s",
                    event_id,
                    target.url,
                    problem,
                    attempt,
                    self.attempts - 1,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
            elif self._closing:
                break
        log.warning(
            "webhook %s to %s not delivered after %d attempts (%s); dropped it",
            event_id,
            target.url,
            self.attempts,
            problem,
        )
        return False

    def _post(self, url: str, event_id: str, body: bytes) -> str:
        """One POST (in a worker thread); ``""`` on a 2xx answer, else what went wrong."""
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "rtcroom-webhooks",
                EVENT_ID_HEADER: event_id,
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
                return ""
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return str(reason) or type(exc).__name__
