"""Canaries: every aiortc/aioice internal that rtcroom patches or reaches into.

rtcroom pins ``aiortc>=1.16,<1.17``. When aiortc or aioice is upgraded, a renamed or reshaped
internal fails here, in one place, with the rtcroom fix that depends on it, instead of as a
silent stall in a call. Each test names what it guards; fix that code, then the canary.
"""

from __future__ import annotations

import inspect
import socket
from collections.abc import AsyncIterator
from typing import Any

import aioice.ice
import aiortc.rtcdtlstransport
import aiortc.rtcsctptransport
import pytest
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpTransceiver
from aiortc.sdp import SessionDescription, candidate_from_sdp

from rtcroom.client import aiortc_fixes
from rtcroom.client.settings import SessionSettings
from rtcroom.client.tuning import grow_receive_buffers
from rtcroom.ice import rtc_configuration
from rtcroom.media.quality import QualityMonitor, candidate_pair_info

from ..media.peers import Peer, negotiate, wait_connected

PC = "_RTCPeerConnection__"  # aiortc's name-mangled private attributes of RTCPeerConnection


def parameters(fn: Any) -> list[str]:
    return [p for p in inspect.signature(fn).parameters if p != "self"]


def assert_internal(owner: Any, name: str, used_by: str) -> Any:
    assert hasattr(owner, name), (
        f"aiortc/aioice no longer has {getattr(owner, '__name__', type(owner).__name__)}.{name}; "
        f"{used_by} depends on it: fix that code for the new version, then this canary"
    )
    return getattr(owner, name)


# --- rtcroom/ice.py: the ICE host-address filter (ice_host_addresses) ---------------------------


def test_aioice_get_host_addresses_is_a_module_function_called_by_keyword() -> None:
    used_by = "rtcroom.ice.host_addresses (the ice_host_addresses option; loopback calls)"
    fn = assert_internal(aioice.ice, "get_host_addresses", used_by)
    assert parameters(fn) == ["use_ipv4", "use_ipv6"], (
        f"{used_by}: signature is now {parameters(fn)}"
    )
    # rtcroom replaces the module attribute, so aioice must look it up there at gathering time,
    # passing these keywords.
    source = inspect.getsource(aioice.ice.Connection)
    assert "get_host_addresses(" in source and "use_ipv4=" in source, (
        f"{used_by}: aioice's Connection no longer calls the module's get_host_addresses"
    )


# --- rtcroom/client/aiortc_fixes.py --------------------------------------------------------------


async def test_transceiver_internals_for_create_offer_rollback_and_sit_out_answer() -> None:
    pc = RTCPeerConnection(rtc_configuration([]))
    try:
        transceiver = pc.addTransceiver("video")
        for name, fix in (
            ("_codecs", "create_offer (keep negotiated payload types in a re-offer)"),
            ("_headerExtensions", "create_offer (keep negotiated header extension ids)"),
            ("_offerDirection", "sit_out_answer (leave unmentioned transceivers out of an answer)"),
        ):
            assert_internal(transceiver, name, f"rtcroom.client.aiortc_fixes.{fix}")
    finally:
        await pc.close()
    used_by = "rtcroom.client.aiortc_fixes.rollback (SDP rollback in glare)"
    assert parameters(assert_internal(RTCRtpTransceiver, "_set_mid", used_by)) == ["mid"]
    assert parameters(assert_internal(RTCRtpTransceiver, "_set_mline_index", used_by)) == ["idx"]


async def test_peer_connection_internals_for_rollback_and_start_media() -> None:
    pc = RTCPeerConnection(rtc_configuration([]))
    try:
        used_by = "rtcroom.client.aiortc_fixes.rollback (SDP rollback in glare)"
        assert_internal(pc, f"{PC}pendingLocalDescription", used_by)
        set_state = assert_internal(RTCPeerConnection, f"{PC}setSignalingState", used_by)
        assert parameters(set_state) == ["state"]
        used_by = "rtcroom.client.aiortc_fixes.start_media (media added before DTLS connected)"
        connect = assert_internal(RTCPeerConnection, f"{PC}connect", used_by)
        assert inspect.iscoroutinefunction(connect) and parameters(connect) == [], used_by
    finally:
        await pc.close()


