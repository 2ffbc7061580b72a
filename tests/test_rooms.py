"""Rooms under load, concurrency, disconnects, callbacks and the host app's controls."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

import orjson
import pytest

from rtcroom import SignalingCallbacks
from rtcroom import aiohttp as rtc_aiohttp

from .support import SignalClient, join_room, signaling_server


async def test_targeted_and_broadcast_relay_in_a_room_of_four(transport: str) -> None:
    async with signaling_server(transport, max_peers=4) as server:
        a, b, c, d = await join_room(server.url, "mesh", 4)
        # joined lists grow in join order
        assert (await server.hub.get_rooms())["mesh"] == [x.peer_id for x in (a, b, c, d)]
        await a.send({"t": "sdp", "to": c.peer_id, "description": {"type": "offer", "n": 1}})
        assert await c.recv() == {
            "t": "sdp",
            "from": a.peer_id,
            "description": {"type": "offer", "n": 1},
        }
        await b.expect_silence(0.1)
        await d.expect_silence(0.1)
        await a.send({"t": "ice", "candidate": {"candidate": "all"}})
        for other in (b, c, d):
            assert await other.recv() == {
                "t": "ice",
                "from": a.peer_id,
                "candidate": {"candidate": "all"},
            }
        await a.expect_silence(0.1)  # a broadcast never echoes to its sender
        for client in (a, b, c, d):
            await client.close()


async def test_a_thousand_messages_arrive_in_order(transport: str) -> None:
    async with signaling_server(transport, max_peers=3) as server:
        a, b, c = await join_room(server.url, "order", 3)
        for i in range(1000):
            await a.send(
                {
                    "t": "ice",
                    "to": b.peer_id if i % 2 else None,
                    "candidate": {"candidate": f"c{i}", "sdpMLineIndex": i},
                }
            )
        seen_b = [(await b.recv())["candidate"]["sdpMLineIndex"] for _ in range(1000)]
        seen_c = [(await c.recv())["candidate"]["sdpMLineIndex"] for _ in range(500)]
        assert seen_b == list(range(1000))
        assert seen_c == list(range(0, 1000, 2))
        for client in (a, b, c):
            await client.close()


async def test_fifty_simultaneous_joins_admit_exactly_max_peers(transport: str) -> None:
    async with signaling_server(transport, max_peers=10) as server:
        clients = await asyncio.gather(*(SignalClient.connect(server.url) for _ in range(50)))
        await asyncio.gather(*(c.send({"t": "join", "roomId": "crowd"}) for c in clients))
        replies = await asyncio.gather(*(c.recv() for c in clients))
        joined = [r for r in replies if r["t"] == "joined"]
        full = [r for r in replies if r == {"t": "error", "message": "Room is full (max 10 peers)"}]
        assert len(joined) == 10 and len(full) == 40
        assert len({r["peerId"] for r in joined}) == 10
        rooms = await server.hub.get_rooms()
        assert sorted(rooms["crowd"]) == sorted(r["peerId"] for r in joined)
        await asyncio.gather(*(c.close() for c in clients))


def _reset(client: SignalClient) -> None:
    """Abort the TCP connection with an RST, the way a crashed browser tab ends it."""
    sock = client.ws.transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.ws.transport.abort()


async def test_abrupt_disconnects_announce_each_peer_once(transport: str) -> None:
    events: list[tuple[Any, ...]] = []
    callbacks = SignalingCallbacks(
        on_peer_leave=lambda p, r, why: events.append(("leave", p, r, why)),
        on_room_destroyed=lambda r: events.append(("destroyed", r)),
    )
    async with signaling_server(transport, max_peers=4, callbacks=callbacks) as server:
        a, b, c = await join_room(server.url, "crash", 3)
        # b dies mid-relay: frames keep flowing from a while b's socket is reset
        sending = asyncio.create_task(_flood(a, b.peer_id, 300))
        await asyncio.sleep(0.01)
        _reset(b)
        await sending
        left = await _collect_until(c, "peer-left", 1)
        assert left == [{"t": "peer-left", "peerId": b.peer_id}]
        _reset(c)
        left_a = await _collect_until(a, "peer-left", 2)
        assert [m["peerId"] for m in left_a] == [b.peer_id, c.peer_id]
        await a.close()
        for _ in range(200):
            if ("destroyed", "crash") in events:
                break
            await asyncio.sleep(0.02)
        leaves = [e for e in events if e[0] == "leave"]
        assert sorted(e[1] for e in leaves) == sorted(x.peer_id for x in (a, b, c))
        assert all(e[3] == "disconnect" for e in leaves)
        assert events.count(("destroyed", "crash")) == 1
        assert await server.hub.get_rooms() == {}


async def _flood(sender: SignalClient, to: str | None, count: int) -> None:
    for i in range(count):
        await sender.send({"t": "ice", "to": to, "candidate": {"candidate": f"{i}"}})


async def _collect_until(client: SignalClient, kind: str, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for _ in range(2000):  # bounded: relayed frames may precede the notices
        msg = await client.recv()
        if msg["t"] == kind:
            found.append(msg)
            if len(found) == count:
                return found
    raise AssertionError(f"fewer than {count} {kind} frames")


async def test_callbacks_fire_in_order_sync_and_async(transport: str) -> None:
    events: list[tuple[Any, ...]] = []

    async def on_peer_join(peer_id: str, room_id: str) -> None:
        await asyncio.sleep(0)
        events.append(("join", peer_id, room_id))

    callbacks = SignalingCallbacks(
        on_room_created=lambda r: events.append(("created", r)),
        on_peer_join=on_peer_join,
        on_peer_leave=lambda p, r, why: events.append(("leave", p, r, why)),
        on_room_destroyed=lambda r: events.append(("destroyed", r)),
        on_message=lambda kind, frm, to, r: events.append(("message", kind, frm, to, r)),
        on_error=lambda err, p, r: events.append(("error", str(err), p, r)),
    )
    async with signaling_server(transport, callbacks=callbacks) as server:
        a, b = await join_room(server.url, "cb", 2)
        await a.send({"t": "sdp", "to": b.peer_id, "description": {}})
        await b.recv()
        await a.send({"t": "ice", "to": "ghost", "candidate": {}})  # dropped, still reported
        await a.send("garbage")
        await a.recv()
        c = await SignalClient.connect(server.url)
        await c.send({"t": "join", "roomId": "cb"})
        await c.recv()
        await c.send({"t": "sdp", "description": {}})
        await c.recv()
        await b.close()
        await a.recv()
        await a.close()
        await c.close()
        for _ in range(200):
            if events and events[-1][0] == "destroyed":
                break
            await asyncio.sleep(0.02)
    assert events == [
        ("created", "cb"),
        ("join", a.peer_id, "cb"),
        ("join", b.peer_id, "cb"),
        ("message", "sdp", a.peer_id, b.peer_id, "cb"),
        ("message", "ice", a.peer_id, "ghost", "cb"),
        ("error", "Invalid JSON", a.peer_id, "cb"),
        ("error", "Room is full (max 2 peers)", None, "cb"),
        ("error", "Not in a room", None, None),
        ("leave", b.peer_id, "cb", "disconnect"),
        ("leave", a.peer_id, "cb", "disconnect"),
        ("destroyed", "cb"),
    ]


@pytest.mark.parametrize(
    "failing",
    [
        "on_room_created",
        "on_peer_join",
        "on_message",
        "on_peer_leave",
        "on_room_destroyed",
        "on_error",
    ],
)
async def test_a_raising_callback_breaks_nothing(
    transport: str, failing: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(*args: Any) -> None:
        raise RuntimeError(f"{failing} exploded")

    callbacks = SignalingCallbacks(**{failing: boom})
    async with signaling_server(transport, callbacks=callbacks) as server:
        a, b = await join_room(server.url, "fragile", 2)  # every peer still gets joined
        await a.send("not json")
        assert (await a.recv())["message"] == "Invalid JSON"
        await a.send({"t": "sdp", "to": b.peer_id, "description": {"type": "offer"}})
        assert (await b.recv())["from"] == a.peer_id
        await b.close()
        assert await a.recv() == {"t": "peer-left", "peerId": b.peer_id}
        await a.close()
        for _ in range(200):
            if not await server.hub.get_rooms():
                break
            await asyncio.sleep(0.02)
        assert await server.hub.get_rooms() == {}
        # the room is reusable afterwards
        c, d = await join_room(server.url, "fragile", 2)
        await c.close()
        await d.close()
    assert f"{failing} exploded" in caplog.text


async def test_kick_closes_the_socket_and_tells_the_room(transport: str) -> None:
    reasons: list[tuple[str, str]] = []
    callbacks = SignalingCallbacks(on_peer_leave=lambda p, r, why: reasons.append((p, why)))
    async with signaling_server(transport, max_peers=3, callbacks=callbacks) as server:
        a, b, c = await join_room(server.url, "kick", 3)
        assert b.peer_id is not None
        assert await server.hub.kick(b.peer_id) is True
        assert await a.recv() == {"t": "peer-left", "peerId": b.peer_id}
        assert await c.recv() == {"t": "peer-left", "peerId": b.peer_id}
        await asyncio.wait_for(b.ws.wait_closed(), 5)
        assert b.ws.close_code == 4000
        assert reasons == [(b.peer_id, "kicked")]
        assert await server.hub.kick(b.peer_id) is False
        assert await server.hub.kick("peer-0-0") is False
        await a.expect_silence(0.2)  # the later socket close announces nothing twice
        stats = await server.hub.get_room_stats()
        assert (stats.room_count, stats.total_peers) == (1, 2)
        assert server.hub.local_peers() == {a.peer_id: "kick", c.peer_id: "kick"}
        await a.close()
        await c.close()


async def test_room_id_length_is_limited(transport: str) -> None:
    async with signaling_server(transport, max_room_id_length=16) as server:
        client = await SignalClient.connect(server.url)
        await client.send({"t": "join", "roomId": "x" * 17})
        assert await client.recv() == {
            "t": "error",
            "message": "roomId too long (max 16 characters)",
        }
        await client.join("x" * 16)
        await client.close()


async def test_oversized_frame_closes_with_1009(transport: str) -> None:
    async with signaling_server(transport, max_message_bytes=4096) as server:
        client = await SignalClient.connect(server.url)
        await client.join("big")
        await client.send({"t": "sdp", "description": {"sdp": "x" * 5000}})
        await asyncio.wait_for(client.ws.wait_closed(), 5)
        assert client.ws.close_code == 1009
        for _ in range(100):
            if not await server.hub.get_rooms():
                break
            await asyncio.sleep(0.02)
        assert await server.hub.get_rooms() == {}


async def test_invalid_options_raise_clear_errors() -> None:
    from rtcroom import webrtc

    with pytest.raises(ValueError, match="max_peers must be a positive integer"):
        webrtc(max_peers=0)
    with pytest.raises(ValueError, match="max_message_bytes must be a positive integer"):
        webrtc(max_message_bytes=0)
    with pytest.raises(ValueError, match="max_message_bytes must be a positive integer"):
        rtc_aiohttp.webrtc(max_message_bytes=-1)
    with pytest.raises(TypeError, match="SignalingCallbacks"):
        webrtc(callbacks={"on_peer_join": print})  # type: ignore[arg-type]


def _sdp_frame_of(size: int) -> str:
    """An ``sdp`` frame of exactly ``size`` UTF-8 bytes, mostly two-byte characters (é), so
    its length in characters is about half its length in bytes."""
    head, tail = '{"t":"sdp","description":{"sdp":"', '"}}'
    room = size - len(head) - len(tail)
    frame = head + "é" * (room // 2) + "x" * (room % 2) + tail
    assert len(frame.encode()) == size and len(frame) < size * 0.6
    return frame


async def test_frame_limit_counts_utf8_bytes(transport: str) -> None:
    """One rule on every transport: a frame of max_message_bytes bytes passes, one byte more
    closes the socket with 1009, however few characters it has."""
    async with signaling_server(transport, max_message_bytes=4096) as server:
        a, b = await join_room(server.url, "utf8", 2)
        at_limit = _sdp_frame_of(4096)
        await a.send(at_limit)
        relayed = await b.recv()
        assert relayed["from"] == a.peer_id
        assert relayed["description"] == orjson.loads(at_limit)["description"]
        await a.send(_sdp_frame_of(4097))
        await asyncio.wait_for(a.ws.wait_closed(), 5)
        assert a.ws.close_code == 1009
        assert await b.recv() == {"t": "peer-left", "peerId": a.peer_id}
        await b.close()
