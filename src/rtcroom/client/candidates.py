"""Remote ICE candidates that browsers trickle: buffered until a remote description exists.

aiortc gathers its own candidates into the SDP (no trickle) but accepts trickled ones. A
candidate can arrive before the offer it belongs to has been applied, so it waits here (a
bounded number of them); ``""`` is end-of-candidates and is not fed to the ICE agent.
"""

from __future__ import annotations

import logging

from aiortc import RTCPeerConnection
from aiortc.sdp import candidate_from_sdp

from .inbound import Candidate

log = logging.getLogger("rtcroom.client.session")

MAX_PENDING_CANDIDATES = 256


class RemoteCandidates:
    """The remote candidates of one peer connection."""

    def __init__(self, pc: RTCPeerConnection, peer_id: str) -> None:
        self._pc = pc
        self._peer_id = peer_id
        self._pending: list[Candidate] = []
        self.quiet = False
        """Log failures at debug level only (while an offer of this peer is being ignored, its
        candidates are expected not to fit)."""

    async def add(self, candidate: Candidate) -> None:
        if not candidate.candidate:
            return
        if self._pc.remoteDescription is None:
            if len(self._pending) < MAX_PENDING_CANDIDATES:
                self._pending.append(candidate)
            return
        await self._apply(candidate)

    async def flush(self) -> None:
        """Apply what waited; call it after each remote description."""
        pending, self._pending = self._pending, []
        for candidate in pending:
            await self._apply(candidate)

    async def _apply(self, candidate: Candidate) -> None:
        try:
            parsed = candidate_from_sdp(candidate.candidate.removeprefix("candidate:"))
            parsed.sdpMid = candidate.sdp_mid
            parsed.sdpMLineIndex = candidate.sdp_mline_index
            await self._pc.addIceCandidate(parsed)
        except Exception as exc:
            level = logging.DEBUG if self.quiet else logging.WARNING
            log.log(level, "ICE candidate from %s not applied: %s", self._peer_id, exc)
