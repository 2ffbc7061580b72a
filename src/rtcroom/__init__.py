"""rtcroom: WebRTC rooms for Python.

The signaling server speaks Agentuity's ``webrtc()`` protocol, so browser apps written for
its client work unchanged; mount it with ``webrtc(...)`` in any ASGI app.

``import rtcroom`` loads the server only. :class:`RedisBackend` is imported on first use (it needs
``pip install 'rtcroom[redis]'``), and so are :mod:`rtcroom.client`, :mod:`rtcroom.media` and
:mod:`rtcroom.aiohttp`, each with its own extra.
"""

from typing import TYPE_CHECKING, Any

from ._extras import MissingExtraError
from .asgi import SignalingEndpoint, webrtc
from .auth import AuthCloseCode, AuthRefused, Identity, RequestInfo
from .backends import Backend, BackendUnavailable, MemoryBackend
from .hub import RoomStats, SignalingCallbacks, SignalingHub
from .limits import Limits
from .protocol import ProtocolError
from .resume import Resume
from .tokens import JoinTokens
from .turn import IceServers

if TYPE_CHECKING:
    from .backends.redis import RedisBackend as RedisBackend

__version__ = "0.1.0"

# RedisBackend is left out of __all__ so that ``import *`` works without the redis extra.
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
    "MissingExtraError",
    "ProtocolError",
    "RequestInfo",
    "Resume",
    "RoomStats",
    "SignalingCallbacks",
    "SignalingEndpoint",
    "SignalingHub",
    "__version__",
    "webrtc",
]


def __getattr__(name: str) -> Any:
    if name == "RedisBackend":  # only a clustered server needs Redis
        from .backends.redis import RedisBackend as RedisBackend

        return RedisBackend
    raise AttributeError(f"module 'rtcroom' has no attribute {name!r}")
