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

# --- extension: resume (docs/protocol.md, "Resume") ---------------------------------------------
# A refused resume is an error frame starting with this prefix; the socket stays open and
# unjoined, so the client falls back to a plain join on it.
RESUME_REFUSED_PREFIX: Final = "Resume refused: "
RESUME_INVALID: Final = RESUME_REFUSED_PREFIX + "invalid token (malformed or bad signature)"
RESUME_OTHER_ROOM: Final = RESUME_REFUSED_PREFIX + "the token is for another room"
RESUME_EXPIRED: Final = RESUME_REFUSED_PREFIX + "the token has expired"
RESUME_ENDED: Final = (
    RESUME_REFUSED_PREFIX
    + "this peer already left the room (it hung up, was kicked, or was away past the grace window)"
)
RESUME_OTHER_IDENTITY: Final = (
    RESUME_REFUSED_PREFIX + "the token belongs to another identity than this socket's join token"
)
RESUME_OFF: Final = RESUME_REFUSED_PREFIX + "resume is turned off on this server"
INVALID_RESUME: Final = "Invalid resume (must be true or false)"
INVALID_RESUME_TOKEN: Final = "Invalid resumeToken (must be the string from your last joined frame)"
FRAMES_LOST: Final = "Signaling frames were lost while you were away; renegotiate with your peers"
"""Sent after ``joined`` on a resume when frames addressed to the peer were dropped."""
RESUMED_CLOSE_CODE: Final = 4410
"""Closes the older socket of a peer that resumed on a newer one (no leave is announced)."""
RESUMED_REASON: Final = "Resumed on another connection"


def unknown_type(t: str) -> str:
    return f"Unknown message type: {t}"


def room_full(max_peers: int) -> str:
    return f"Room is full (max {max_peers} peers)"


def resume_room_full(max_peers: int) -> str:
    """A resume refused because the room filled up while the peer was forgotten (a restart)."""
    return f"{RESUME_REFUSED_PREFIX}the room is full again (max {max_peers} peers)"


def room_id_too_long(limit: int) -> str:
    return f"roomId too long (max {limit} characters)"


def room_not_granted(pattern: str) -> str:
    """Extension: the socket's identity (join token) does not grant the room it asked for."""
    return f"Not allowed to join this room (your token grants room {pattern!r})"


def identity_in_room(sub: str) -> str:
    """Extension: ``on_duplicate_identity="reject"`` and this identity is already in the room."""
    return f"Identity {sub!r} is already in this room (one connection per identity)"


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
    """``resume``: the peer opts in to resume (gets a token and a grace window);
    ``resume_token``: it asks to come back as the token's peer (implies ``resume``)."""

    room_id: str
    resume: bool = False
    resume_token: str | None = None


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
        resume = msg.get("resume")
        token = msg.get("resumeToken")
        if resume is None and token is None:  # Agentuity's client: the fast path
            return Join(room_id)
        if resume is not None and not isinstance(resume, bool):
            raise ProtocolError(INVALID_RESUME)
        if token is not None and (not isinstance(token, str) or not token):
            raise ProtocolError(INVALID_RESUME_TOKEN)
        return Join(room_id, bool(resume) or token is not None, token)
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


def joined(
    peer_id: str,
    room_id: str,
    peers: list[str],
    ice_servers: list[Any] | None = None,
    *,
    resume_token: str | None = None,
    resume_grace: float | None = None,
    resumed: bool = False,
) -> str:
    """Extensions, all ignored by Agentuity's client: ``iceServers`` when the server has
    STUN/TURN servers to hand out; ``resumeToken`` and ``resumeGrace`` (seconds) for a peer that
    opted in to resume; ``resumed: true`` when the peer came back under its old id."""
    frame: dict[str, Any] = {"t": "joined", "peerId": peer_id, "roomId": room_id, "peers": peers}
    if ice_servers:
        frame["iceServers"] = ice_servers
    if resume_token is not None:
        frame["resumeToken"] = resume_token
        frame["resumeGrace"] = resume_grace
    if resumed:
        frame["resumed"] = True
    return _dump(frame)


def peer_joined(peer_id: str, *, resumed: bool = False) -> str:
    """``resumed: true`` (an extension): a peer a restarted server had forgotten came back."""
    if resumed:
        return _dump({"t": "peer-joined", "peerId": peer_id, "resumed": True})
    return _dump({"t": "peer-joined", "peerId": peer_id})


def peer_left(peer_id: str) -> str:
    return _dump({"t": "peer-left", "peerId": peer_id})


def error(message: str) -> str:
    return _dump({"t": "error", "message": message})


def relayed(kind: str, sender: str, payload: Any) -> str:
    """The frame a relay target receives: server-set ``from``, no ``to``."""
    return _dump({"t": kind, "from": sender, _PAYLOAD_KEY[kind]: payload})
