"""rtcroom: WebRTC rooms for Python.

The signaling server speaks Agentuity's ``webrtc()`` protocol, so browser apps written for
its client work unchanged; mount it with ``webrtc(...)`` in any ASGI app.
"""

from .asgi import SignalingEndpoint, webrtc
from .backends import Backend, BackendUnavailable, MemoryBackend, RedisBackend
from .hub import RoomStats, SignalingCallbacks, SignalingHub
from .protocol import ProtocolError

__version__ = "0.1.0"

__all__ = [
    "Backend",
    "BackendUnavailable",
    "MemoryBackend",
    "ProtocolError",
    "RedisBackend",
    "RoomStats",
    "SignalingCallbacks",
    "SignalingEndpoint",
    "SignalingHub",
    "__version__",
    "webrtc",
]
