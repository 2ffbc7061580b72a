"""Resume inside one server process, on each transport, with raw WebSocket clients: away peers,
the grace window, the frame buffer, the newer socket winning, and every refusal.

A dropped connection is ``transport.abort()`` on the client: a TCP reset, no close frame, which
is what a dead Wi-Fi or a load balancer's timeout looks like to the server.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from rtcroom import Resume, SignalingCallbacks, protocol
from rtcroom.telemetry import HubEvent
from rtcroom.tokens import JoinTokens, create

from .examples import load_example
from .support import WAIT, SignalClient, run_uvicorn, signaling_server

ROOM = "resume-room"
TOKENS: dict[str, str] = {}
"""Every token :func:`opted_in` saw, by peer id (peer ids are unique per test server)."""


async def opted_in(url: str, room: str = ROOM) -> tuple[SignalClient, dict[str, Any]]:
    client = await SignalClient.connect(url)
    await client.send({"t": "join", "roomId": room, "resume": True})
    joined = await client.recv()
    assert joined["t"] == "joined", joined
    client.peer_id = joined["peerId"]
    TOKENS[joined["peerId"]] = joined.get("resumeToken", "")
    return client, joined


async def resume_with(
    url: str, token: str, room: str = ROOM
) -> tuple[SignalClient, dict[str, Any]]:
    client = await SignalClient.connect(url)
    await client.send({"t": "join", "roomId": room, "resumeToken": token})
    return client, await client.recv()


def drop(client: SignalClient) -> None:
    """The connection dies without a close frame (TCP reset)."""
    client.ws.transport.abort()


async def test_only_opted_in_peers_get_a_token(transport: str) -> None:
    async with signaling_server(transport) as server:
        plain = await SignalClient.connect(server.url)
        joined = await plain.join(ROOM)
        assert set(joined) == {"t", "peerId", "roomId", "peers"}  # Agentuity's shape, unchanged
        _, mine = await opted_in(server.url)
        assert mine["resumeGrace"] == 30
        assert mine["resumeToken"].startswith("v1.")
        assert "resumed" not in mine
        assert await plain.recv() == {"t": "peer-joined", "peerId": mine["peerId"]}


async def test_a_peer_that_did_not_opt_in_leaves_at_once_when_its_socket_drops(
    transport: str,
) -> None:
    """Agentuity's client never opts in: no ghost is kept for it, whatever the grace window."""
    async with signaling_server(transport, resume=Resume(grace=60)) as server:
        plain = await SignalClient.connect(server.url)
        await plain.join(ROOM)
        other, _ = await opted_in(server.url)
        drop(plain)
        assert await other.recv() == {"t": "peer-left", "peerId": plain.peer_id}
        assert await server.hub.get_rooms() == {ROOM: [other.peer_id]}


@pytest.mark.parametrize("code", [1000, 1001])
async def test_a_clean_close_of_an_opted_in_peer_leaves_at_once_and_ends_its_token(
    transport: str, code: int
) -> None:
    async with signaling_server(transport, resume=Resume(grace=60)) as server:
        a, joined = await opted_in(server.url)
        b, _ = await opted_in(server.url)
        await a.recv()  # peer-joined b
        await a.ws.close(code)
        assert await b.recv() == {"t": "peer-left", "peerId": a.peer_id}
        again, answer = await resume_with(server.url, joined["resumeToken"])
        assert answer == {"t": "error", "message": protocol.RESUME_ENDED}
        await again.close()  # unjoined sockets would hold up the aiohttp runner's cleanup


async def test_an_away_peer_that_does_not_come_back_times_out(transport: str) -> None:
    leaves: list[tuple[str, str, str]] = []
    events: list[HubEvent] = []
    callbacks = SignalingCallbacks(on_peer_leave=lambda *args: leaves.append(args))
    grace = 0.6
    async with signaling_server(
        transport, callbacks=callbacks, resume=Resume(grace=grace)
    ) as server:
        server.hub.telemetry.observe(events.append)
        a, joined = await opted_in(server.url)
        b, _ = await opted_in(server.url)
        await a.recv()
        dropped_at = time.monotonic()
        drop(a)
        # Away: still a member, nobody told.
        await b.expect_silence(grace / 2)
        assert await server.hub.get_rooms() == {ROOM: [a.peer_id, b.peer_id]}
        assert await b.recv() == {"t": "peer-left", "peerId": a.peer_id}
        assert time.monotonic() - dropped_at >= grace  # not before the window ended
        assert leaves == [(a.peer_id, ROOM, "timeout")]
        left = [e for e in events if e.kind == "peer_left"]
        assert [(e.peer_id, e.reason) for e in left] == [(a.peer_id, "timeout")]
        assert server.hub.telemetry.leaves == {"timeout": 1}
        assert await server.hub.get_rooms() == {ROOM: [b.peer_id]}
        late, answer = await resume_with(server.url, joined["resumeToken"])
        assert answer == {"t": "error", "message": protocol.RESUME_ENDED}
        # The socket lives: a plain join on it gets a new peer id.
        fresh = await late.join(ROOM)
        assert fresh["peerId"] != a.peer_id and fresh["peers"] == [b.peer_id]


