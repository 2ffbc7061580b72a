"""ICE recovery between two Python peers: the network path breaks (every UDP datagram dropped
inside the test's namespace, the signaling TCP socket untouched) for longer than aioice needs
to notice, then comes back. The pair rebuilds its connection under the same peer ids, the data
channel carries messages both ways again, and neither app nor server saw anyone leave.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

from rtcroom.client import (
    DataChannelMessageEvent,
    ErrorEvent,
    PeerLeftEvent,
    PeerReconnectedEvent,
    PeerReconnectingEvent,
    WebRTCCall,
    inbound,
)
from rtcroom.client.inbound import Description
from rtcroom.media import TestPatternSource
from rtcroom.testing import ServeProcess
from rtcroom.testing.network import udp_dropped

from .helpers import WAIT, Recorder, hold_break, make_call
from .test_browser_glare import PEER_JS, browser_page

__all__ = ["browser_page"]  # the fixture

DETECT = 40.0  # aioice (tuned) notices a dead path in ~10 s; bound generously under load
RECOVER = 60.0
VIDEO = {"width": 320, "height": 240, "fps": 15}  # a rebuild retries with backoff; bounded


def server_saw_no_leave(server: ServeProcess) -> list[str]:
    """The server's own lifecycle log (``--log-format json``): peers that left."""
    left = []
    for line in server.output().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("event") == "peer_left":
                left.append(record.get("peer"))
    return left


def room_members(server: ServeProcess, room: str) -> list[str]:
    with urllib.request.urlopen(f"{server.http_url}/admin/rooms", timeout=10) as response:
        listing: dict[str, Any] = json.load(response)
    for entry in listing["rooms"]:
        if entry["roomId"] == room:
            return sorted(p["peerId"] for p in entry["peers"])
    return []


def got(recorder: Recorder, text: str) -> bool:
    return any(m.raw == text for m in recorder.of(DataChannelMessageEvent))


async def exchange_after_break(
    a: WebRTCCall, b: WebRTCCall, rec_a: Recorder, rec_b: Recorder, tag: str
) -> None:
    """Each side sends until the other got one (a bounded loop: the channel may open a moment
    after the reconnected event on the far side)."""
    for sender, receiver, text in ((a, rec_b, f"{tag} from a"), (b, rec_a, f"{tag} from b")):
        for _ in range(int(WAIT / 0.2)):
            sender.send_string("chat", text)
            if got(receiver, text):
                break
            await asyncio.sleep(0.2)
        assert got(receiver, text), f"{text!r} never arrived"


async def test_python_pair_rebuilds_after_the_network_path_breaks() -> None:
    async with ServeProcess("--log-format", "json", log_level="info") as server:
        a = make_call(server.url)
        b = make_call(server.url)
        rec_a, rec_b = Recorder(a), Recorder(b)
        try:
            await a.connect()
            await b.connect()
            await asyncio.gather(a.wait_connected(timeout=WAIT), b.wait_connected(timeout=WAIT))
            id_a, id_b = a.peer_id, b.peer_id
            assert id_a is not None and id_b is not None
            await exchange_after_break(a, b, rec_a, rec_b, "before")

            with udp_dropped():
                broke = asyncio.get_running_loop().time()
                await rec_a.until(lambda: bool(rec_a.of(PeerReconnectingEvent)), DETECT)
                await rec_b.until(lambda: bool(rec_b.of(PeerReconnectingEvent)), DETECT)
                await hold_break(broke)

            await rec_a.until(lambda: bool(rec_a.of(PeerReconnectedEvent)), RECOVER)
            await rec_b.until(lambda: bool(rec_b.of(PeerReconnectedEvent)), RECOVER)
            await exchange_after_break(a, b, rec_a, rec_b, "after")

            # Same ids, same room, and the connection really is a new one.
            assert (a.peer_id, b.peer_id) == (id_a, id_b)
            assert a.remote_peer_ids == [id_b] and b.remote_peer_ids == [id_a]
            assert a.sessions[id_b].rebuild >= 1 and b.sessions[id_a].rebuild >= 1
            assert a.sessions[id_b].rebuild == b.sessions[id_a].rebuild
            for rec, remote in ((rec_a, id_b), (rec_b, id_a)):
                assert [e.peer_id for e in rec.of(PeerReconnectingEvent)] == [remote]
                assert [e.peer_id for e in rec.of(PeerReconnectedEvent)] == [remote]
                kinds = [type(e) for e in rec.events]
                assert kinds.index(PeerReconnectingEvent) < kinds.index(PeerReconnectedEvent)
                assert rec.of(PeerLeftEvent) == []
            assert room_members(server, "room") == sorted([id_a, id_b])
            assert server_saw_no_leave(server) == []
        finally:
            await asyncio.gather(a.hangup(), b.hangup())
            await rec_a.close()
            await rec_b.close()