def test_sdp_parser_used_by_create_offer_and_trickle() -> None:
    sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    assert SessionDescription.parse(sdp).media == [], "aiortc.sdp.SessionDescription.parse changed"
    candidate = candidate_from_sdp("1 1 udp 2122260223 127.0.0.1 50000 typ host")
    assert (candidate.ip, candidate.port, candidate.type) == ("127.0.0.1", 50000, "host"), (
        "aiortc.sdp.candidate_from_sdp changed; rtcroom.client.session uses it for trickled ICE"
    )


# --- the RTP hook of quality stats (aiortc_fixes.ReceivedBytes) ---------------------------------


def test_receiver_rtp_handler_for_received_bytes() -> None:
    used_by = "rtcroom.client.aiortc_fixes.ReceivedBytes (inbound bitrate in quality stats)"
    handler = assert_internal(RTCRtpReceiver, "_handle_rtp_packet", used_by)
    assert inspect.iscoroutinefunction(handler), used_by
    assert parameters(handler) == ["packet", "arrival_time_ms"], used_by
    # The wrapper replaces the instance attribute, so the DTLS transport must call it there.
    source = inspect.getsource(aiortc.rtcdtlstransport)
    assert "receiver._handle_rtp_packet(packet, arrival_time_ms=" in source, used_by


# --- a connected pair: ICE objects of client/tuning.py and media/quality.py ---------------------


@pytest.fixture
async def connected() -> AsyncIterator[tuple[Peer, Peer]]:
    a, b = Peer("a"), Peer("b")
    a.pc.createDataChannel("canary")
    a.pc.addTransceiver("audio")
    try:
        await negotiate(a, b)
        await wait_connected(a, b)
        yield a, b
    finally:
        await a.pc.close()
        await b.pc.close()


async def test_ice_internals_for_receive_buffers_and_candidate_pair(
    connected: tuple[Peer, Peer],
) -> None:
    pc = connected[0].pc
    used_by = "rtcroom.client.tuning.grow_receive_buffers (udp_receive_buffer option)"
    transports = assert_internal(pc, f"{PC}iceTransports", used_by)
    assert transports, used_by
    connection = assert_internal(next(iter(transports)), "_connection", used_by)
    assert isinstance(connection, aioice.ice.Connection), used_by
    protocols = assert_internal(connection, "_protocols", used_by)
    sockets = [p.transport.get_extra_info("socket") for p in protocols]
    assert sockets and all(hasattr(s, "getsockopt") for s in sockets), used_by
    before = [s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) for s in sockets]
    grow_receive_buffers(pc, 8 << 20)  # it logs instead of raising if the shape changed
    after = [s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) for s in sockets]
    assert all(x > y for x, y in zip(after, before, strict=True)), f"{used_by}: {before} {after}"

    used_by = "rtcroom.media.quality.candidate_pair_info (candidate_pair in quality stats)"
    nominated = assert_internal(connection, "_nominated", used_by)
    pair = nominated[1]
    assert pair.local_candidate.type == "host" and pair.remote_candidate.type == "host", used_by
    info = candidate_pair_info(pc)
    assert info is not None and info.protocol == "udp" and info.using_relay is False, used_by


async def test_codec_clock_rate_and_receivers_for_quality_stats(
    connected: tuple[Peer, Peer],
) -> None:
    pc = connected[1].pc
    used_by = "rtcroom.media.quality (audio jitter in ms needs the negotiated clock rate)"
    audio = next(t for t in pc.getTransceivers() if t.kind == "audio")
    codecs = assert_internal(audio, "_codecs", used_by)
    assert codecs and codecs[0].clockRate == 48_000, used_by
    monitor = QualityMonitor(pc)
    assert monitor._counters, "QualityMonitor installed no ReceivedBytes hook on the receivers"