async def test_frames_sent_to_an_away_peer_arrive_in_order_after_it_resumes(
    transport: str,
) -> None:
    async with signaling_server(transport, max_peers=3, resume=Resume(grace=30)) as server:
        a, joined = await opted_in(server.url)
        b, _ = await opted_in(server.url)
        await a.recv()
        drop(a)
        await asyncio.sleep(0.2)  # the server notices
        offer = {"type": "offer", "sdp": "v=0 from b"}
        await b.send({"t": "sdp", "to": a.peer_id, "description": offer})
        for i in range(5):
            await b.send({"t": "ice", "to": a.peer_id, "candidate": {"candidate": f"c{i}"}})
        await b.send({"t": "ice", "candidate": {"candidate": "to everyone"}})
        c, _ = await opted_in(server.url)  # a third peer comes and goes meanwhile
        assert await b.recv() == {"t": "peer-joined", "peerId": c.peer_id}
        await c.ws.close()
        assert await b.recv() == {"t": "peer-left", "peerId": c.peer_id}
        a2, answer = await resume_with(server.url, joined["resumeToken"])
        assert answer["t"] == "joined" and answer["resumed"] is True
        assert answer["peerId"] == a.peer_id
        assert answer["peers"] == [b.peer_id]
        assert answer["resumeToken"].startswith("v1.")
        expected = [
            {"t": "sdp", "from": b.peer_id, "description": offer},
            *(
                {"t": "ice", "from": b.peer_id, "candidate": {"candidate": f"c{i}"}}
                for i in range(5)
            ),
            {"t": "ice", "from": b.peer_id, "candidate": {"candidate": "to everyone"}},
            {"t": "peer-joined", "peerId": c.peer_id},
            {"t": "peer-left", "peerId": c.peer_id},
        ]
        assert [await a2.recv() for _ in expected] == expected
        await a2.expect_silence(0.2)  # no FRAMES_LOST: nothing was dropped
        await b.expect_silence(0.2)  # b never heard a leave or a join of a
        # Relay both ways under the old id.
        await a2.send({"t": "sdp", "to": b.peer_id, "description": {"type": "answer"}})
        assert await b.recv() == {
            "t": "sdp",
            "from": a.peer_id,
            "description": {"type": "answer"},
        }
        await b.send({"t": "ice", "to": a.peer_id, "candidate": {"candidate": "after"}})
        assert (await a2.recv())["candidate"] == {"candidate": "after"}


async def test_past_the_buffer_the_resumed_peer_is_told_to_renegotiate(transport: str) -> None:
    async with signaling_server(transport, resume=Resume(grace=30, buffer=4)) as server:
        a, joined = await opted_in(server.url)
        b, _ = await opted_in(server.url)
        await a.recv()
        drop(a)
        await asyncio.sleep(0.2)
        for i in range(10):
            await b.send({"t": "ice", "to": a.peer_id, "candidate": {"n": i}})
        a2, answer = await resume_with(server.url, joined["resumeToken"])
        assert answer["t"] == "joined" and answer["resumed"] is True
        kept = [(await a2.recv())["candidate"]["n"] for _ in range(4)]
        assert kept == [0, 1, 2, 3]  # the oldest are kept: the offer usually comes first
        assert await a2.recv() == {"t": "error", "message": protocol.FRAMES_LOST}
        await a2.expect_silence(0.2)


async def test_a_huge_frame_for_an_away_peer_is_not_kept(transport: str) -> None:
    """The buffer is bounded in size too: a peer cannot park megabytes on an away peer."""
    async with signaling_server(transport, resume=Resume(grace=30)) as server:
        a, joined = await opted_in(server.url)
        b, _ = await opted_in(server.url)
        await a.recv()
        drop(a)
        await asyncio.sleep(0.2)
        await b.send({"t": "ice", "to": a.peer_id, "candidate": {"n": 1}})
        await b.send({"t": "sdp", "to": a.peer_id, "description": {"sdp": "x" * 600_000}})
        await b.send({"t": "ice", "to": a.peer_id, "candidate": {"n": 2}})
        a2, answer = await resume_with(server.url, joined["resumeToken"])
        assert answer["t"] == "joined"
        assert await a2.recv() == {"t": "ice", "from": b.peer_id, "candidate": {"n": 1}}
        assert await a2.recv() == {"t": "error", "message": protocol.FRAMES_LOST}
        await a2.expect_silence(0.2)