async def test_both_sides_rebuild_at_once_and_agree_on_one_connection() -> None:
    """Glare: each side offers rebuild 1 at the same moment (as when both notice the break
    together and the polite side's wait is over). The impolite offer wins, the polite side
    answers it, and the pair ends up on one connection, channels open, in the room."""
    async with ServeProcess() as server:
        a = make_call(server.url)
        b = make_call(server.url)
        rec_a, rec_b = Recorder(a), Recorder(b)
        try:
            await a.connect()
            await b.connect()
            await asyncio.gather(a.wait_connected(timeout=WAIT), b.wait_connected(timeout=WAIT))
            id_a, id_b = a.peer_id, b.peer_id
            assert id_a is not None and id_b is not None
            old_a, old_b = a.sessions[id_b], b.sessions[id_a]
            assert old_a.polite != old_b.polite
            mesh_a, mesh_b = a._life.mesh, b._life.mesh
            mesh_a._rebuild(old_a, 1, offerer=True)
            mesh_b._rebuild(old_b, 1, offerer=True)

            await rec_a.until(lambda: bool(rec_a.of(PeerReconnectedEvent)), RECOVER)
            await rec_b.until(lambda: bool(rec_b.of(PeerReconnectedEvent)), RECOVER)
            await exchange_after_break(a, b, rec_a, rec_b, "after glare")
            new_a, new_b = a.sessions[id_b], b.sessions[id_a]
            assert new_a.rebuild == new_b.rebuild == 1
            impolite, polite = (new_a, new_b) if not old_a.polite else (new_b, new_a)
            assert impolite.offerer and not polite.offerer  # the polite side answered
            assert rec_a.of(PeerLeftEvent) == [] and rec_b.of(PeerLeftEvent) == []
        finally:
            await asyncio.gather(a.hangup(), b.hangup())
            await rec_a.close()
            await rec_b.close()


def test_rebuild_keys_from_the_server_are_checked() -> None:
    """``rtcroomRebuild`` is optional: anything but a non-negative integer counts as absent."""
    sdp = (
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
    )

    def parse(**extra: Any) -> Description:
        frame = {
            "t": "sdp",
            "from": "peer-b",
            "to": "peer-a",
            "description": {"type": "offer", "sdp": sdp, **extra},
        }
        parsed = inbound.parse(json.dumps(frame), "peer-a")
        assert isinstance(parsed, Description)
        return parsed

    assert (parse().rebuild, parse().ice_restart) == (None, None)
    assert parse(rtcroomRebuild=3, rtcroomIceRestart=False).rebuild == 3
    assert parse(rtcroomIceRestart=True).ice_restart is True
    for bad in ("3", -1, True, 2.5, 2**40, None, [1]):
        assert parse(rtcroomRebuild=bad).rebuild is None
    assert parse(rtcroomIceRestart="no").ice_restart is None


