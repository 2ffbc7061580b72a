"""Reassembly that looks for complete messages only when one can have completed.

aiortc's ``InboundStream.pop_messages`` walks the stream's whole reassembly list after every
DATA chunk: a 64 KiB message arrives as 57 fragments, so it is walked 57 times, ~1,600 steps
per message. A message can only become complete when its last fragment arrives or when a
chunk fills a hole; a chunk appended after every chunk already held, without the
last-fragment flag, completes nothing (every earlier completion was delivered when it
happened). This stream skips the walk in exactly that case and in no other, so delivery
order and content are unchanged; FORWARD TSN handling, which calls ``pop_messages`` after
moving the stream's sequence number, always walks.

As an aiortc patch it would be the same test in ``InboundStream.add_chunk``.
"""

from __future__ import annotations

from collections.abc import Iterator

from aiortc.rtcsctptransport import (
    SCTP_DATA_LAST_FRAG,
    DataChunk,
    InboundStream,
    RTCSctpTransport,
)
from aiortc.utils import uint32_gt


class LazyInboundStream(InboundStream):
    def __init__(self) -> None:
        super().__init__()
        self._nothing_new = False

    def add_chunk(self, chunk: DataChunk) -> None:
        tail = self.reassembly[-1].tsn if self.reassembly else None
        super().add_chunk(chunk)
        self._nothing_new = (tail is None or uint32_gt(chunk.tsn, tail)) and not (
            chunk.flags & SCTP_DATA_LAST_FRAG
        )

    def pop_messages(self) -> Iterator[tuple[int, int, bytes]]:
        if self._nothing_new:
            self._nothing_new = False
            return iter(())
        return super().pop_messages()


def install(sctp: RTCSctpTransport) -> None:
    streams = sctp._inbound_streams

    def get_inbound_stream(stream_id: int) -> InboundStream:
        stream = streams.get(stream_id)
        if stream is None:
            stream = streams[stream_id] = LazyInboundStream()
        return stream

    sctp._get_inbound_stream = get_inbound_stream  # type: ignore[method-assign]
