"""The receiver-side speed-ups: delayed SACKs keep RFC 9260's rules, lazy reassembly delivers
exactly what aiortc's reassembly delivers."""

from __future__ import annotations

import asyncio
import random

import pytest
from aiortc.rtcsctptransport import (
    SCTP_DATA_FIRST_FRAG,
    SCTP_DATA_LAST_FRAG,
    SCTP_DATA_UNORDERED,
    DataChunk,
    ForwardTsnChunk,
    InboundStream,
    SackChunk,
)

from rtcroom.client import sctp_delayed_sack
from rtcroom.client.sctp_reassembly import LazyInboundStream

from .sctp_lab import lab_transport, packet_to, stop_timers

REMOTE_TSN = 5000


def data(
    tsn: int, flags: int = SCTP_DATA_FIRST_FRAG | SCTP_DATA_LAST_FRAG, seq: int = 0
) -> DataChunk:
    chunk = DataChunk(flags=flags)
    chunk.tsn, chunk.stream_id, chunk.stream_seq, chunk.protocol = tsn, 1, seq, 53
    chunk.user_data = b"x" * 10
    return chunk


async def test_delayed_sack_every_second_packet_at_once_on_gaps_and_by_timer() -> None:
    sctp, sent = lab_transport(1, remote_tsn=REMOTE_TSN)
    sctp._data_channels = {}
    sctp_delayed_sack.install(sctp)

    async def receive(chunk: DataChunk | ForwardTsnChunk) -> list[SackChunk]:
        before = len(sent)
        await sctp._handle_data(packet_to(sctp, chunk))
        return [c for c in sent[before:] if isinstance(c, SackChunk)]

    try:
        seq = iter(range(100))
        assert await receive(data(REMOTE_TSN, seq=next(seq))) == []  # first packet: wait
        (sack,) = await receive(data(REMOTE_TSN + 1, seq=next(seq)))  # second: SACK
        assert sack.cumulative_tsn == REMOTE_TSN + 1 and not sack.gaps
        # A gap (TSN +2 missing) is reported at once, each time.
        (sack,) = await receive(data(REMOTE_TSN + 3, seq=3))
        assert sack.gaps == [(2, 2)]
        # Filling it is reported at once too.
        (sack,) = await receive(data(REMOTE_TSN + 2, seq=2))
        assert sack.cumulative_tsn == REMOTE_TSN + 3 and not sack.gaps
        # A duplicate at once.
        (sack,) = await receive(data(REMOTE_TSN + 1, seq=1))
        assert sack.duplicates == [REMOTE_TSN + 1]
        # A lone packet is acknowledged by the timer, within 200 ms.
        assert await receive(data(REMOTE_TSN + 4, seq=4)) == []
        before = len(sent)
        await asyncio.sleep(sctp_delayed_sack.SACK_DELAY + 0.1)
        (sack,) = [c for c in sent[before:] if isinstance(c, SackChunk)]
        assert sack.cumulative_tsn == REMOTE_TSN + 4
        # A FORWARD TSN at once (RFC 3758 3.6).
        forward = ForwardTsnChunk()
        forward.cumulative_tsn = REMOTE_TSN + 6
        forward.streams = [(1, 6)]
        (sack,) = await receive(forward)
        assert sack.cumulative_tsn == REMOTE_TSN + 6
    finally:
        stop_timers(sctp)


def fragments(tsn: int, seq: int, count: int, unordered: bool) -> list[DataChunk]:
    chunks = []
    for i in range(count):
        flags = SCTP_DATA_UNORDERED if unordered else 0
        flags |= SCTP_DATA_FIRST_FRAG if i == 0 else 0
        flags |= SCTP_DATA_LAST_FRAG if i == count - 1 else 0
        chunk = data(tsn + i, flags, 0 if unordered else seq)
        chunk.user_data = bytes([seq % 256, i % 256]) * 3
        chunks.append(chunk)
    return chunks


@pytest.mark.parametrize("seed", range(20))
def test_lazy_reassembly_delivers_what_aiortc_delivers(seed: int) -> None:
    rng = random.Random(seed)
    unordered = rng.random() < 0.5
    chunks: list[DataChunk] = []
    tsn = 2**32 - 30 if seed % 2 else 100
    for seq in range(40):
        count = rng.choice([1, 1, 2, 3, 7])
        chunks += fragments(tsn % 2**32, seq, count, unordered)
        tsn += count
    for chunk in chunks:
        chunk.tsn %= 2**32
    # Mostly in order, some swapped nearby (reordering), as a network delivers them.
    order = list(range(len(chunks)))
    for _ in range(len(chunks) // 4):
        i = rng.randrange(len(order) - 3)
        j = i + rng.randint(1, 3)
        order[i], order[j] = order[j], order[i]
    reference, lazy = InboundStream(), LazyInboundStream()
    got_reference, got_lazy = [], []
    for index in order:
        reference.add_chunk(chunks[index])
        got_reference += list(reference.pop_messages())
        lazy.add_chunk(chunks[index])
        got_lazy += list(lazy.pop_messages())
    assert got_lazy == got_reference
    assert len(got_reference) == 40  # every message came out
