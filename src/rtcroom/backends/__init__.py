"""Where room state lives: :class:`MemoryBackend` (default) or a shared store."""

from .base import Admission, Backend, Departure
from .memory import MemoryBackend

__all__ = ["Admission", "Backend", "Departure", "MemoryBackend"]
