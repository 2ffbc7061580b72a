"""Work-arounds for gaps in aiortc 1.16 that a peer talking to browsers runs into.

They reach into aiortc's private fields, so they live here together, each with the reason; check
them again when aiortc is upgraded: tests/client/test_aiortc_canaries.py checks every internal
they rely on.
"""

from __future__ import annotations

from typing import Any

import aioice.ice
from aiortc import (
    RTCPeerConnection,
    RTCRtpHeaderExtensionParameters,
    RTCRtpReceiver,
    RTCSessionDescription,
)
from aiortc.sdp import SessionDescription


async def create_offer(pc: RTCPeerConnection) -> RTCSessionDescription:
    """``pc.createOffer()``, but m-lines that were already negotiated keep their payload types.

    aiortc's ``createOffer`` resets every transceiver's codecs to its own numbering (VP8 97, opus
    96). A transceiver that answered a browser's offer uses the browser's numbering (VP8 96,
    opus 111), and its receiver was started with that map, which aiortc never updates. The
    browser answers the renumbered offer and sends VP8 as 97, which the receiver takes for RTX
    of 96 and drops: the video stops. JSEP (RFC 8829 5.2.2) asks a re-offer to keep the
    negotiated payload types, which is what this does.
    """
    kept = {
        t.mid: (t._codecs, t._headerExtensions)
        for t in pc.getTransceivers()
        if t.mid is not None and t.currentDirection is not None and t._codecs
    }
    offer = await pc.createOffer()
    if not kept:
        return offer
    ids = {x.uri: x.id for _, extensions in kept.values() for x in extensions}
    by_mid = {t.mid: t for t in pc.getTransceivers() if t.mid is not None}
    description = SessionDescription.parse(offer.sdp)
    for media in description.media:
        if media.kind not in ("audio", "video"):
            continue
        negotiated = kept.get(media.rtp.muxId)
        if negotiated is None:  # a new m-line: its extension ids must not clash in the BUNDLE
            media.rtp.headerExtensions = _renumber(media.rtp.headerExtensions, ids)
            transceiver = by_mid.get(media.rtp.muxId)
            if transceiver is not None:
                transceiver._headerExtensions = media.rtp.headerExtensions
            continue
        codecs, extensions = negotiated
        media.fmt = [codec.payloadType for codec in codecs]
        media.rtp.codecs = codecs
        media.rtp.headerExtensions = extensions
    for transceiver in pc.getTransceivers():
        if transceiver.mid in kept:
            transceiver._codecs, transceiver._headerExtensions = kept[transceiver.mid]
    return RTCSessionDescription(sdp=str(description), type="offer")


def _renumber(
    extensions: list[RTCRtpHeaderExtensionParameters], ids: dict[str, int]
) -> list[RTCRtpHeaderExtensionParameters]:
    """Give each extension the id it already has in the BUNDLE, or one no other URI uses
    (browsers reject one id meaning two extensions). ``ids`` is updated."""
    result = []
    for extension in extensions:
        if extension.uri not in ids:
            taken = set(ids.values())
            ids[extension.uri] = (
                extension.id
                if extension.id not in taken
                else next(i for i in range(1, 256) if i not in taken)
            )
        result.append(RTCRtpHeaderExtensionParameters(id=ids[extension.uri], uri=extension.uri))
    return result


def rollback(pc: RTCPeerConnection) -> None:
    """Forget our pending local offer and return to ``stable`` (what SDP rollback does).

    aiortc has no rollback. For a *re*-offer this is enough: ICE/DTLS roles and transports are
    fixed by the first exchange; the offer made with :func:`create_offer` left negotiated codecs
    as they were; and transceivers that got a mid and m-line index only from the dropped offer
    lose them again, so the remote offer may take them (as JSEP allows) or, if it does not,
    :func:`sit_out_answer` keeps them out of our answer and our next offer adds them.
    """
    remote = pc.remoteDescription
    remote_mids = set() if remote is None else _mids(remote.sdp)
    for transceiver in pc.getTransceivers():
        if (
            transceiver.mid is not None
            and transceiver.currentDirection is None
            and transceiver.mid not in remote_mids
        ):
            transceiver._set_mid(None)  # type: ignore[arg-type]
            # aiortc finds transceivers by m-line index when it applies our answer: a stale one
            # would give this transceiver the mid of whatever m-line the answer has there.
            transceiver._set_mline_index(None)  # type: ignore[arg-type]
    pc._RTCPeerConnection__pendingLocalDescription = None  # type: ignore[attr-defined]
    pc._RTCPeerConnection__setSignalingState("stable")  # type: ignore[attr-defined]