async def test_a_replayed_token_wins_and_the_older_socket_is_closed_4410(transport: str) -> None:
    async with signaling_server(transport, resume=Resume(grace=30)) as server:
        a, joined = await opted_in(server.url)
        b, _ = await opted_in(server.url)
        await a.recv()
        # The same client reconnecting before the server noticed its old socket died.
        a2, answer = await resume_with(server.url, joined["resumeToken"])
        assert answer["t"] == "joined" and answer["peerId"] == a.peer_id
        assert answer["resumed"] is True and answer["peers"] == [b.peer_id]
        with pytest.raises(ConnectionClosed) as closed:
            await a.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == protocol.RESUMED_CLOSE_CODE == 4410
        assert closed.value.rcvd.reason == "Resumed on another connection"
        await b.expect_silence(0.3)  # no leave, no join
        await b.send({"t": "ice", "to": a.peer_id, "candidate": {"n": 1}})
        assert await a2.recv() == {"t": "ice", "from": b.peer_id, "candidate": {"n": 1}}
        assert await server.hub.get_rooms() == {ROOM: [a.peer_id, b.peer_id]}
        # The newest token works too, and so does the first one (both unexpired).
        _a3, again = await resume_with(server.url, answer["resumeToken"])
        assert again["peerId"] == a.peer_id
        with pytest.raises(ConnectionClosed):
            await a2.recv()


async def test_stale_tokens_are_refused_and_the_socket_can_still_join(transport: str) -> None:
    async with signaling_server(transport, max_peers=4, resume=Resume(grace=30)) as server:
        hub = server.hub
        a, joined = await opted_in(server.url)
        b, _ = await opted_in(server.url)
        # Expired: signed by this server, but its exp has passed.
        old = hub.resume.issue(a.peer_id or "", ROOM, 4, None, now=time.time() - 90000)
        c, answer = await resume_with(server.url, old)
        assert answer == {"t": "error", "message": protocol.RESUME_EXPIRED}
        # Another room.
        await c.send({"t": "join", "roomId": "elsewhere", "resumeToken": joined["resumeToken"]})
        assert await c.recv() == {"t": "error", "message": protocol.RESUME_OTHER_ROOM}
        # Tampered with, or not a token at all.
        head, body, sig = joined["resumeToken"].split(".")
        forged = f"{head}.{body[:-2]}AA.{sig}"
        for bad in (forged, "v1.x.y", "nonsense", "v2." + body + "." + sig):
            await c.send({"t": "join", "roomId": ROOM, "resumeToken": bad})
            assert await c.recv() == {"t": "error", "message": protocol.RESUME_INVALID}
        # Kicked: gone, and its token with it.
        assert await hub.kick(b.peer_id or "")
        await c.send({"t": "join", "roomId": ROOM, "resumeToken": TOKENS[b.peer_id or ""]})
        assert await c.recv() == {"t": "error", "message": protocol.RESUME_ENDED}
        # Kicked while away: the room hears it leave at once.
        drop(a)
        await asyncio.sleep(0.2)
        watcher = await SignalClient.connect(server.url)
        await watcher.join(ROOM)
        assert await hub.kick(a.peer_id or "")
        assert await watcher.recv() == {"t": "peer-left", "peerId": a.peer_id}
        await c.send({"t": "join", "roomId": ROOM, "resumeToken": joined["resumeToken"]})
        assert await c.recv() == {"t": "error", "message": protocol.RESUME_ENDED}
        # After every refusal the socket is open and unjoined.
        fresh = await c.join(ROOM)
        assert fresh["peers"] == [watcher.peer_id]


async def test_bad_resume_fields_get_an_error_and_the_socket_lives(transport: str) -> None:
    async with signaling_server(transport) as server:
        c = await SignalClient.connect(server.url)
        for field, value, message in (
            ("resume", "yes", protocol.INVALID_RESUME),
            ("resume", 1, protocol.INVALID_RESUME),
            ("resumeToken", 42, protocol.INVALID_RESUME_TOKEN),
            ("resumeToken", "", protocol.INVALID_RESUME_TOKEN),
            ("resumeToken", ["v1"], protocol.INVALID_RESUME_TOKEN),
        ):
            await c.send({"t": "join", "roomId": ROOM, field: value})
            assert await c.recv() == {"t": "error", "message": message}, (field, value)
        await c.send({"t": "join", "roomId": ROOM, "resume": False})
        joined = await c.recv()
        assert joined["t"] == "joined" and "resumeToken" not in joined


