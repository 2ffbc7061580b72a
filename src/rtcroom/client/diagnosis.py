"""Why a call is not connected yet, in words: the text of its timeout errors.

A timeout that only says "timed out" sends the user hunting. The usual causes are few and each
is visible on the peer connections: nobody else is in the room, the other peer never answered,
ICE gathered no address (aioice skips loopback, so a loopback-only host needs
``ice_host_addresses``), ICE found no path between the two peers (no STUN/TURN across NATs), or
ICE is up but a data channel the caller waits for was never opened by the offering side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from aiortc import RTCDataChannel, RTCPeerConnection

NO_ICE_PATH_HINT = (
    "check ice_servers (a STUN/TURN server when the peers are on different networks) and "
    "ice_host_addresses (on a loopback-only host: ice_host_addresses=['127.0.0.1'])"
)


class Diagnosable(Protocol):
    @property
    def pc(self) -> RTCPeerConnection: ...

    @property
    def channels(self) -> Mapping[str, RTCDataChannel]: ...

    @property
    def ice_connected(self) -> bool: ...


def short_repr(text: str, limit: int = 60) -> str:
    """A room or peer id for a message: a 5000-character id must not flood the log."""
    shown = repr(text)
    return shown if len(shown) <= limit else f"{shown[:limit]}... ({len(text)} characters)"


def has_local_candidates(pc: RTCPeerConnection) -> bool:
    local = pc.localDescription
    return local is not None and "a=candidate:" in local.sdp


def peer_progress(peer_id: str, session: Diagnosable, labels: Sequence[str]) -> str | None:
    """What one peer still lacks, or None if it is ready."""
    pc = session.pc
    if pc.localDescription is not None and not has_local_candidates(pc):
        return f"peer {peer_id}: ICE gathered no local address, so there is no ICE path; " + (
            NO_ICE_PATH_HINT
        )
    if pc.remoteDescription is None or pc.signalingState != "stable":
        return (
            f"peer {peer_id}: the offer/answer exchange did not finish (signaling state "
            f"{pc.signalingState}); is the other peer still running?"
        )
    if not session.ice_connected:
        return (
            f"peer {peer_id}: ICE found no path between the two peers (ICE state "
            f"{pc.iceConnectionState}); {NO_ICE_PATH_HINT}"
        )
    closed = [
        label
        for label in labels
        if (ch := session.channels.get(label)) is None or ch.readyState != "open"
    ]
    if closed:
        return (
            f"peer {peer_id}: ICE is connected but data channel(s) {closed} are not open (the "
            "peer that offers creates them: list the same data_channels on both sides)"
        )
    return None


def why_not_connected(
    room_id: str,
    sessions: Mapping[str, Diagnosable],
    labels: Sequence[str],
    *,
    peers: int = 1,
) -> str:
    """One sentence per cause, for the message of a timeout error."""
    causes = [
        cause
        for peer_id, session in sessions.items()
        if (cause := peer_progress(peer_id, session, labels)) is not None
    ]
    if len(sessions) < peers:
        alone = "no other peer is" if not sessions else f"only {len(sessions)} other peer(s) are"
        causes.insert(
            0,
            f"{alone} in room {short_repr(room_id)} (waiting for {peers}): start the other "
            "peer, with the same room id and signaling server",
        )
    return "; ".join(causes) or "the peers became ready just as the time ran out"
