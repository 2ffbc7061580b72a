"""The seam for media: local tracks that feed every peer connection.

Media capture is built in ``rtcroom.media``; the call only needs this much from it. A
:class:`TrackSource` gives the local tracks once per ``connect()``; :class:`LocalTracks` feeds
each of them to every new ``RTCPeerConnection`` through one ``MediaRelay``, so one camera serves
every peer of a mesh. Tracks are added before the first offer or answer; a track added later
needs ``await session.renegotiate()``, because aiortc fires no ``negotiationneeded``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from aiortc import MediaStreamTrack, RTCPeerConnection
from aiortc.contrib.media import MediaRelay


@runtime_checkable
class TrackSource(Protocol):
    """What ``WebRTCCall(media=...)`` accepts besides ``False``."""

    async def get_tracks(self) -> list[MediaStreamTrack]: ...

    def stop(self) -> None: ...


class LocalTracks:
    """A source's tracks, relayed so each peer connection gets its own consumer."""

    def __init__(self, source: TrackSource) -> None:
        self.source = source
        self.tracks: list[MediaStreamTrack] = []
        self._relay = MediaRelay()

    async def start(self) -> None:
        if not self.tracks:
            self.tracks = list(await self.source.get_tracks())

    def add_to(self, pc: RTCPeerConnection) -> None:
        for track in self.tracks:
            pc.addTrack(self._relay.subscribe(track))

    def stop(self) -> None:
        self.source.stop()
        self.tracks = []