def test_sctp_chunk_size_for_the_client_benchmark() -> None:
    used_by = "bench/client_bench.py --sctp-user-data (an experiment)"
    assert isinstance(assert_internal(aiortc.rtcsctptransport, "USERDATA_MAX_LENGTH", used_by), int)


def test_the_fixes_module_still_offers_what_the_client_calls() -> None:
    names = ("create_offer", "rollback", "sit_out_answer", "start_media", "ReceivedBytes")
    for name in (*names, "quicken_consent_checks"):
        assert hasattr(aiortc_fixes, name)


async def test_relay_transport_policy_reaches_the_ice_agent() -> None:
    """``ice_transport_policy="relay"`` (client/settings.py) sets ``RTCConfiguration``'s
    ``iceTransportPolicy``; aiortc must hand it to aioice's Connection, or a "relay-only" peer
    would quietly use direct paths."""
    pc = RTCPeerConnection(
        SessionSettings(ice_servers=(), ice_transport_policy="relay").rtc_configuration()
    )
    try:
        pc.createDataChannel("canary")
        assert pc.sctp is not None
        gatherer = pc.sctp.transport.transport.iceGatherer
        connection = assert_internal(gatherer, "_connection", "the relay-only canary")
        policy = assert_internal(connection, "_transport_policy", "the relay-only canary")
        assert policy == aioice.ice.TransportPolicy.RELAY
    finally:
        await pc.close()


# --- rtcroom/client/datapath.py and the data-path modules it installs ---------------------------

SCTP = aiortc.rtcsctptransport.RTCSctpTransport


def test_peer_connection_creates_its_sctp_transport_in_a_private_method() -> None:
    used_by = "rtcroom.client.datapath.install (hooks SCTP transport creation per connection)"
    create = assert_internal(RTCPeerConnection, f"{PC}createSctpTransport", used_by)
    assert parameters(create) == [], used_by
    source = inspect.getsource(RTCPeerConnection)
    assert "self.__createSctpTransport()" in source, f"{used_by}: no longer called that way"


def test_sctp_internals_for_delayed_sack_and_reassembly() -> None:
    used_by = "rtcroom.client.sctp_delayed_sack (SACK every second packet)"
    for name in ("_send_sack", "_receive_forward_tsn_chunk", "_handle_data", "stop"):
        assert_internal(SCTP, name, used_by)
    assert "await self._send_sack()" in inspect.getsource(SCTP._handle_data), used_by
    sctp_init = inspect.getsource(SCTP.__init__)
    for field in ("_sack_misordered", "_sack_duplicates", "_sack_needed", "_inbound_streams"):
        assert f"self.{field}" in sctp_init, f"{used_by}: {field}"
    used_by = "rtcroom.client.sctp_reassembly (pop_messages only when a message can complete)"
    assert_internal(SCTP, "_get_inbound_stream", used_by)
    stream = aiortc.rtcsctptransport.InboundStream
    assert parameters(stream.add_chunk) == ["chunk"] and parameters(stream.pop_messages) == []
    assert "self._get_inbound_stream(" in inspect.getsource(SCTP._receive_data_chunk), used_by


def test_sctp_internals_for_the_indexed_sack_handler() -> None:
    used_by = "rtcroom.client.sctp_sack (SACK handling by index)"
    handler = assert_internal(SCTP, "_receive_sack_chunk", used_by)
    assert parameters(handler) == ["chunk"], used_by
    for name in (
        "_flight_size_decrease", "_maybe_abandon", "_update_rto", "_t3_cancel", "_t3_restart",
        "_t3_expired", "_update_advanced_peer_ack_point", "_data_channel_flush", "_transmit",
    ):  # fmt: skip
        assert_internal(SCTP, name, used_by)
    sctp_init = inspect.getsource(SCTP.__init__)
    for field in ("_sent_queue", "_last_sacked_tsn", "_cwnd", "_partial_bytes_acked"):
        assert f"self.{field}" in sctp_init, f"{used_by}: {field}"
    chunk_fields = aiortc.rtcsctptransport.DataChunk.__annotations__
    for field in ("_acked", "_book_size", "_in_flight", "_misses", "_retransmit", "_sent_count"):
        assert field in chunk_fields, f"{used_by}: DataChunk.{field}"