async def test_resume_off_issues_no_token_and_refuses_resumes(transport: str) -> None:
    async with signaling_server(transport, resume=Resume.off()) as server:
        a, joined = await opted_in(server.url)
        assert "resumeToken" not in joined and "resumeGrace" not in joined
        b = await SignalClient.connect(server.url)
        await b.join(ROOM)
        await a.recv()
        drop(a)  # no grace window: it leaves at once
        assert await b.recv() == {"t": "peer-left", "peerId": a.peer_id}
        c, answer = await resume_with(server.url, "v1.a.b")
        assert answer == {"t": "error", "message": protocol.RESUME_OFF}
        await c.close()


async def test_with_auth_the_resuming_socket_must_be_the_same_identity(transport: str) -> None:
    secret = "resume-test-secret-" + "x" * 40
    auth = JoinTokens(secret)

    def url_for(base: str, who: str) -> str:
        return f"{base}?token={create(secret, room='*', identity=who)}"

    async with signaling_server(transport, auth=auth, resume=Resume(grace=30)) as server:
        a, joined = await opted_in(url_for(server.url, "alice"))
        b, _ = await opted_in(url_for(server.url, "bob"))
        await a.recv()
        drop(a)
        await asyncio.sleep(0.2)
        mallory, answer = await resume_with(url_for(server.url, "mallory"), joined["resumeToken"])
        assert answer == {"t": "error", "message": protocol.RESUME_OTHER_IDENTITY}
        await mallory.close()
        _a2, answer = await resume_with(url_for(server.url, "alice"), joined["resumeToken"])
        assert answer["t"] == "joined" and answer["peerId"] == a.peer_id
        assert server.hub.peer_identity(a.peer_id or "") is not None
        await b.expect_silence(0.2)


async def test_a_replaced_identity_cannot_resume(transport: str) -> None:
    secret = "resume-test-secret-" + "y" * 40

    def url_for(base: str, who: str) -> str:
        return f"{base}?token={create(secret, room='*', identity=who)}"

    async with signaling_server(
        transport,
        auth=JoinTokens(secret),
        on_duplicate_identity="replace",
        resume=Resume(grace=30),
    ) as server:
        a, joined = await opted_in(url_for(server.url, "alice"))
        drop(a)  # away...
        await asyncio.sleep(0.2)
        newer, _ = await opted_in(url_for(server.url, "alice"))  # ...and replaced by a fresh join
        assert await server.hub.get_rooms() == {ROOM: [newer.peer_id]}
        again, answer = await resume_with(url_for(server.url, "alice"), joined["resumeToken"])
        assert answer == {"t": "error", "message": protocol.RESUME_ENDED}
        await again.close()


async def test_the_away_peer_keeps_its_slot(transport: str) -> None:
    async with signaling_server(transport, resume=Resume(grace=30)) as server:
        a, joined = await opted_in(server.url)
        b, _ = await opted_in(server.url)
        drop(a)
        await asyncio.sleep(0.2)
        c = await SignalClient.connect(server.url)
        await c.send({"t": "join", "roomId": ROOM})
        assert await c.recv() == {"t": "error", "message": protocol.room_full(2)}
        await c.close()
        _a2, answer = await resume_with(server.url, joined["resumeToken"])
        assert answer["t"] == "joined" and answer["peerId"] == a.peer_id
        await asyncio.wait_for(b.ws.close(), WAIT)


async def test_the_resume_example_keeps_peers_across_a_restart_of_the_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """examples/resume_app.py: a token from one run of the app resumes on a new one (the
    same secret), under the old peer id."""
    monkeypatch.setenv("RTCROOM_SECRET", "example-secret-" + "s" * 40)
    first = load_example("resume_app")
    async with run_uvicorn(first.app) as port:
        url = f"ws://127.0.0.1:{port}/api/call/signal"
        a, joined = await opted_in(url)
        assert joined["resumeGrace"] == 60
        drop(a)
    again = load_example("resume_app")  # the app started anew: empty rooms, the same key
    async with run_uvicorn(again.app) as port:
        url = f"ws://127.0.0.1:{port}/api/call/signal"
        b, answer = await resume_with(url, joined["resumeToken"])
        assert answer["t"] == "joined" and answer["peerId"] == a.peer_id
        assert answer["resumed"] is True
        assert await b.recv() == {"t": "error", "message": protocol.FRAMES_LOST}
        await b.close()
