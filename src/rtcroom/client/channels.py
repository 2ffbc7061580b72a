"""Data channels: their configuration, their events, how messages are decoded, back-pressure.

aiortc queues every ``send`` in memory without limit and reports the queue as
``bufferedAmount``; ``bufferedamountlow`` fires when it falls to ``bufferedAmountLowThreshold``.
The call refuses a send past a high-water mark (:class:`~rtcroom.client.BufferFullError`) and
offers ``await call.drain(label)``, built on :func:`wait_buffered_low`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiortc import RTCDataChannel, RTCPeerConnection

from .events import (
    CallEvent,
    DataChannelCloseEvent,
    DataChannelMessageEvent,
    DataChannelOpenEvent,
)

DEFAULT_MAX_BUFFERED_AMOUNT = 16 * 1024 * 1024
"""A send is refused when one channel already holds this much (Chromium's limit too)."""
DEFAULT_LOW_WATER_MARK = 1024 * 1024
"""``drain()`` returns once a channel holds no more than this."""


@dataclass(frozen=True, slots=True)
class DataChannelConfig:
    """One data channel to open with each peer (Agentuity's ``DataChannelConfig``).

    Channels are negotiated in-band (DCEP) by the side that makes the first offer. Set at most
    one of ``max_packet_life_time`` (ms) and ``max_retransmits`` for a partially reliable
    channel.
    """

    label: str
    ordered: bool = True
    max_packet_life_time: int | None = None
    max_retransmits: int | None = None
    protocol: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label:
            raise ValueError(f"a data channel needs a non-empty string label, got {self.label!r}")
        if self.max_packet_life_time is not None and self.max_retransmits is not None:
            raise ValueError(
                f"data channel {self.label!r}: set max_packet_life_time or max_retransmits, "
                "not both (WebRTC allows one partial-reliability rule per channel)"
            )

    def create_on(self, pc: RTCPeerConnection) -> RTCDataChannel:
        return pc.createDataChannel(
            self.label,
            ordered=self.ordered,
            maxPacketLifeTime=self.max_packet_life_time,
            maxRetransmits=self.max_retransmits,
            protocol=self.protocol,
        )


def config_of(channel: RTCDataChannel) -> DataChannelConfig:
    """The options ``channel`` was made with, ours or the peer's: what a rebuilt connection
    opens it again with."""
    return DataChannelConfig(
        channel.label,
        ordered=channel.ordered,
        max_packet_life_time=channel.maxPacketLifeTime,
        max_retransmits=channel.maxRetransmits,
        protocol=channel.protocol,
    )


def as_config(item: DataChannelConfig | str) -> DataChannelConfig:
    """Accept a bare label as shorthand for ``DataChannelConfig(label)``."""
    if isinstance(item, DataChannelConfig):
        return item
    if isinstance(item, str):
        return DataChannelConfig(item)
    raise TypeError(f"data channels are DataChannelConfig objects or labels, got {item!r}")


def watch_channel(
    channel: RTCDataChannel,
    channels: dict[str, RTCDataChannel],
    peer_id: str,
    *,
    emit: Callable[[CallEvent], None],
    changed: Callable[[], None],
    live: Callable[[], bool],
) -> None:
    """Keep ``channel`` in ``channels`` under its label (as the browser client keys them) while
    it is open, and report its open, close and messages while ``live()``."""
    label = channel.label
    channels[label] = channel

    def on_open() -> None:
        if live():
            emit(DataChannelOpenEvent(peer_id, label))
            changed()

    def on_close() -> None:
        if channels.get(label) is channel:
            del channels[label]
        if live():
            emit(DataChannelCloseEvent(peer_id, label))
            changed()

    def on_message(raw: str | bytes) -> None:
        if live():
            emit(DataChannelMessageEvent(peer_id, label, decode(raw), raw))

    channel.on("open", on_open)
    channel.on("close", on_close)
    channel.on("message", on_message)
    if channel.readyState == "open":  # aiortc announces remote channels already open
        on_open()


def decode(raw: str | bytes) -> Any:
    """What the browser client delivers: text that parses as JSON arrives parsed."""
    if isinstance(raw, str):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw
    return raw


def as_bytes(data: bytes | bytearray | memoryview) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    raise TypeError(
        f"binary data must be bytes, bytearray or memoryview, not {type(data).__name__}"
    )


async def wait_buffered_low(channel: RTCDataChannel, low: int) -> None:
    """Return once ``channel.bufferedAmount <= low`` or the channel is no longer open."""
    if channel.bufferedAmount <= low or channel.readyState != "open":
        return
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not done.done():
            done.set_result(None)

    channel.bufferedAmountLowThreshold = low
    channel.on("bufferedamountlow", wake)
    channel.on("close", wake)
    try:
        await done
    finally:
        # aiortc drops every listener itself when the channel closes.
        with contextlib.suppress(KeyError):
            channel.remove_listener("bufferedamountlow", wake)
        with contextlib.suppress(KeyError):
            channel.remove_listener("close", wake)
