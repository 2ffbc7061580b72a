"""Where room state lives: :class:`MemoryBackend` (default) or :class:`RedisBackend`.

``RedisBackend`` is imported on first use: it needs ``pip install 'rtcroom[redis]'``.
"""

from typing import TYPE_CHECKING, Any

from .base import Admission, Backend, BackendUnavailable, Departure, PeerEnded, Readmission
from .memory import MemoryBackend

if TYPE_CHECKING:
    from .redis import RedisBackend as RedisBackend

# RedisBackend is left out of __all__ so that ``import *`` works without the redis extra.
__all__ = [
    "Admission",
    "Backend",
    "BackendUnavailable",
    "Departure",
    "MemoryBackend",
    "PeerEnded",
    "Readmission",
]


def __getattr__(name: str) -> Any:
    if name == "RedisBackend":
        from .redis import RedisBackend as RedisBackend

        return RedisBackend
    raise AttributeError(f"module 'rtcroom.backends' has no attribute {name!r}")
