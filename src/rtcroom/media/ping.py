"""Round-trip time over a data channel, because aiortc reports no candidate-pair RTT.

Protocol (label ``rtcroom-ping``, sub-protocol ``rtcroom-ping/1``, unordered, no
retransmissions so a lost ping is simply lost rather than measured late): a ping is a binary
message of 9 bytes, ``b"P"`` followed by an 8-byte sequence number; the answer is the same
message with the first byte changed to ``b"O"``. Both sides ping once a second and answer the
other's pings. The side that makes the offer creates the channel, and sends nothing on it until
the other side's first ping proves it speaks the protocol; the side that receives the channel
pings first. So a peer that does not know the protocol (a browser app written for Agentuity)
sees one idle channel and no messages, and gives no ping RTT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
import struct
import time
from collections import OrderedDict, deque

from aiortc import RTCDataChannel, RTCPeerConnection

logger = logging.getLogger(__name__)

PING_CHANNEL_LABEL = "rtcroom-ping"
PING_CHANNEL_PROTOCOL = "rtcroom-ping/1"
_PING, _PONG = b"P", b"O"
_SEQ = struct.Struct("!Q")


def create_ping_channel(pc: RTCPeerConnection) -> RTCDataChannel:
    """Create the ping channel; call it on the offering side before ``createOffer()``."""
    return pc.createDataChannel(
        PING_CHANNEL_LABEL, ordered=False, maxRetransmits=0, protocol=PING_CHANNEL_PROTOCOL
    )


def is_ping_channel(channel: RTCDataChannel) -> bool:
    """True for rtcroom's internal channel (a call hides it from the application)."""
    return bool(channel.label == PING_CHANNEL_LABEL)


class RttProbe:
    """Pings every ``interval`` seconds on one channel and answers the peer's pings.

    ``rtt`` is the median of the last ``window`` answers in milliseconds (None before the first).
    """

    def __init__(self, interval: float = 1.0, window: int = 5) -> None:
        if interval <= 0:
            raise ValueError(f"ping interval must be positive, got {interval}")
        self.interval = interval
        self.samples: deque[float] = deque(maxlen=window)
        self.channel: RTCDataChannel | None = None
        self._outstanding: OrderedDict[int, float] = OrderedDict()
        self._seq = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def rtt(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    def attach(self, channel: RTCDataChannel, *, created_here: bool = True) -> None:
        """Use this channel. ``created_here``: we made it (as the offerer), so we wait for the
        peer's first ping before pinging; otherwise we ping as soon as it is open."""
        if not is_ping_channel(channel):
            raise ValueError(f"not the ping channel: {channel.label!r}")
        self.channel = channel
        channel.on("message", self._on_message)
        channel.on("close", self._cancel)
        if created_here:
            return
        if channel.readyState == "open":
            self._start()
        else:
            channel.on("open", self._start)

    def watch(self, pc: RTCPeerConnection) -> None:
        """Attach to the ping channel when the remote side creates it."""

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            if is_ping_channel(channel) and self.channel is None:
                self.attach(channel, created_here=False)

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while self.channel is not None and self.channel.readyState == "open":
            self._seq += 1
            self._outstanding[self._seq] = time.monotonic()
            while len(self._outstanding) > 16:
                self._outstanding.popitem(last=False)
            try:
                self.channel.send(_PING + _SEQ.pack(self._seq))
            except Exception as exc:  # channel closing under us
                logger.debug("ping send failed: %s", exc)
                return
            await asyncio.sleep(self.interval)

    def _on_message(self, message: bytes | str) -> None:
        if not isinstance(message, bytes) or len(message) != 1 + _SEQ.size:
            return
        kind = message[:1]
        if kind == _PING and self.channel is not None and self.channel.readyState == "open":
            self.channel.send(_PONG + message[1:])
            self._start()  # the peer speaks the protocol: measure from this side too
        elif kind == _PONG:
            (seq,) = _SEQ.unpack(message[1:])
            sent = self._outstanding.pop(seq, None)
            if sent is not None:
                self.samples.append((time.monotonic() - sent) * 1000)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
