"""The seam for media: local tracks that feed every peer connection.

A :class:`~rtcroom.media.TrackSource` (defined in ``rtcroom.media``, re-exported here) gives the
local tracks once per ``connect()``; :class:`LocalTracks` feeds each of them to every new
``RTCPeerConnection`` through one ``MediaRelay``, so one camera serves every peer of a mesh.
Tracks are added before the first offer or answer; a track added later needs
``await session.renegotiate()``, because aiortc fires no ``negotiationneeded``.
"""

from __future__ import annotations

from aiortc import MediaStreamTrack, RTCPeerConnection
from aiortc.contrib.media import MediaRelay

from ..media.sources import TrackSource

__all__ = ["LocalTracks", "TrackSource"]


class LocalTracks:
    """A source's tracks, relayed so each peer connection gets its own consumer."""

    def __init__(self, source: TrackSource) -> None:
        self.source = source
        self.tracks: list[MediaStreamTrack] = []
        self._relay = MediaRelay()

    async def start(self) -> None:
        if not self.tracks:
            self.tracks = list(await self.source.get_tracks())

    def add_to(self, pc: RTCPeerConnection, tracks: list[MediaStreamTrack] | None = None) -> None:
        # rtcroom.media.LocalMedia brings its own subscribe (screen share needs to own it).
        subscribe = getattr(self.source, "subscribe", None) or self._relay.subscribe
        for track in self.tracks if tracks is None else tracks:
            pc.addTrack(subscribe(track))

    def add_answerable(self, pc: RTCPeerConnection) -> list[MediaStreamTrack]:
        """After a remote offer is applied: add the tracks that fit a free transceiver the
        offer created, return the rest. (aiortc cannot answer while it holds a transceiver
        the offer did not mention, so those wait for our own offer.)"""
        free = [
            t.kind for t in pc.getTransceivers() if t.sender.track is None and t.mid is not None
        ]
        rest = []
        for track in self.tracks:
            if track.kind in free:
                free.remove(track.kind)
                self.add_to(pc, [track])
            else:
                rest.append(track)
        return rest

    def stop(self) -> None:
        self.source.stop()
        self.tracks = []
