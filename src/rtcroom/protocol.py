"""Signaling frames in and out: parse, validate, encode.

The wire contract is Agentuity's (docs/protocol.md): one JSON
object per text frame, discriminated by ``t``. Error strings are exact because browser apps
written for Agentuity's client show them to users and sometimes match on them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final, NoReturn

import orjson

# --- exact error strings -------------------------------------------------------------------

INVALID_JSON: Final = "Invalid JSON"
INVALID_FORMAT: Final = "Invalid message format"
INVALID_ROOM_ID: Final = "Missing or invalid roomId"
INVALID_DESCRIPTION: Final = "Missing or invalid description"
INVALID_CANDIDATE: Final = "Missing or invalid candidate"
NOT_IN_ROOM: Final = "Not in a room"
# Extension: the reference server silently registers a ghost peer here.
ALREADY_IN_ROOM: Final = "Already in a room (one join per connection; open a new socket)"
# Extension: a shared room store (Redis) is unreachable, so no join can be admitted right now.
UNAVAILABLE: Final = "Rooms temporarily unavailable (try again in a few seconds)"


def unknown_type(t: str) -> str:
    return f"Unknown message type: {t}"


def room_full(max_peers: int) -> str:
    return f"Room is full (max {max_peers} peers)"


def room_id_too_long(limit: int) -> str:
    return f"roomId too long (max {limit} characters)"


def frame_bytes(text: str) -> int:
    """A text frame's size on the wire (UTF-8), which is what size limits count on every
    transport. ASCII (nearly every SDP) is answered without encoding."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


# --- client frames ---------------------------------------------------------------------------


class ProtocolError(ValueError):
    """A client frame the server answers with an ``error`` frame (the socket stays open)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(slots=True, frozen=True)
class Join:
    room_id: str


@dataclass(slots=True, frozen=True)
class Relay:
    """An ``sdp`` or ``ice`` frame: ``payload`` is the description or candidate, untouched."""

    kind: str  # "sdp" | "ice"
    to: str | None
    payload: Any


ClientFrame = Join | Relay

_PAYLOAD_KEY: Final = {"sdp": "description", "ice": "candidate"}


def parse(data: str | bytes) -> ClientFrame:
    """Decode and validate one text frame (``str``, or its UTF-8 bytes), raising
    :class:`ProtocolError` with the wire text. Binary frames never get here: they are
    ``Invalid JSON`` by rule, as they are for the reference server.
    """
    try:
        msg = orjson.loads(data)
    except orjson.JSONDecodeError:
        msg = _loads_like_javascript(data)
    if not isinstance(msg, dict):
        raise ProtocolError(INVALID_FORMAT)
    t = msg.get("t")
    if not isinstance(t, str):
        raise ProtocolError(INVALID_FORMAT)
    if t == "join":
        room_id = msg.get("roomId")
        if not isinstance(room_id, str) or not room_id:
            raise ProtocolError(INVALID_ROOM_ID)
        return Join(room_id)
    key = _PAYLOAD_KEY.get(t)
    if key is None:
        raise ProtocolError(unknown_type(t))
    payload = msg.get(key)
    # The reference checks ``typeof x === 'object'`` and non-null: arrays pass.
    if not isinstance(payload, dict | list):
        raise ProtocolError(INVALID_DESCRIPTION if t == "sdp" else INVALID_CANDIDATE)
    to = msg.get("to")
    # Any falsy ``to`` (absent, "", null, 0, false) means broadcast; a non-string truthy one
    # can name no peer, so it is kept as a string that matches nobody and is dropped.
    if not to:
        target = None
    elif isinstance(to, str):
        target = to
    else:
        target = orjson.dumps(to).decode()
    return Relay(t, target, payload)


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(name)


def _loads_like_javascript(data: str | bytes) -> Any:
    """The slow path for what orjson refuses but ``JSON.parse`` accepts (lone surrogate
    escapes, numbers that overflow to Infinity), so such frames are judged as the reference
    judges them. ``NaN``/``Infinity`` literals stay invalid, as in JavaScript."""
    try:
        return json.loads(data, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ProtocolError(INVALID_JSON) from None


# --- server frames ---------------------------------------------------------------------------


def _dump(obj: dict[str, Any]) -> str:
    try:
        return orjson.dumps(obj).decode()
    except orjson.JSONEncodeError:
        # Lone surrogates (legal in JavaScript strings) are escaped as JSON.stringify does.
        return json.dumps(obj, separators=(",", ":"))


def joined(peer_id: str, room_id: str, peers: list[str]) -> str:
    return _dump({"t": "joined", "peerId": peer_id, "roomId": room_id, "peers": peers})


def peer_joined(peer_id: str) -> str:
    return _dump({"t": "peer-joined", "peerId": peer_id})


def peer_left(peer_id: str) -> str:
    return _dump({"t": "peer-left", "peerId": peer_id})


def error(message: str) -> str:
    return _dump({"t": "error", "message": message})


def relayed(kind: str, sender: str, payload: Any) -> str:
    """The frame a relay target receives: server-set ``from``, no ``to``."""
    return _dump({"t": kind, "from": sender, _PAYLOAD_KEY[kind]: payload})
