"""Work-arounds for three gaps in aiortc 1.16 that a peer talking to browsers runs into.

They reach into aiortc's private fields, so they live here together, each with the reason; check
them again when aiortc is upgraded.
"""

from __future__ import annotations

from aiortc import RTCPeerConnection, RTCSessionDescription
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
    description = SessionDescription.parse(offer.sdp)
    for media in description.media:
        negotiated = kept.get(media.rtp.muxId)
        if media.kind not in ("audio", "video") or negotiated is None:
            continue
        codecs, extensions = negotiated
        media.fmt = [codec.payloadType for codec in codecs]
        media.rtp.codecs = codecs
        media.rtp.headerExtensions = extensions
    for transceiver in pc.getTransceivers():
        if transceiver.mid in kept:
            transceiver._codecs, transceiver._headerExtensions = kept[transceiver.mid]
    return RTCSessionDescription(sdp=str(description), type="offer")


def rollback(pc: RTCPeerConnection) -> None:
    """Forget our pending local offer and return to ``stable`` (what SDP rollback does).

    aiortc has no rollback. For a *re*-offer this is enough: ICE/DTLS roles and transports are
    fixed by the first exchange; the offer made with :func:`create_offer` left negotiated codecs
    as they were; and transceivers that got a mid only from the dropped offer lose it again, so
    they are offered anew (with a fresh mid) after we answer.
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
    pc._RTCPeerConnection__pendingLocalDescription = None  # type: ignore[attr-defined]
    pc._RTCPeerConnection__setSignalingState("stable")  # type: ignore[attr-defined]


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