async def test_a_rebuilt_connection_carries_the_same_local_media() -> None:
    """A rebuild (here asked for directly, as after lost signaling frames) re-adds the local
    tracks: each side decodes the other's video again from the new connection."""
    async with ServeProcess() as server:
        calls = [
            make_call(server.url, media=TestPatternSource(video=VIDEO, audio=False))
            for _ in range(2)
        ]
        a, b = calls
        rec_a, rec_b = Recorder(a), Recorder(b)
        try:
            await a.connect()
            await b.connect()
            await asyncio.gather(a.wait_connected(timeout=WAIT), b.wait_connected(timeout=WAIT))
            id_a, id_b = a.peer_id, b.peer_id
            assert id_a is not None and id_b is not None
            impolite, remote = (a, id_b) if not a.sessions[id_b].polite else (b, id_a)
            impolite._life.mesh.repair(remote)

            await rec_a.until(lambda: bool(rec_a.of(PeerReconnectedEvent)), RECOVER)
            await rec_b.until(lambda: bool(rec_b.of(PeerReconnectedEvent)), RECOVER)
            assert a.sessions[id_b].rebuild == b.sessions[id_a].rebuild == 1
            for viewer, sender in ((a, id_b), (b, id_a)):
                frame = await viewer.remote_video(sender).next(timeout=WAIT)
                assert (frame.width, frame.height) == (VIDEO["width"], VIDEO["height"])
            await exchange_after_break(a, b, rec_a, rec_b, "after rebuild")
        finally:
            await asyncio.gather(a.hangup(), b.hangup())
            await rec_a.close()
            await rec_b.close()


async def test_a_short_blip_is_no_break() -> None:
    """UDP dropped for 3 s (less than the consent checks need to give up): nothing is
    rebuilt, no event, and the data channel carries on (SCTP resends what was lost)."""
    async with ServeProcess() as server:
        a = make_call(server.url)
        b = make_call(server.url)
        rec_a, rec_b = Recorder(a), Recorder(b)
        try:
            await a.connect()
            await b.connect()
            await asyncio.gather(a.wait_connected(timeout=WAIT), b.wait_connected(timeout=WAIT))
            with udp_dropped():
                assert a.send_string("chat", "during the blip")
                await asyncio.sleep(3)
            await asyncio.sleep(12)  # past the time a real break is noticed in
            assert got(rec_b, "during the blip")
            await exchange_after_break(a, b, rec_a, rec_b, "after the blip")
            for rec in (rec_a, rec_b):
                assert rec.of(PeerReconnectingEvent) == [] and rec.of(PeerLeftEvent) == []
            assert a.sessions[b.peer_id or ""].rebuild == 0
        finally:
            await asyncio.gather(a.hangup(), b.hangup())
            await rec_a.close()
            await rec_b.close()


async def test_a_client_without_rebuilds_is_dropped_not_rebuilt(browser_page: Any) -> None:
    """A peer whose descriptions carry no rtcroom key (here a bare perfect-negotiation page,
    as Agentuity's client is) cannot take part in a rebuild: when the path breaks the Python
    peer reports the error and drops that connection instead of offering rebuilds forever."""
    page = browser_page
    async with ServeProcess() as server:
        await page.goto(server.http_url + "/healthz")  # an http origin: Chromium gathers
        call = make_call(server.url)
        rec = Recorder(call)
        try:
            await page.evaluate(PEER_JS, server.url)
            await page.wait_for_function("window.peer.id", timeout=WAIT * 1000)
            await call.connect()
            await call.wait_connected(timeout=WAIT)
            browser_id = await page.evaluate("window.peer.id")
            with udp_dropped():
                await rec.until(lambda: not call.remote_peer_ids, DETECT)
            errors = [str(e.error) for e in rec.of(ErrorEvent)]
            assert any(browser_id in e and "cannot rebuild" in e for e in errors), errors
            assert rec.of(PeerReconnectingEvent) == []
        finally:
            await call.hangup()
            await rec.close()
