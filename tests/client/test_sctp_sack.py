"""rtcroom.client.sctp_sack: the indexed SACK handler does exactly what aiortc's does.

Two real associations send the same messages; a lossy network model delivers what the first
one sends (new chunks, retransmissions, FORWARD TSNs), its receiver answers with SACKs, and both
associations handle the same SACKs, one with aiortc's handler and one with rtcroom's. After
every SACK their sent queues, chunk flags, flight size, congestion state and what they sent
must be identical.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from aiortc.rtcsctptransport import (
    DataChunk,
    ForwardTsnChunk,
    RTCSctpTransport,
    SackChunk,
)

from rtcroom.client import sctp_sack

from .sctp_lab import lab_transport, stop_timers

MOD = 2**32
START_TSN = MOD - 40  # the TSNs wrap around during the run


class Receiver:
    """The far end: which TSNs arrived, and the SACK that says so."""

    def __init__(self) -> None:
        self.cumulative = (START_TSN - 1) % MOD
        self.above: set[int] = set()

    def deliver(self, chunk: Any) -> None:
        if isinstance(chunk, ForwardTsnChunk):
            if (chunk.cumulative_tsn - self.cumulative) % MOD < MOD // 2:
                self.cumulative = chunk.cumulative_tsn
        elif isinstance(chunk, DataChunk):
            if (chunk.tsn - self.cumulative) % MOD < MOD // 2:
                self.above.add(chunk.tsn)
        while (self.cumulative + 1) % MOD in self.above:
            self.cumulative = (self.cumulative + 1) % MOD
        self.above = {t for t in self.above if 0 < (t - self.cumulative) % MOD < MOD // 2}

    def sack(self) -> SackChunk:
        offsets = sorted((t - self.cumulative) % MOD for t in self.above)
        gaps: list[tuple[int, int]] = []
        for offset in offsets:
            if gaps and gaps[-1][1] == offset - 1:
                gaps[-1] = (gaps[-1][0], offset)
            else:
                gaps.append((offset, offset))
        chunk = SackChunk()
        chunk.cumulative_tsn = self.cumulative
        chunk.advertised_rwnd = 1 << 20
        chunk.gaps = gaps
        return chunk


def state(sctp: RTCSctpTransport) -> dict[str, Any]:
    return {
        "queue": [
            (c.tsn, c._acked, c._misses, c._retransmit, c._in_flight, c._abandoned, c._sent_count)
            for c in sctp._sent_queue
        ],
        "outbound": len(sctp._outbound_queue),
        "flight": sctp._flight_size,
        "cwnd": sctp._cwnd,
        "ssthresh": sctp._ssthresh,
        "pba": sctp._partial_bytes_acked,
        "recovery": sctp._fast_recovery_exit,
        "ack_point": sctp._advanced_peer_ack_tsn,
    }


def sent_ids(chunks: list[Any]) -> list[tuple[str, int]]:
    return [
        (type(c).__name__, c.tsn if isinstance(c, DataChunk) else getattr(c, "cumulative_tsn", 0))
        for c in chunks
    ]


@pytest.mark.parametrize("seed", range(12))
async def test_indexed_sack_handler_matches_aiortcs(seed: int) -> None:
    rng = random.Random(seed)
    reference, reference_sent = lab_transport(START_TSN)
    indexed, indexed_sent = lab_transport(START_TSN)
    sctp_sack.install(indexed)
    receiver = Receiver()
    loss = rng.choice([0.0, 0.02, 0.1, 0.3])
    try:
        for sctp in (reference, indexed):
            sctp._cwnd = 40 * 1200
        # Messages of 1 to 9 fragments; some partially reliable (RFC 3758 abandonment).
        messages = []
        for _ in range(60):
            size = rng.randint(1, 9) * 1100
            limit = rng.choice([None, None, 0, 1])
            messages.append((size, limit))
        for size, limit in messages:
            data = bytes([size % 251]) * size
            for sctp in (reference, indexed):
                await sctp._send(1, 53, data, max_retransmits=limit, ordered=limit is None)
        delivered = 0
        for step in range(400):
            assert sent_ids(reference_sent) == sent_ids(indexed_sent), f"step {step}"
            pending = reference_sent[delivered:]
            delivered = len(reference_sent)
            for chunk in pending:
                if rng.random() >= loss:
                    receiver.deliver(chunk)
            # SACKs get lost too; one arrives anyway now and then so the run moves on.
            if rng.random() < loss and step % 5:
                continue
            sack = receiver.sack()
            await reference._receive_sack_chunk(sack)
            await indexed._receive_sack_chunk(sack)
            assert state(indexed) == state(reference), f"seed {seed} step {step}"
            if not reference._sent_queue and not reference._outbound_queue:
                break
            if step % 7 == 6 and reference._sent_queue:
                # T3 expiry: both mark everything for retransmission.
                reference._t3_expired()
                indexed._t3_expired()
        assert sent_ids(reference_sent) == sent_ids(indexed_sent)
        assert state(indexed) == state(reference)
    finally:
        stop_timers(reference)
        stop_timers(indexed)
