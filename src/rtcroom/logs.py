"""``rtcroom serve --log-format json``: one JSON object per line, for log shippers.

Every log record becomes a line ``{"ts", "level", "logger", "message", ...}``; the hub's
lifecycle (join, leave, refused joins and sockets, errors) comes as ``rtcroom.events`` records
with ``event``, ``room``, ``peer``, ``identity`` and ``reason`` fields. Join tokens in URLs are
redacted and secrets are never part of a record.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any, Final

import orjson

from .telemetry import HubEvent, Telemetry

EVENTS_LOGGER: Final = "rtcroom.events"
_FIELDS: Final = ("event", "room", "peer", "identity", "reason", "address")
_TOKEN: Final = re.compile(r"((?:token|access_token)=)[^&\s\"']+")
_BEARER: Final = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+")

events_log = logging.getLogger(EVENTS_LOGGER)


def redact(text: str) -> str:
    """Hide join tokens and bearer credentials in a message."""
    if "oken=" in text:
        text = _TOKEN.sub(r"\1[redacted]", text)
    if "Bearer" in text:
        text = _BEARER.sub(r"\1[redacted]", text)
    return text


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if "event" in record.__dict__:  # a hub event: every field, null when unknown
            for name in _FIELDS:
                line[name] = record.__dict__.get(name)
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(line).decode()


_LEVELS: Final = {
    "join_refused": logging.WARNING,
    "socket_refused": logging.WARNING,
    "error": logging.WARNING,
}


def log_event(event: HubEvent) -> None:
    """Log one hub event to ``rtcroom.events`` (info; refusals and errors at warning)."""
    level = _LEVELS.get(event.kind, logging.INFO)
    if not events_log.isEnabledFor(level):
        return
    identity = event.identity
    fields = {
        "event": event.kind,
        "room": event.room_id,
        "peer": event.peer_id,
        "identity": {"sub": identity.sub, "name": identity.name} if identity else None,
        "reason": event.reason,
        "address": event.address,
    }
    words = [event.kind.replace("_", " ")]
    if event.peer_id:
        words.append(event.peer_id)
    if event.room_id is not None:
        words.append(f"room {event.room_id!r}")
    if event.reason:
        words.append(f"({event.reason})")
    events_log.log(level, " ".join(words), extra=fields)


def use_json_logs(level: str = "INFO") -> None:
    """Make every log line of this process a JSON object (replaces the root handlers)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())


def log_events(hub_or_telemetry: Any) -> None:
    """Log the lifecycle of this hub (``webrtc(...).hub``) to ``rtcroom.events``."""
    telemetry = getattr(hub_or_telemetry, "telemetry", hub_or_telemetry)
    if not isinstance(telemetry, Telemetry):
        raise TypeError(
            f"log_events takes a SignalingHub (webrtc(...).hub), got {type(hub_or_telemetry)}"
        )
    telemetry.observe(log_event)
