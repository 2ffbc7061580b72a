"""Where room state lives: :class:`MemoryBackend` (default) or :class:`RedisBackend`."""

from .base import Admission, Backend, BackendUnavailable, Departure
from .memory import MemoryBackend
from .redis import RedisBackend

__all__ = [
    "Admission",
    "Backend",
    "BackendUnavailable",
    "Departure",
    "MemoryBackend",
    "RedisBackend",
]
