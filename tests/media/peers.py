"""Two real aiortc peer connections in one process, connected over loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from aiortc import MediaStreamTrack, RTCPeerConnection

from rtcroom.ice import host_addresses, rtc_configuration

CONNECT_TIMEOUT = 20.0


class Peer:
    """One side: its connection and the remote tracks it has received."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pc = RTCPeerConnection(rtc_configuration([]))
        self.tracks: list[MediaStreamTrack] = []
        self._new_track = asyncio.Event()

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self.tracks.append(track)
            self._new_track.set()

    async def track(self, kind: str, index: int = 0, timeout: float = 10.0) -> MediaStreamTrack:
        """The ``index``-th remote track of ``kind``, waiting for it if needed."""
        async with asyncio.timeout(timeout):
            while True:
                found = [t for t in self.tracks if t.kind == kind]
                if len(found) > index:
                    return found[index]
                self._new_track.clear()
                await self._new_track.wait()


async def negotiate(
    offerer: Peer, answerer: Peer, setup_answerer: Callable[[RTCPeerConnection], None] | None = None
) -> None:
    """One offer/answer round (aiortc puts every candidate in the SDP, so no trickle)."""
    with host_addresses(["127.0.0.1"]):
        await offerer.pc.setLocalDescription(await offerer.pc.createOffer())
        await answerer.pc.setRemoteDescription(offerer.pc.localDescription)
        if setup_answerer is not None:
            setup_answerer(answerer.pc)
        await answerer.pc.setLocalDescription(await answerer.pc.createAnswer())
        await offerer.pc.setRemoteDescription(answerer.pc.localDescription)


async def wait_connected(*peers: Peer, timeout: float = CONNECT_TIMEOUT) -> None:
    async with asyncio.timeout(timeout):
        while not all(p.pc.connectionState == "connected" for p in peers):
            states = {p.pc.connectionState for p in peers}
            if states & {"failed", "closed"}:
                raise AssertionError(f"peer connection ended up {states}")
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def peer_pair(
    setup_offerer: Callable[[RTCPeerConnection], None] | None = None,
    setup_answerer: Callable[[RTCPeerConnection], None] | None = None,
) -> AsyncIterator[tuple[Peer, Peer]]:
    """Offerer and answerer, connected; ``setup_*`` add tracks or channels before the SDP."""
    offerer, answerer = Peer("offerer"), Peer("answerer")
    try:
        if setup_offerer is not None:
            setup_offerer(offerer.pc)
        await negotiate(offerer, answerer, setup_answerer)
        await wait_connected(offerer, answerer)
        yield offerer, answerer
    finally:
        await offerer.pc.close()
        await answerer.pc.close()
