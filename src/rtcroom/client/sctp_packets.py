"""Bigger SCTP packets where the path and the peer are proven to take them (RFC 8899).

aiortc sends at most 1,189-byte SCTP packets, the size that fits any IPv6 path inside DTLS
and UDP. Each packet costs the same fixed work in pure Python (SCTP, a DTLS record, a
datagram, an event-loop turn) whatever its size, so bulk data is bounded by packets per second.
A 16 KiB packet moves ~14 times the data for about the same work.

Only a peer that can take such a record may get one: aiortc reads DTLS records 1,500 bytes at
a time and OpenSSL keeps the rest of a longer record for the next reads, which would shift
every later packet of that peer. So both sides first say so in their INIT / INIT-ACK with an
optional parameter of a type that RFC 9260 section 3.2.1 tells every other implementation to
skip silently (``CAPABILITY_PARAM``; browsers and aiortc ignore it). Between two such peers,
Datagram Packetization Layer PMTU Discovery (RFC 8899 section 6.2, SCTP) then checks the path:
a HEARTBEAT padded to the candidate size, the size used only once its HEARTBEAT-ACK (which
echoes the padding, so both directions are shown to carry it) comes back. On a T3 timeout (a
possible black hole, RFC 8899 section 4.3) the association returns to 1,189 bytes and probes
again a little later.

aiortc reads the packet size from its module constant ``USERDATA_MAX_LENGTH`` while it
fragments, bursts and grows the congestion window; this gives one association its own copies
of those methods whose globals hold its own value, so other associations (and aiortc itself)
are untouched. As an aiortc patch the constant would become an attribute of the transport,
plus the probe. The receiving side needs :mod:`.dtls_records` (whole records).
"""

from __future__ import annotations

import asyncio
import logging
import os
import types
from typing import Any

import aiortc.rtcsctptransport as aiortc_sctp
from aiortc.rtcsctptransport import (
    SCTP_COMMON_HEADER_LENGTH,
    SCTP_DATA_CHUNK_HEADER_LENGTH,
    HeartbeatAckChunk,
    HeartbeatChunk,
    RTCSctpTransport,
)

log = logging.getLogger("rtcroom.client")

PROBE_PACKET = 16384  # the largest DTLS record plaintext: one SCTP packet per record
PROBE_DELAYS = (0.0, 0.5, 1.5)  # seconds after ESTABLISHED (RFC 8899 MAX_PROBES = 3)
REPROBE_AFTER = 5.0  # seconds after falling back on a T3 timeout
HEARTBEAT_INFO = 1  # RFC 9260 section 3.3.5
# An INIT parameter type not assigned by IANA whose top bits 10 mean "skip, do not report";
# its value is the largest SCTP packet this end takes (4 bytes, network order).
CAPABILITY_PARAM = 0x8F52
TAG = b"rtcroom-plpmtud:"

# The methods that read aiortc's USERDATA_MAX_LENGTH (checked by the canary).
SIZED_METHODS = ("_send", "_transmit", "_t3_expired", "_receive_sack_chunk")


def user_data_for(packet: int) -> int:
    """DATA payload that fills a ``packet``-byte SCTP packet (chunks are padded to 4)."""
    return (packet - SCTP_COMMON_HEADER_LENGTH - SCTP_DATA_CHUNK_HEADER_LENGTH) // 4 * 4


