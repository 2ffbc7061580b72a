"""Delayed SACKs for aiortc's SCTP receiver (RFC 9260 section 6.2).

aiortc answers every packet that carries DATA with its own SACK: as many SACKs as data packets,
each one a DTLS record, a datagram and a pass through the sender's SACK handling. RFC 9260
section 6.2 lets a receiver wait for a second packet (never longer than 200 ms here, the RFC's
ceiling is 500 ms) and asks it to acknowledge at once when something is out of the ordinary:
a gap (a lost or reordered packet), a duplicate, a gap just filled, or a FORWARD TSN
(RFC 3758 section 3.6). This keeps those rules and halves the SACKs of a bulk transfer.

It replaces two methods on one ``RTCSctpTransport`` instance: ``_send_sack`` (aiortc calls it
after each packet that needs acknowledging) decides whether to send now or later, and
``_receive_forward_tsn_chunk`` marks the next SACK as urgent. As an aiortc patch it would be a
counter and a timer in ``_handle_data``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc.rtcsctptransport import RTCSctpTransport

log = logging.getLogger("rtcroom.client")

SACK_EVERY_PACKETS = 2  # "at least every second packet" (RFC 9260 6.2)
SACK_DELAY = 0.2  # seconds; the RFC's recommended delayed-ack bound


class DelayedSack:
    """The SACK policy of one association; ``install`` wires it in."""

    def __init__(self, sctp: RTCSctpTransport) -> None:
        self.sctp = sctp
        self._send_now: Callable[[], Awaitable[None]] = sctp._send_sack
        self._unacked_packets = 0
        self._urgent = False
        self._had_gaps = False
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Future[None] | None = None

    async def on_packet(self) -> None:
        """Stands in for ``_send_sack``: called after each packet that needs a SACK."""
        sctp = self.sctp
        self._unacked_packets += 1
        gaps = bool(sctp._sack_misordered)
        if (
            self._urgent
            or gaps
            or self._had_gaps  # the gap was just filled
            or sctp._sack_duplicates
            or self._unacked_packets >= SACK_EVERY_PACKETS
            or sctp._association_state != RTCSctpTransport.State.ESTABLISHED
        ):
            await self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(SACK_DELAY, self._expired)

    async def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._unacked_packets = 0
        self._urgent = False
        self._had_gaps = bool(self.sctp._sack_misordered)
        await self._send_now()

    def _expired(self) -> None:
        self._timer = None
        if self.sctp._sack_needed:
            self._flushing = asyncio.ensure_future(self._flush_quietly())

    async def _flush_quietly(self) -> None:
        try:
            await self.flush()
        except ConnectionError as exc:  # the association went away meanwhile
            log.debug("delayed SACK not sent: %r", exc)

    def urgent(self) -> None:
        self._urgent = True

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def install(sctp: RTCSctpTransport) -> DelayedSack:
    policy = DelayedSack(sctp)
    receive_forward_tsn = sctp._receive_forward_tsn_chunk

    async def forward_tsn(chunk: Any) -> None:
        policy.urgent()
        await receive_forward_tsn(chunk)

    stop = sctp.stop

    async def stopping() -> None:
        policy.cancel()
        await stop()

    sctp._send_sack = policy.on_packet  # type: ignore[method-assign]
    sctp._receive_forward_tsn_chunk = forward_tsn  # type: ignore[method-assign]
    sctp.stop = stopping  # type: ignore[method-assign]
    return policy
