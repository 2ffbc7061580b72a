"""Candidates trickled the browser way reach the Python peer, even before the offer does."""

from __future__ import annotations

import asyncio

from aiortc import RTCPeerConnection, RTCSessionDescription

from rtcroom import ice
from rtcroom.client import DataChannelMessageEvent
from tests.support import SignalClient, signaling_server

from .helpers import WAIT, Recorder, make_call


def strip_candidates(sdp: str) -> str:
    kept = [
        line
        for line in sdp.splitlines()
        if not line.startswith(("a=candidate:", "a=end-of-candidates"))
    ]
    return "\r\n".join(kept) + "\r\n"


async def test_trickled_candidates_before_the_offer_are_buffered_and_used() -> None:
    async with signaling_server("uvicorn") as srv:
        call = make_call(srv.url, data_channels=[])
        rec = Recorder(call)
        await call.connect()
        remote = await SignalClient.connect(srv.url)
        joined = await remote.join("room")
        assert joined["peers"] == [call.peer_id]
        pc = RTCPeerConnection(ice.rtc_configuration([]))
        channel = pc.createDataChannel("chat")
        try:
            with ice.host_addresses(["127.0.0.1"]):
                await pc.setLocalDescription(await pc.createOffer())
            lines = pc.localDescription.sdp.splitlines()
            candidates = [line[2:] for line in lines if line.startswith("a=candidate:")]
            assert candidates
            bare_sdp = strip_candidates(pc.localDescription.sdp)
            # Browser order reversed on purpose: candidates first (the peer must buffer them),
            # then the end-of-candidates marker (must be skipped), then the offer without any.
            for text in [*candidates, ""]:
                await remote.send(
                    {"t": "ice", "to": call.peer_id, "candidate": {
                        "candidate": text, "sdpMid": "0", "sdpMLineIndex": 0,
                        "usernameFragment": None}}
                )  # fmt: skip
            await remote.send(
                {"t": "sdp", "to": call.peer_id,
                 "description": {"type": "offer", "sdp": bare_sdp}}
            )  # fmt: skip
            answer = await remote.recv(WAIT)
            assert answer["t"] == "sdp" and answer["description"]["type"] == "answer"
            # Keep the answer's candidates from the remote side: only the Python peer's checks
            # (towards the trickled candidates) can then open the path.
            answer_sdp = strip_candidates(answer["description"]["sdp"])
            await pc.setRemoteDescription(RTCSessionDescription(answer_sdp, "answer"))
            await call.wait_connected(timeout=WAIT)
            opened = asyncio.Event()
            if channel.readyState == "open":
                opened.set()
            channel.on("open", opened.set)
            await asyncio.wait_for(opened.wait(), WAIT)
            channel.send('{"via": "trickle"}')
            await rec.until(lambda: bool(rec.messages()))
            (message,) = rec.of(DataChannelMessageEvent)
            assert message.data == {"via": "trickle"} and message.peer_id == remote.peer_id
        finally:
            await pc.close()
            await remote.close()
            await call.hangup()
            await rec.close()
