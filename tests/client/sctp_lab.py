"""A real aiortc ``RTCSctpTransport`` without a network, for the data-path tests.

The association is put straight into ESTABLISHED and every chunk it sends is recorded instead
of going to DTLS, so a test can feed it SACKs or DATA packets and see exactly what it answers.
"""

from __future__ import annotations

from aiortc import RTCCertificate, RTCDtlsTransport, RTCIceGatherer, RTCIceTransport
from aiortc.rtcsctptransport import Chunk, RTCSctpTransport, serialize_packet

_CERTIFICATE: list[RTCCertificate] = []


def lab_transport(local_tsn: int, remote_tsn: int = 1000) -> tuple[RTCSctpTransport, list[Chunk]]:
    """An established association whose next TSN is ``local_tsn``; returns it and its sent
    chunks (in order)."""
    if not _CERTIFICATE:
        _CERTIFICATE.append(RTCCertificate.generateCertificate())
    dtls = RTCDtlsTransport(RTCIceTransport(RTCIceGatherer()), _CERTIFICATE)
    sctp = RTCSctpTransport(dtls)
    sctp._remote_port = 5000
    sctp._association_state = RTCSctpTransport.State.ESTABLISHED
    sctp._local_tsn = local_tsn
    sctp._last_sacked_tsn = sctp._advanced_peer_ack_tsn = (local_tsn - 1) % 2**32
    sctp._last_received_tsn = (remote_tsn - 1) % 2**32
    sctp._ssthresh = 1 << 20
    sctp._remote_partial_reliability = True
    sent: list[Chunk] = []

    async def record(chunk: Chunk) -> None:
        sent.append(chunk)

    sctp._send_chunk = record  # type: ignore[method-assign]
    return sctp, sent


def packet_to(sctp: RTCSctpTransport, *chunks: Chunk) -> bytes:
    """An SCTP packet for ``sctp._handle_data`` (one chunk per packet, as aiortc sends)."""
    assert len(chunks) == 1
    return serialize_packet(5000, 5000, sctp._local_verification_tag, chunks[0])


def stop_timers(sctp: RTCSctpTransport) -> None:
    sctp._t3_cancel()
    sctp._t1_cancel()
    sctp._reconfig_timer_cancel()
