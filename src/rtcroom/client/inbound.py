"""Frames from the signaling server, checked at the client's edge.

The client does not trust its signaling server: a buggy or hostile one must not create phantom
peers, feed aiortc's SDP parser megabytes or nonsense, or crash the call. :func:`parse` turns one
WebSocket message into a typed frame or raises :class:`~rtcroom.client.InvalidSignalError` saying
what is wrong and which peer the frame claimed to come from (an SDP that is no valid SDP is
a :class:`~rtcroom.client.NegotiationError` naming the peer). Frame types this client does not
know are returned as :class:`Unknown` and ignored, so a server may add extensions (see the
protocol document: extensions stay invisible to clients that do not know them).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Final, Literal

import orjson
from aiortc.sdp import SessionDescription

from .diagnosis import short_repr
from .errors import InvalidSignalError, NegotiationError

log = logging.getLogger("rtcroom.client")

MAX_SDP_BYTES: Final = 256 * 1024
"""An SDP this large is already absurd (a browser's offer with audio, video and data is ~5 KB)."""
MAX_CANDIDATE_BYTES: Final = 2048
MAX_MID_LENGTH: Final = 256
MAX_PEERS: Final = 1024
"""Most peers a ``joined`` may list (a full mesh of this many is far past what WebRTC does)."""
MAX_ERROR_MESSAGE: Final = 1000
PEER_ID: Final = re.compile(r"[A-Za-z0-9._:~-]{1,128}")
"""What a peer id may look like: rtcroom's and Agentuity's ``peer-<ms>-<n>``, UUIDs and the like."""


@dataclass(frozen=True, slots=True)
class Joined:
    peer_id: str
    peers: tuple[str, ...]
    ice_servers: tuple[dict[str, Any], ...] | None = None
    """rtcroom's extension: the STUN/TURN servers the server hands out (None: not sent, or
    not a list of ``{urls, username?, credential?}``, which is logged and ignored)."""
    resume_token: str | None = None
    """rtcroom's resume extension: present when the server will hold this peer through a
    signaling outage (None: an old server, resume off, or a malformed token, logged)."""
    resume_grace: float = 0.0
    """Seconds the server holds an away peer (and how long we keep an unlisted one)."""
    resumed: bool = False
    """This ``joined`` answers a resume: same peer id, the mesh is kept."""


@dataclass(frozen=True, slots=True)
class PeerJoined:
    peer_id: str


@dataclass(frozen=True, slots=True)
class PeerLeft:
    peer_id: str


@dataclass(frozen=True, slots=True)
class Description:
    """An offer or answer relayed from ``sender``; ``sdp`` parses and is within the size cap."""

    sender: str
    type: Literal["offer", "answer"]
    sdp: str
    rebuild: int | None = None
    """rtcroom's ``rtcroomRebuild``: which rebuilt connection of this pair the description
    belongs to (None: not sent, e.g. by Agentuity's client). See ``session.py``."""
    ice_restart: bool | None = None
    """rtcroom's ``rtcroomIceRestart``: sent (either way) only by rtcroom's clients, which
    understand ``rtcroomRebuild``; None from other clients."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A trickled ICE candidate; ``candidate == ""`` is end-of-candidates."""

    sender: str
    candidate: str
    sdp_mid: str | None
    sdp_mline_index: int | None


@dataclass(frozen=True, slots=True)
class ServerError:
    message: str


@dataclass(frozen=True, slots=True)
class Unknown:
    """A frame type this client does not know (a server extension): ignored."""

    t: str


ServerFrame = Joined | PeerJoined | PeerLeft | Description | Candidate | ServerError | Unknown


def parse(raw: str | bytes, own_id: str | None) -> ServerFrame:
    """Check one message from the server. ``own_id`` is our peer id once joined: a frame that
    claims to come from ourselves is refused. Raises InvalidSignalError or NegotiationError."""
    if isinstance(raw, bytes):
        raise InvalidSignalError("the signaling server sent a binary frame (the protocol is text)")
    try:
        msg = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidSignalError(
            f"the signaling server sent a frame that is not JSON: {raw[:80]!r}"
        ) from None
    if not isinstance(msg, dict) or not isinstance(msg.get("t"), str):
        raise InvalidSignalError(
            f"the signaling server sent {_kind(msg)} instead of an object with a string 't'"
        )
    t: str = msg["t"]
    try:
        return _frame(t, msg, own_id)
    except InvalidSignalError as error:
        error.frame_type = t
        raise


MAX_ICE_SERVERS: Final = 16


def ice_servers_from(value: Any) -> tuple[dict[str, Any], ...] | None:
    """``joined.iceServers`` (or ``/ice-servers``' list) as RTCIceServer dicts, or None. A bad
    list is ignored (the peer keeps its default servers) rather than failing the join: the field
    is an extension."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_ICE_SERVERS:
        log.warning("ignored 'iceServers': not a list of at most %d", MAX_ICE_SERVERS)
        return None
    out = []
    for item in value:
        urls = item.get("urls") if isinstance(item, dict) else None
        url_list = [urls] if isinstance(urls, str) else urls
        extra = [item.get(k) for k in ("username", "credential")] if isinstance(item, dict) else []
        if (
            not isinstance(url_list, list)
            or not url_list
            or not all(isinstance(u, str) and u.startswith(_ICE_SCHEMES) for u in url_list)
            or not all(x is None or isinstance(x, str) for x in extra)
        ):
            log.warning("ignored 'iceServers': an entry is not {urls, username, credential}")
            return None
        out.append({"urls": url_list, "username": extra[0], "credential": extra[1]})
    return tuple(out)


_ICE_SCHEMES: Final = ("stun:", "stuns:", "turn:", "turns:")


def _frame(t: str, msg: dict[str, Any], own_id: str | None) -> ServerFrame:
    if t == "joined":
        peer_id = _peer_id(msg, "peerId", t)
        peers = msg.get("peers")
        if not isinstance(peers, list) or len(peers) > MAX_PEERS:
            raise InvalidSignalError(
                f"'joined' needs 'peers' as a list of at most {MAX_PEERS} peer ids, got "
                f"{_kind(peers)}"
            )
        listed = [_check_id(p, "peers", t) for p in peers]
        unique = tuple(dict.fromkeys(p for p in listed if p != peer_id))
        token, grace = _resume_fields(msg)
        return Joined(
            peer_id,
            unique,
            ice_servers_from(msg.get("iceServers")),
            resume_token=token,
            resume_grace=grace,
            resumed=msg.get("resumed") is True,
        )
    if t in ("peer-joined", "peer-left"):
        peer_id = _peer_id(msg, "peerId", t)
        if own_id is None:
            raise InvalidSignalError(
                f"dropped '{t}' for peer {peer_id}: it came before we joined a room", peer_id
            )
        if peer_id == own_id:
            raise InvalidSignalError(f"dropped '{t}' that names our own peer id {peer_id}", peer_id)
        return PeerJoined(peer_id) if t == "peer-joined" else PeerLeft(peer_id)
    if t == "sdp":
        sender = _sender(msg, t, own_id)
        return _description(sender, msg.get("description"))
    if t == "ice":
        sender = _sender(msg, t, own_id)
        return _candidate(sender, msg.get("candidate"))
    if t == "error":
        message = msg.get("message")
        if not isinstance(message, str) or not message:
            return ServerError(f"(the server's error frame has no message: {_kind(message)})")
        return ServerError(message[:MAX_ERROR_MESSAGE])
    return Unknown(t[:80])


MAX_RESUME_TOKEN: Final = 4096


def _resume_fields(msg: dict[str, Any]) -> tuple[str | None, float]:
    """``joined.resumeToken`` and ``resumeGrace``; a bad pair is ignored (logged), so the
    call simply does not resume, as with a server that has no resume."""
    token = msg.get("resumeToken")
    grace = msg.get("resumeGrace", 0)
    if token is None:
        return None, 0.0
    if (
        not isinstance(token, str)
        or not 0 < len(token) <= MAX_RESUME_TOKEN
        or isinstance(grace, bool)
        or not isinstance(grace, int | float)
        or not 0 <= grace <= 86400
    ):
        log.warning("ignored 'resumeToken': not a short string with a resumeGrace in seconds")
        return None, 0.0
    return token, float(grace)


def _kind(value: Any) -> str:
    """How a wrong value is named in a message: its type, and its text if short."""
    if isinstance(value, dict | list):
        return f"a JSON {'object' if isinstance(value, dict) else 'array'}"
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__} of {len(text)} characters"


def _check_id(value: Any, field: str, t: str) -> str:
    if not isinstance(value, str) or not PEER_ID.fullmatch(value):
        raise InvalidSignalError(
            f"the signaling server sent '{t}' with {_kind(value)} as {field!r}, which is no peer "
            "id (1-128 letters, digits or ._:~-); dropped"
        )
    return value


def _peer_id(msg: dict[str, Any], field: str, t: str) -> str:
    return _check_id(msg.get(field), field, t)


def _sender(msg: dict[str, Any], t: str, own_id: str | None) -> str:
    sender = _peer_id(msg, "from", t)
    if own_id is None:
        raise InvalidSignalError(
            f"dropped '{t}' from peer {sender}: it came before we joined a room", sender
        )
    if sender == own_id:
        raise InvalidSignalError(
            f"dropped '{t}' that claims to come from our own peer id {sender}", sender
        )
    return sender


def _description(sender: str, description: Any) -> Description:
    def bad(cause: str) -> InvalidSignalError:
        return InvalidSignalError(f"dropped the SDP from peer {sender}: {cause}", sender)

    def invalid(cause: str) -> NegotiationError:
        return NegotiationError(f"the {kind} from peer {sender} is not valid SDP: {cause}", sender)

    if not isinstance(description, dict):
        raise bad(f"'description' is {_kind(description)}, not an object {{type, sdp}}")
    kind = description.get("type")
    sdp = description.get("sdp")
    if kind not in ("offer", "answer"):
        raise bad(f"its type is {_kind(kind)}, not 'offer' or 'answer'")
    if not isinstance(sdp, str):
        raise bad(f"its 'sdp' is {_kind(sdp)}, not text")
    if len(sdp) > MAX_SDP_BYTES or len(sdp.encode()) > MAX_SDP_BYTES:
        raise bad(f"its SDP is {len(sdp.encode())} bytes, over the {MAX_SDP_BYTES}-byte limit")
    if not sdp.startswith("v=0"):
        raise invalid(f"it does not start with 'v=0': {short_repr(sdp[:40])}")
    try:
        parsed = SessionDescription.parse(sdp)
    except Exception as exc:  # aiortc's parser asserts and indexes its way through the text
        detail = str(exc) or "a malformed line"
        raise invalid(f"aiortc's SDP parser failed ({type(exc).__name__}: {detail})") from exc
    if not parsed.media:
        raise invalid("it has no media or data section (no m= line): nothing to negotiate")
    ice_restart = description.get("rtcroomIceRestart")
    return Description(
        sender,
        kind,
        sdp,
        _rebuild(description.get("rtcroomRebuild")),
        ice_restart if isinstance(ice_restart, bool) else None,
    )


MAX_REBUILD: Final = 2**31


def _rebuild(value: Any) -> int | None:
    """A positive integer, or None (absent or unusable: the extension is optional)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_REBUILD:
        return None
    return value


def _candidate(sender: str, candidate: Any) -> Candidate:
    def bad(cause: str) -> InvalidSignalError:
        return InvalidSignalError(f"dropped an ICE candidate from peer {sender}: {cause}", sender)

    if not isinstance(candidate, dict):
        raise bad(f"'candidate' is {_kind(candidate)}, not an object")
    text = candidate.get("candidate", "")
    mid = candidate.get("sdpMid")
    index = candidate.get("sdpMLineIndex")
    if not isinstance(text, str) or len(text.encode()) > MAX_CANDIDATE_BYTES:
        raise bad(f"its 'candidate' must be text of at most {MAX_CANDIDATE_BYTES} bytes")
    if mid is not None and (not isinstance(mid, str) or len(mid) > MAX_MID_LENGTH):
        raise bad(f"its 'sdpMid' is {_kind(mid)}, not a short string")
    if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
        raise bad(f"its 'sdpMLineIndex' is {_kind(index)}, not an integer")
    if index is not None and not 0 <= index < 1024:
        raise bad(f"its 'sdpMLineIndex' {index} is out of range")
    return Candidate(sender, text, mid, index)
