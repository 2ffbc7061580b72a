"""The call's states and the reason strings, as Agentuity's client names them.

``idle`` (no socket) → ``connecting`` (opening the socket) → ``signaling`` (in the room, no peer
connection yet) → ``negotiating`` (offer/answer and ICE under way) → ``connected`` (at least one
peer's ICE is connected). ``connection_timeout`` bounds ``connecting`` and ``negotiating``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal


class CallState(StrEnum):
    """A ``str`` enum: ``call.state == "connected"`` works as well as ``CallState.CONNECTED``."""

    IDLE = "idle"
    CONNECTING = "connecting"
    SIGNALING = "signaling"
    NEGOTIATING = "negotiating"
    CONNECTED = "connected"


SignalingState = Literal["closed", "connecting", "open", "lost"]
"""The signaling socket apart from the call: ``lost`` while a resume keeps the call going."""

# Reasons given to ``on_state_change`` (Agentuity's exact strings, plus ``room-full``).
CONNECT_CALLED: Final = "connect() called"
WEBSOCKET_OPENED: Final = "WebSocket opened"
WEBSOCKET_CLOSED: Final = "WebSocket closed"
CREATING_OFFER: Final = "creating offer"
RECEIVED_SDP: Final = "received SDP"
PEER_CONNECTED: Final = "peer connected"
NO_CONNECTED_PEERS: Final = "no connected peers"
ALL_PEERS_LEFT: Final = "all peers left"
CONNECTION_TIMEOUT: Final = "connection-timeout"
RECONNECT_FAILED: Final = "reconnect-failed"
HANGUP: Final = "hangup"
ERROR: Final = "error"
ROOM_FULL: Final = "room-full"  # rtcroom: Agentuity's client stays in `signaling` forever here
JOIN_REFUSED: Final = "join-refused"  # rtcroom: any other `error` frame in reply to `join`
SIGNALING_REFUSED: Final = "signaling-refused"  # rtcroom: a close code no reconnect can fix


def reconnecting(cause: str) -> str:
    return f"reconnecting:{cause}"


def disconnect_reason(state_reason: str) -> str:
    """Agentuity's mapping from the reason for entering ``idle`` to ``on_disconnect``'s."""
    if state_reason == HANGUP:
        return "hangup"
    if "timeout" in state_reason:
        return "timeout"
    return "error"
