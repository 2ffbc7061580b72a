"""SACK handling in time proportional to what a SACK reports, not to the sent queue.

aiortc's ``_receive_sack_chunk`` turns the gap blocks into a set of TSNs, then walks the sent
queue twice from the front (newly acked, then missing), comparing TSNs with ``uint32_gt`` at
each step, on every SACK that carries a gap. After one lost packet every SACK carries one, so
a window of n packets costs O(n²) while the loss is repaired.

The sent queue holds consecutive TSNs (aiortc moves chunks into it in TSN order and only ever
removes from the front), so a TSN's place in it is its distance from the first one. This
handler visits only the chunks a gap block newly covers (it remembers how far each block
start was already acknowledged) and the holes between blocks up to the highest TSN newly
acknowledged, the chunks RFC 9260 section 7.2.4 counts misses for. (A block is remembered only
while none of its chunks awaits retransmission, and T3 expiry forgets them all.) Everything
else (RTO measurement, congestion window, fast recovery, T3, RFC 3758 ack point) follows
aiortc's own rules unchanged; tests/client/test_sctp_sack.py runs both handlers on the same
SACKs and compares their state.

As an aiortc patch it would replace the two loops over ``_sent_queue`` in
``_receive_sack_chunk``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiortc.rtcsctptransport import (
    SCTP_TSN_MODULO,
    USERDATA_MAX_LENGTH,
    RTCSctpTransport,
    SackChunk,
)
from aiortc.utils import uint32_gt, uint32_gte


class SackHandler:
    def __init__(self, sctp: RTCSctpTransport) -> None:
        self.sctp = sctp
        # gap block start TSN → highest TSN of that block already marked acked
        self._acked_in_block: dict[int, int] = {}
        self.done_bytes = 0
        # The DATA payload per packet (the MTU of RFC 9260's rules); sctp_packets changes it.
        self.user_data: Callable[[], int] = lambda: USERDATA_MAX_LENGTH

    async def receive(self, chunk: SackChunk) -> None:
        """Stands in for ``RTCSctpTransport._receive_sack_chunk``."""
        s = self.sctp
        if uint32_gt(s._last_sacked_tsn, chunk.cumulative_tsn):
            return
        received_time = time.time()
        cumulative = s._last_sacked_tsn = chunk.cumulative_tsn
        cwnd_fully_utilized = s._flight_size >= s._cwnd
        done = 0
        self.done_bytes = 0

        queue = s._sent_queue
        while queue and uint32_gte(cumulative, queue[0].tsn):
            schunk = queue.popleft()
            done += 1
            if not schunk._acked:
                self.done_bytes += schunk._book_size
            s._flight_size_decrease(schunk)
            if done == 1 and schunk._sent_count == 1 and schunk._sent_time is not None:
                s._update_rto(received_time - schunk._sent_time)

        loss = False
        if chunk.gaps and queue:
            loss = self._gap_blocks(chunk, cumulative)
        else:
            self._acked_in_block = {}

        mtu = self.user_data()
        if s._fast_recovery_exit is None:
            if done and cwnd_fully_utilized:
                if s._cwnd <= s._ssthresh:
                    s._cwnd += min(self.done_bytes, mtu)
                else:
                    s._partial_bytes_acked += self.done_bytes
                    if s._partial_bytes_acked >= s._cwnd:
                        s._partial_bytes_acked -= s._cwnd
                        s._cwnd += mtu
            if loss:
                s._ssthresh = max(s._cwnd // 2, 4 * mtu)
                s._cwnd = s._ssthresh
                s._partial_bytes_acked = 0
                s._fast_recovery_exit = queue[-1].tsn
                s._fast_recovery_transmit = True
        elif uint32_gte(chunk.cumulative_tsn, s._fast_recovery_exit):
            s._fast_recovery_exit = None

        if not queue:
            s._t3_cancel()
        elif done:
            s._t3_restart()

        s._update_advanced_peer_ack_point()
        await s._data_channel_flush()
        await s._transmit()

    def _gap_blocks(self, chunk: SackChunk, cumulative: int) -> bool:
        """Marks what the gap blocks newly acknowledge, strikes the holes below it; True if a
        chunk reached three misses (a loss)."""
        s = self.sctp
        queue = s._sent_queue
        first, size = queue[0].tsn, len(queue)

        def index_of(tsn: int) -> int:  # may be negative (TSNs already left the queue)
            index: int = (tsn - first + HALF) % SCTP_TSN_MODULO - HALF
            return index

        gaps = sorted(chunk.gaps)  # RFC 9260 sends them in order; do not rely on it
        blocks: dict[int, int] = {}
        newest = -1  # index of the highest TSN newly acked
        for start, end in gaps:
            block_start = (cumulative + start) % SCTP_TSN_MODULO
            block_end = (cumulative + end) % SCTP_TSN_MODULO
            lo = index_of(block_start)
            acked_up_to = self._acked_in_block.get(block_start)
            if acked_up_to is not None and uint32_gte(acked_up_to, block_start):
                lo = index_of(acked_up_to) + 1  # the previous SACK marked these already
            settled = True
            for index in range(max(lo, 0), min(index_of(block_end), size - 1) + 1):
                schunk = queue[index]
                if not schunk._acked:
                    self.done_bytes += schunk._book_size
                    schunk._acked = True
                    newest = max(newest, index)
                s._flight_size_decrease(schunk)
                # aiortc still resends an acked chunk marked for retransmission, which puts
                # it in flight again: such a block is walked in full next time.
                settled = settled and not schunk._retransmit
            if settled:
                blocks[block_start] = block_end
        self._acked_in_block = blocks
        if newest < 0:
            return False

        loss = False
        index = max(index_of((cumulative + 1) % SCTP_TSN_MODULO), 0)
        for start, end in gaps:
            hole_end = min(index_of((cumulative + start - 1) % SCTP_TSN_MODULO), newest)
            while index <= hole_end:
                schunk = queue[index]
                schunk._misses += 1
                if schunk._misses == 3:
                    schunk._misses = 0
                    if not s._maybe_abandon(schunk):
                        schunk._retransmit = True
                    schunk._acked = False
                    s._flight_size_decrease(schunk)
                    loss = True
                index += 1
            index = max(index, index_of((cumulative + end + 1) % SCTP_TSN_MODULO))
            if index > newest:
                break
        return loss

    def forget(self) -> None:
        """After T3 expiry every chunk is sent again: nothing is known to be marked."""
        self._acked_in_block = {}


HALF = SCTP_TSN_MODULO // 2


def install(sctp: RTCSctpTransport) -> SackHandler:
    handler = SackHandler(sctp)
    t3_expired = sctp._t3_expired

    def expired() -> None:
        handler.forget()
        t3_expired()

    sctp._receive_sack_chunk = handler.receive  # type: ignore[method-assign]
    sctp._t3_expired = expired  # type: ignore[method-assign]
    return handler