def sit_out_answer(pc: RTCPeerConnection) -> None:
    """Let an answer leave out our transceivers that the remote offer did not mention.

    Call it after ``setRemoteDescription(offer)``. aiortc's ``setLocalDescription(answer)`` sets
    the current direction of *every* transceiver from the offer's direction, and fails with
    ``ValueError: None is not in list`` on one the offer never mentioned (a track we added whose
    offer was rolled back in glare). Marking such a transceiver ``inactive`` for this exchange
    keeps it out of the answer; it still has no mid, so our next offer adds it.
    """
    for transceiver in pc.getTransceivers():
        if transceiver.mid is None and transceiver._offerDirection is None:
            transceiver._offerDirection = "inactive"


def _mids(sdp: str) -> set[str]:
    return {m.rtp.muxId for m in SessionDescription.parse(sdp).media}


async def start_media(pc: RTCPeerConnection) -> None:
    """Start every sender and receiver that a renegotiation added before DTLS was connected.

    aiortc starts the RTP senders and receivers of a transceiver in the connect step that each
    ``setLocalDescription``/``setRemoteDescription`` launches, and only if DTLS is connected at
    that moment. When an exchange that adds m-lines completes while the first DTLS handshake is
    still running, its connect step skips them, and the one that then finishes the handshake
    has already walked the transceivers: the new media never starts. Running the connect step
    again once connected starts them; it is idempotent for everything already started.
    """
    await pc._RTCPeerConnection__connect()  # type: ignore[attr-defined]


class ReceivedBytes:
    """Counts the RTP payload bytes a receiver handles (browsers' inbound ``bytesReceived``).

    aiortc's stats count no received bytes, which the inbound bitrate of quality stats
    (``media/quality.py``) needs. This wraps the receiver's private packet handler
    ``_handle_rtp_packet(packet, arrival_time_ms)``; where it is missing (:meth:`can_count`),
    quality stats fall back to the sender's RTCP sender reports.
    """

    def __init__(self, receiver: RTCRtpReceiver) -> None:
        self.kind = str(receiver.track.kind) if receiver.track is not None else "unknown"
        self.bytes = 0
        handle = receiver._handle_rtp_packet

        async def counting(packet: Any, arrival_time_ms: int) -> None:
            self.bytes += len(packet.payload)
            await handle(packet, arrival_time_ms=arrival_time_ms)

        receiver._handle_rtp_packet = counting  # type: ignore[method-assign]

    @staticmethod
    def can_count(receiver: RTCRtpReceiver) -> bool:
        return hasattr(receiver, "_handle_rtp_packet")


CONSENT_INTERVAL = 2
"""Seconds between consent checks (aioice: 5, randomised by 0.8-1.2 as RFC 7675 asks)."""
CONSENT_FAILURES = 4
"""Unanswered checks in a row after which the path counts as gone (aioice: 6)."""


def quicken_consent_checks() -> None:
    """Notice a broken network path in ~8-10 s instead of aioice's ~30 s.

    aioice has no "disconnected" state: it checks consent every 4-6 s and only after 6
    unanswered checks in a row closes the connection (aiortc's ICE state then ends "closed").
    Measured on loopback with UDP dropped: 32-35 s by default, 9-10 s with these values. A peer
    connection cannot be repaired before that, so a call waits half a minute for a path that a
    browser gave up on long before. The constants are module globals read at every check, so
    this applies to every aioice connection of the process, including ones already open.
    """
    aioice.ice.CONSENT_INTERVAL = CONSENT_INTERVAL
    aioice.ice.CONSENT_FAILURES = CONSENT_FAILURES
