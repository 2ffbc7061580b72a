"""The seam rtcroom.media plugs into: a TrackSource's tracks reach every peer."""

from __future__ import annotations

import asyncio

import pytest
from aiortc import MediaStreamTrack
from aiortc.mediastreams import AudioStreamTrack

from rtcroom.client import ConnectEvent, StateChangeEvent, TrackAddedEvent
from tests.support import signaling_server

from .helpers import WAIT, Recorder, make_call


class SilenceSource:
    """A minimal TrackSource: one track of silence (aiortc's own test signal)."""

    def __init__(self) -> None:
        self.stopped = False

    async def get_tracks(self) -> list[MediaStreamTrack]:
        return [AudioStreamTrack()]

    def stop(self) -> None:
        self.stopped = True


@pytest.mark.parametrize("media_side", ["first joiner", "newcomer"])
async def test_tracks_of_a_source_reach_the_other_peer(media_side: str) -> None:
    source = SilenceSource()
    async with signaling_server("uvicorn") as srv:
        with_media = {"media": source}
        first = make_call(srv.url, **(with_media if media_side == "first joiner" else {}))
        second = make_call(srv.url, **(with_media if media_side == "newcomer" else {}))
        receiver = second if media_side == "first joiner" else first
        rec = Recorder(receiver)
        sender_rec = Recorder(first if receiver is second else second)
        try:
            await first.connect()
            await second.connect()
            await rec.until(lambda: bool(rec.of(TrackAddedEvent)))
            event = rec.of(TrackAddedEvent)[0]
            assert event.track.kind == "audio"
            sender = first if receiver is second else second
            assert event.peer_id == sender.peer_id
            frame = await asyncio.wait_for(event.track.recv(), WAIT)  # media really flows
            assert frame.sample_rate > 0
            assert sender.is_data_only is False and receiver.is_data_only is True
            # Adding tracks after the first exchange does not make the call flap.
            for call in (first, second):
                assert call.state == "connected"
            for r in (rec, sender_rec):
                flaps = [e for e in r.of(StateChangeEvent) if e.reason == "no connected peers"]
                assert flaps == []
                assert len(r.of(ConnectEvent)) == 1
        finally:
            await asyncio.gather(first.hangup(), second.hangup())
            await rec.close()
            await sender_rec.close()
        assert source.stopped
