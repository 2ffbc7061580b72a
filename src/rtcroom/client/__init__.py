"""The Python peer: join an rtcroom (or Agentuity) signaling room and talk peer to peer.

```python
async with WebRTCCall("room", "ws://127.0.0.1:8000/api/call/signal",
                      data_channels=[DataChannelConfig("chat")]) as call:
    await call.wait_connected()
    call.send_json("chat", {"hello": "world"})
```
"""

from .._extras import require

require("client", __name__, "aiortc", "numpy")

from .call import WebRTCCall
from .channels import DEFAULT_LOW_WATER_MARK, DEFAULT_MAX_BUFFERED_AMOUNT, DataChannelConfig
from .errors import (
    AuthError,
    BufferFullError,
    CallEndedError,
    CallError,
    ConnectionTimeoutError,
    InvalidSignalError,
    JoinRefusedError,
    NegotiationError,
    NotConnectedError,
    ReconnectFailedError,
    RoomFullError,
    SignalingClosedError,
    SignalingConnectionError,
    SignalingError,
    UnknownChannelError,
    UnknownPeerError,
)
from .events import (
    CallCallbacks,
    CallEvent,
    ConnectEvent,
    DataChannelCloseEvent,
    DataChannelErrorEvent,
    DataChannelMessageEvent,
    DataChannelOpenEvent,
    DisconnectEvent,
    ErrorEvent,
    EventStream,
    IceStateChangeEvent,
    NegotiationCompleteEvent,
    NegotiationStartEvent,
    PeerJoinedEvent,
    PeerLeftEvent,
    PeerReconnectedEvent,
    PeerReconnectingEvent,
    ReconnectedEvent,
    ReconnectFailedEvent,
    ReconnectingEvent,
    ScreenShareStartEvent,
    ScreenShareStopEvent,
    SignalingLostEvent,
    SignalingRestoredEvent,
    StateChangeEvent,
    TrackAddedEvent,
)
from .session import PeerSession
from .state import CallState
from .tracks import TrackSource

__all__ = [
    "DEFAULT_LOW_WATER_MARK",
    "DEFAULT_MAX_BUFFERED_AMOUNT",
    "AuthError",
    "BufferFullError",
    "CallCallbacks",
    "CallEndedError",
    "CallError",
    "CallEvent",
    "CallState",
    "ConnectEvent",
    "ConnectionTimeoutError",
    "DataChannelCloseEvent",
    "DataChannelConfig",
    "DataChannelErrorEvent",
    "DataChannelMessageEvent",
    "DataChannelOpenEvent",
    "DisconnectEvent",
    "ErrorEvent",
    "EventStream",
    "IceStateChangeEvent",
    "InvalidSignalError",
    "JoinRefusedError",
    "NegotiationCompleteEvent",
    "NegotiationError",
    "NegotiationStartEvent",
    "NotConnectedError",
    "PeerJoinedEvent",
    "PeerLeftEvent",
    "PeerReconnectedEvent",
    "PeerReconnectingEvent",
    "PeerSession",
    "ReconnectFailedError",
    "ReconnectFailedEvent",
    "ReconnectedEvent",
    "ReconnectingEvent",
    "RoomFullError",
    "ScreenShareStartEvent",
    "ScreenShareStopEvent",
    "SignalingClosedError",
    "SignalingConnectionError",
    "SignalingError",
    "SignalingLostEvent",
    "SignalingRestoredEvent",
    "StateChangeEvent",
    "TrackAddedEvent",
    "TrackSource",
    "UnknownChannelError",
    "UnknownPeerError",
    "WebRTCCall",
]
