"""The call's data channels across every peer: open, close, send, drain.

One label names one channel per peer (as in the browser client). A send goes to every peer
whose channel is open, or to one peer; it is refused past ``max_buffered_amount`` queued bytes
so a fast sender cannot grow memory without bound (``drain()`` waits the queue down).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from aiortc import RTCDataChannel
from aiortc.exceptions import InvalidStateError

from .channels import (
    DEFAULT_LOW_WATER_MARK,
    DEFAULT_MAX_BUFFERED_AMOUNT,
    DataChannelConfig,
    as_config,
    wait_buffered_low,
)
from .errors import BufferFullError, UnknownChannelError, UnknownPeerError
from .events import CallEvent, DataChannelErrorEvent
from .mesh import PeerMesh


class DataChannels:
    """Send and receive side of the call's channels; ``configs()`` gives ``data_channels``."""

    def __init__(
        self,
        mesh: PeerMesh,
        configs: Callable[[], Sequence[DataChannelConfig]],
        *,
        emit: Callable[[CallEvent], None],
        require_active: Callable[[str], None],
        max_buffered_amount: int = DEFAULT_MAX_BUFFERED_AMOUNT,
    ) -> None:
        self._configs = configs
        self.max_buffered_amount = max_buffered_amount
        self._mesh = mesh
        self._emit = emit
        self._require_active = require_active

    @property
    def labels(self) -> list[str]:
        """The configured labels (what ``wait_connected`` waits for)."""
        return [config.label for config in self._configs()]

    def create(self, config: DataChannelConfig | str) -> dict[str, RTCDataChannel]:
        self._require_active("create_data_channel")
        config = as_config(config)
        self._mesh.labels.add(config.label)
        return {pid: s.create_channel(config) for pid, s in self._mesh.sessions.items()}

    def close(self, label: str) -> bool:
        closed = False
        for session in self._mesh.sessions.values():
            channel = session.channels.pop(label, None)
            if channel is not None:
                channel.close()
                closed = True
        self._mesh.labels.discard(label)
        return closed

    def open_labels(self) -> list[str]:
        labels: dict[str, None] = {}
        for session in self._mesh.sessions.values():
            labels.update(dict.fromkeys(session.channels))
        return list(labels)

    def get(self, peer_id: str, label: str) -> RTCDataChannel | None:
        session = self._mesh.sessions.get(peer_id)
        return None if session is None else session.channels.get(label)

    def send(self, label: str, peer_id: str | None, data: str | bytes) -> bool:
        """``True`` if at least one peer got it; raises for a mistake (see errors.py)."""
        self._require_active("send")
        known = set(self.labels) | self._mesh.labels
        if label not in known:
            raise UnknownChannelError(
                f"no data channel {label!r} in this call (known: {sorted(known)}); list it in "
                "data_channels=[...] or call create_data_channel() first"
            )
        sessions = self._mesh.sessions
        if peer_id is not None and peer_id not in sessions:
            raise UnknownPeerError(
                f"no peer {peer_id!r} in this call; remote peers: {list(sessions)}"
            )
        targets = [
            (pid, ch)
            for pid, s in sessions.items()
            if peer_id is None or pid == peer_id
            if (ch := s.channels.get(label)) is not None and ch.readyState == "open"
        ]
        size = len(data.encode() if isinstance(data, str) else data)
        for pid, channel in targets:
            if channel.bufferedAmount + size > self.max_buffered_amount:
                raise BufferFullError(
                    f"channel {label!r} to peer {pid} already holds {channel.bufferedAmount} "
                    f"bytes (max_buffered_amount={self.max_buffered_amount}); await "
                    f"call.drain({label!r}) before sending more"
                )
        sent = False
        for pid, channel in targets:
            try:
                channel.send(data)
                sent = True
            except InvalidStateError as exc:  # closed between the check and the send
                self._emit(DataChannelErrorEvent(pid, label, exc))
        return sent

    async def drain(
        self,
        label: str | None,
        peer_id: str | None,
        low: int = DEFAULT_LOW_WATER_MARK,
        timeout: float | None = None,
    ) -> None:
        channels = [
            ch
            for pid, session in self._mesh.sessions.items()
            if peer_id is None or pid == peer_id
            for lbl, ch in session.channels.items()
            if label is None or lbl == label
        ]
        waits = [wait_buffered_low(ch, low) for ch in channels]
        if not waits:
            return
        gathered = asyncio.gather(*waits)
        try:
            await asyncio.wait_for(gathered, timeout)
        except TimeoutError:
            queued = sum(ch.bufferedAmount for ch in channels)
            raise TimeoutError(
                f"drain: {queued} bytes still queued (want at most {low} per channel) after "
                f"{timeout:g} s; the peer reads slower than this call sends"
            ) from None
        finally:
            # A cancelled drain leaves the gather holding a CancelledError that asyncio would
            # log as "exception was never retrieved"; the caller already knows it was cancelled.
            if gathered.done() and not gathered.cancelled():
                gathered.exception()

    def buffered_amount(self, label: str, peer_id: str | None) -> int:
        return sum(
            ch.bufferedAmount
            for pid, s in self._mesh.sessions.items()
            if peer_id is None or pid == peer_id
            if (ch := s.channels.get(label)) is not None
        )


def as_text(data: str) -> str:
    if not isinstance(data, str):
        raise TypeError(
            f"send_string takes str, not {type(data).__name__}; use send_binary for bytes "
            "or send_json for other values"
        )
    return data


def to_json(data: Any) -> str:
    try:
        return orjson.dumps(data).decode()
    except TypeError as exc:
        raise TypeError(f"send_json: value is not JSON-serialisable: {exc}") from None
