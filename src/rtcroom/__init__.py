"""rtcroom: WebRTC rooms for Python.

The signaling server speaks Agentuity's ``webrtc()`` protocol, so browser apps written for
its client work unchanged; mount it with ``webrtc(...)`` in any ASGI app.
"""

from .asgi import SignalingEndpoint, webrtc
from .auth import AuthCloseCode, AuthRefused, Identity, RequestInfo
from .backends import Backend, BackendUnavailable, MemoryBackend, RedisBackend
from .hub import RoomStats, SignalingCallbacks, SignalingHub
from .limits import Limits
from .protocol import ProtocolError
from .tokens import JoinTokens
from .turn import IceServers

__version__ = "0.1.0"

__all__ = [
    "AuthCloseCode",
    "AuthRefused",
    "Backend",
    "BackendUnavailable",
    "IceServers",
    "Identity",
    "JoinTokens",
    "Limits",
    "MemoryBackend",
    "ProtocolError",
    "RedisBackend",
    "RequestInfo",
    "RoomStats",
    "SignalingCallbacks",
    "SignalingEndpoint",
    "SignalingHub",
    "__version__",
    "webrtc",
]
