"""Four peers in a full mesh; data channels created and closed after connect."""

from __future__ import annotations

import asyncio

from rtcroom.client import DataChannelCloseEvent, DataChannelOpenEvent
from tests.support import signaling_server

from .helpers import WAIT, Recorder, connected_pair, make_call


async def test_four_peers_broadcast_and_targeted_sends_reach_exactly_the_right_peers() -> None:
    async with signaling_server("uvicorn", max_peers=4) as srv:
        calls = [make_call(srv.url) for _ in range(4)]
        recorders = [Recorder(c) for c in calls]
        try:
            for call in calls:  # one after another: each newcomer offers to everyone there
                await call.connect()
            await asyncio.gather(*(c.wait_connected(peers=3, timeout=WAIT) for c in calls))
            ids = [c.peer_id for c in calls]
            for call in calls:
                assert sorted(call.remote_peer_ids) == sorted(i for i in ids if i != call.peer_id)

            for i, call in enumerate(calls):
                assert call.send_json("chat", {"from": i})
            for i, rec in enumerate(recorders):
                await rec.until(lambda rec=rec: len(rec.messages()) == 3)
                senders = sorted(m.data["from"] for m in rec.messages())
                assert senders == [j for j in range(4) if j != i]
                assert all(m.peer_id == ids[m.data["from"]] for m in rec.messages())

            assert ids[2] is not None
            assert calls[0].send_string_to(ids[2], "chat", "only for 2")
            assert calls[0].send_string("chat", "end")  # ordered channel: a barrier
            for rec in recorders[1:]:
                await rec.until(lambda rec=rec: any(m.data == "end" for m in rec.messages()))
            for k, rec in enumerate(recorders):
                targeted = [m for m in rec.messages() if m.data == "only for 2"]
                assert len(targeted) == (1 if k == 2 else 0), k
        finally:
            await asyncio.gather(*(c.hangup() for c in calls))
            for rec in recorders:
                await rec.close()


async def test_channel_created_and_closed_after_connect_is_seen_on_both_sides() -> None:
    async with signaling_server("uvicorn") as srv, connected_pair(srv.url) as (a, b):
        ra, rb = Recorder(a), Recorder(b)
        assert a.peer_id and b.peer_id
        assert a.get_data_channel_labels() == ["chat"] == b.get_data_channel_labels()
        assert a.get_data_channel_state(b.peer_id, "chat") == "open"

        created = a.create_data_channel("extra")
        assert list(created) == [b.peer_id]
        await rb.until(lambda: any(e.label == "extra" for e in rb.of(DataChannelOpenEvent)))
        await ra.until(lambda: any(e.label == "extra" for e in ra.of(DataChannelOpenEvent)))
        assert sorted(b.get_data_channel_labels()) == ["chat", "extra"]
        assert b.get_data_channel_state(a.peer_id, "extra") == "open"
        assert a.get_data_channel_state(b.peer_id, "extra") == "open"
        assert b.send_string("extra", "over the new channel")
        await ra.until(lambda: any(m.label == "extra" for m in ra.messages()))

        assert a.close_data_channel("extra") is True
        await rb.until(lambda: any(e.label == "extra" for e in rb.of(DataChannelCloseEvent)))
        assert b.get_data_channel_labels() == ["chat"]
        assert a.get_data_channel_labels() == ["chat"]
        assert b.get_data_channel_state(a.peer_id, "extra") is None
        assert a.close_data_channel("extra") is False
        # The other channel is untouched.
        assert a.send_string("chat", "still here")
        await rb.until(lambda: any(m.data == "still here" for m in rb.messages()))
        await ra.close()
        await rb.close()