class PacketSize:
    """One association's packet size, and its probe."""

    def __init__(self, sctp: RTCSctpTransport) -> None:
        self.sctp = sctp
        self.base = aiortc_sctp.USERDATA_MAX_LENGTH
        self.constants: dict[str, Any] = dict(vars(aiortc_sctp))
        self._nonce = os.urandom(8)
        self._timers: list[asyncio.TimerHandle] = []
        self._probes: set[asyncio.Future[None]] = set()
        self.peer_takes = 0  # the largest packet the peer said it takes (0: not said)

    @property
    def user_data(self) -> int:
        value: int = self.constants["USERDATA_MAX_LENGTH"]
        return value

    def use(self, user_data: int) -> None:
        if user_data != self.user_data:
            log.debug("SCTP DATA payload per packet: %d bytes", user_data)
        self.constants["USERDATA_MAX_LENGTH"] = user_data

    def resize(self, name: str) -> None:
        """Gives the instance its own copy of aiortc's method ``name`` reading our constants."""
        function = getattr(RTCSctpTransport, name)
        copy = types.FunctionType(
            function.__code__, self.constants, function.__name__, function.__defaults__,
            function.__closure__,
        )  # fmt: skip
        setattr(self.sctp, name, types.MethodType(copy, self.sctp))

    def probe_info(self) -> bytes:
        padding = PROBE_PACKET - SCTP_COMMON_HEADER_LENGTH - 4 - 4  # chunk and param headers
        head = TAG + self._nonce
        return head + bytes(padding - len(head))

    def established(self, after: float = 0.0) -> None:
        if self.peer_takes < PROBE_PACKET:
            return
        loop = asyncio.get_running_loop()
        self._timers = [t for t in self._timers if not t.cancelled()]
        for delay in PROBE_DELAYS:
            self._timers.append(loop.call_later(after + delay, self._send_probe))

    def _send_probe(self) -> None:
        if (
            self.user_data != self.base
            or self.sctp._association_state != self.sctp.State.ESTABLISHED
        ):
            return
        chunk = HeartbeatChunk()
        chunk.params.append((HEARTBEAT_INFO, self.probe_info()))
        probe = asyncio.ensure_future(self._send_quietly(chunk))
        self._probes.add(probe)
        probe.add_done_callback(self._probes.discard)

    async def _send_quietly(self, chunk: HeartbeatChunk) -> None:
        try:
            await self.sctp._send_chunk(chunk)
        except ConnectionError as exc:
            log.debug("SCTP packet size probe not sent: %r", exc)

    def acked(self, chunk: HeartbeatAckChunk) -> bool:
        """True if ``chunk`` answers our probe (then the bigger size is in use)."""
        for kind, value in chunk.params:
            if kind == HEARTBEAT_INFO and value.startswith(TAG):
                if value[len(TAG) : len(TAG) + 8] == self._nonce and len(value) > 1500:
                    self.use(user_data_for(PROBE_PACKET))
                return True
        return False

    def black_hole(self) -> None:
        if self.user_data != self.base:
            self.use(self.base)
            self.cancel()
            self.established(after=REPROBE_AFTER)

    def cancel(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()


_ATTRIBUTE = "_rtcroom_packet_size"


def packet_size(sctp: RTCSctpTransport) -> PacketSize | None:
    """The packet size state of an association this module was installed on."""
    size: PacketSize | None = getattr(sctp, _ATTRIBUTE, None)
    return size


def install(sctp: RTCSctpTransport) -> PacketSize:
    """Before the association starts: per-instance sized methods, the probe on ESTABLISHED."""
    size = PacketSize(sctp)
    setattr(sctp, _ATTRIBUTE, size)
    for name in SIZED_METHODS:
        size.resize(name)

    set_extensions = sctp._set_extensions
    get_extensions = sctp._get_extensions

    def our_extensions(params: list[tuple[int, bytes]]) -> None:
        set_extensions(params)
        params.append((CAPABILITY_PARAM, PROBE_PACKET.to_bytes(4, "big")))

    def their_extensions(params: list[tuple[int, bytes]]) -> None:
        get_extensions(params)
        for kind, value in params:
            if kind == CAPABILITY_PARAM and len(value) == 4:
                size.peer_takes = int.from_bytes(value, "big")

    set_state = sctp._set_state
    receive_chunk = sctp._receive_chunk
    t3_expired = sctp._t3_expired
    stop = sctp.stop

    def state_changed(state: Any) -> None:
        before = sctp._association_state
        set_state(state)
        if state == sctp.State.ESTABLISHED and before != state:
            size.established()
        elif state == sctp.State.CLOSED:
            size.cancel()

    async def receiving(chunk: Any) -> None:
        if isinstance(chunk, HeartbeatAckChunk) and size.acked(chunk):
            return
        await receive_chunk(chunk)

    def expired() -> None:
        size.black_hole()
        t3_expired()

    async def stopping() -> None:
        size.cancel()
        await stop()

    sctp._set_extensions = our_extensions  # type: ignore[method-assign]
    sctp._get_extensions = their_extensions  # type: ignore[method-assign]
    sctp._set_state = state_changed  # type: ignore[method-assign]
    sctp._receive_chunk = receiving  # type: ignore[method-assign]
    sctp._t3_expired = expired  # type: ignore[method-assign]
    sctp.stop = stopping  # type: ignore[method-assign]
    return size