def test_sctp_internals_for_bigger_packets() -> None:
    from rtcroom.client import sctp_packets

    used_by = "rtcroom.client.sctp_packets (per-association packet size)"
    for name in sctp_packets.SIZED_METHODS:
        method = assert_internal(SCTP, name, used_by)
        assert "USERDATA_MAX_LENGTH" in method.__code__.co_names, f"{used_by}: {name}"
    # __init__ may keep its own: the first congestion window (3 small packets) is fine as is.
    allowed = (*sctp_packets.SIZED_METHODS, "__init__")
    others = [
        name
        for name, value in vars(SCTP).items()
        if name not in allowed
        and "USERDATA_MAX_LENGTH" in getattr(getattr(value, "__code__", None), "co_names", ())
    ]
    assert others == [], f"{used_by}: these read the packet size too now: {others}"
    for name in ("_set_extensions", "_get_extensions"):
        assert parameters(assert_internal(SCTP, name, used_by)) == ["params"], used_by
    assert parameters(assert_internal(SCTP, "_set_state", used_by)) == ["state"], used_by
    assert parameters(assert_internal(SCTP, "_receive_chunk", used_by)) == ["chunk"], used_by
    assert "self._set_extensions(" in inspect.getsource(SCTP._init), used_by


async def test_dtls_connection_internals_for_whole_records(connected: tuple[Peer, Peer]) -> None:
    from OpenSSL import SSL

    used_by = "rtcroom.client.dtls_records (DTLS record calls without pyOpenSSL's overhead)"
    sctp = connected[0].pc.sctp
    assert sctp is not None
    connection = assert_internal(sctp.transport, "_ssl", used_by)
    assert isinstance(connection, SSL.Connection) or hasattr(connection, "_connection"), used_by
    for name in ("_ssl", "_into_ssl", "_from_ssl", "_raise_ssl_error", "_handle_bio_errors"):
        assert_internal(getattr(connection, "_connection", connection), name, used_by)
    for name in ("SSL_write", "SSL_read", "BIO_write", "BIO_read", "BIO_should_retry"):
        assert_internal(SSL._lib, name, used_by)  # type: ignore[attr-defined]
    dtls = inspect.getsource(aiortc.rtcdtlstransport.RTCDtlsTransport)
    for call in (
        "self._ssl.recv(",
        "self._ssl.bio_read(",
        "self._ssl.bio_write(",
        "self._ssl.send(",
    ):
        assert call in dtls, f"{used_by}: RTCDtlsTransport no longer calls {call}"


# --- client/aiortc_fixes.quicken_consent_checks: notice a broken path sooner ---------------------


def test_consent_check_constants_are_read_by_the_consent_loop() -> None:
    used_by = "rtcroom.client.aiortc_fixes.quicken_consent_checks (ICE recovery, mesh.py)"
    for name in ("CONSENT_INTERVAL", "CONSENT_FAILURES"):
        assert isinstance(assert_internal(aioice.ice, name, used_by), int)
    # The loop must read the module globals at every check, or patching them changes nothing.
    names = aioice.ice.Connection.query_consent.__code__.co_names
    assert "CONSENT_INTERVAL" in names and "CONSENT_FAILURES" in names, (
        f"{used_by}: aioice's consent loop no longer reads the module constants"
    )
    aiortc_fixes.quicken_consent_checks()
    assert aioice.ice.CONSENT_INTERVAL == aiortc_fixes.CONSENT_INTERVAL
    assert aioice.ice.CONSENT_FAILURES == aiortc_fixes.CONSENT_FAILURES
