"""Every row of the wire contract, on every transport, with real sockets."""

from __future__ import annotations

import re

import pytest

from .support import RunningServer, SignalClient, join_room

PEER_ID = re.compile(r"^peer-\d{13}-\d+$")


async def test_two_peer_sequence(server: RunningServer) -> None:
    a = await SignalClient.connect(server.url)
    joined_a = await a.join("room1")
    assert joined_a == {"t": "joined", "peerId": a.peer_id, "roomId": "room1", "peers": []}
    assert PEER_ID.match(joined_a["peerId"])

    b = await SignalClient.connect(server.url)
    joined_b = await b.join("room1")
    assert joined_b["peers"] == [a.peer_id]
    assert joined_b["roomId"] == "room1"
    assert PEER_ID.match(joined_b["peerId"]) and b.peer_id != a.peer_id
    assert b.peer_id is not None and a.peer_id is not None and b.peer_id > a.peer_id
    assert await a.recv() == {"t": "peer-joined", "peerId": b.peer_id}

    offer = {"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"}
    await b.send({"t": "sdp", "from": "spoofed", "to": a.peer_id, "description": offer})
    assert await a.recv() == {"t": "sdp", "from": b.peer_id, "description": offer}

    answer = {"type": "answer", "sdp": "v=0\r\n", "extra": [1, {"x": None}]}
    await a.send({"t": "sdp", "from": a.peer_id, "to": b.peer_id, "description": answer})
    assert await b.recv() == {"t": "sdp", "from": a.peer_id, "description": answer}

    cand = {
        "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
        "usernameFragment": "abcd",
    }
    await a.send({"t": "ice", "from": "x", "to": b.peer_id, "candidate": cand})
    assert await b.recv() == {"t": "ice", "from": a.peer_id, "candidate": cand}
    end = {"candidate": "", "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": None}
    await a.send({"t": "ice", "to": b.peer_id, "candidate": end})
    assert await b.recv() == {"t": "ice", "from": a.peer_id, "candidate": end}

    await b.close()
    assert await a.recv() == {"t": "peer-left", "peerId": b.peer_id}
    await a.expect_silence()
    await a.close()


async def test_server_sends_nothing_on_open(server: RunningServer) -> None:
    client = await SignalClient.connect(server.url)
    await client.expect_silence()
    await client.close()


ERROR_ROWS = [
    ("not json", "Invalid JSON"),
    ("{", "Invalid JSON"),
    ("", "Invalid JSON"),
    (b"\x00\x01binary", "Invalid JSON"),
    (b'{"t":"join","roomId":"r"}', "Invalid JSON"),  # binary frames are never JSON
    ("null", "Invalid message format"),
    ("[1,2]", "Invalid message format"),
    ("{}", "Invalid message format"),
    ('"join"', "Invalid message format"),
    ('{"t":5}', "Invalid message format"),
    ('{"t":null}', "Invalid message format"),
    ('{"t":"join"}', "Missing or invalid roomId"),
    ('{"t":"join","roomId":""}', "Missing or invalid roomId"),
    ('{"t":"join","roomId":7}', "Missing or invalid roomId"),
    ('{"t":"join","roomId":null}', "Missing or invalid roomId"),
    ('{"t":"sdp"}', "Missing or invalid description"),
    ('{"t":"sdp","description":"offer"}', "Missing or invalid description"),
    ('{"t":"sdp","description":null}', "Missing or invalid description"),
    ('{"t":"ice"}', "Missing or invalid candidate"),
    ('{"t":"ice","candidate":"candidate:1"}', "Missing or invalid candidate"),
    ('{"t":"ice","candidate":3}', "Missing or invalid candidate"),
    ('{"t":"leave"}', "Unknown message type: leave"),
    ('{"t":"joined","peerId":"x"}', "Unknown message type: joined"),
    ('{"t":""}', "Unknown message type: "),
    ('{"t":"sdp","description":{"type":"offer"}}', "Not in a room"),
    ('{"t":"sdp","description":[]}', "Not in a room"),  # arrays pass the object check
    ('{"t":"ice","candidate":{"candidate":""}}', "Not in a room"),
]


@pytest.mark.parametrize(("frame", "message"), ERROR_ROWS)
async def test_error_replies_keep_the_socket_open(
    server: RunningServer, frame: str | bytes, message: str
) -> None:
    client = await SignalClient.connect(server.url)
    await client.send(frame)
    assert await client.recv() == {"t": "error", "message": message}
    # the socket still works: the same client joins and relays afterwards
    await client.join("after-error")
    other = await SignalClient.connect(server.url)
    await other.join("after-error")
    assert (await client.recv())["t"] == "peer-joined"
    await other.send({"t": "sdp", "description": {"type": "offer", "sdp": "x"}})
    assert (await client.recv())["from"] == other.peer_id
    await client.close()
    await other.close()


@pytest.mark.parametrize(("frame", "message"), ERROR_ROWS[:-3])
async def test_errors_after_join_keep_membership(
    server: RunningServer, frame: str | bytes, message: str
) -> None:
    a, b = await join_room(server.url, "joined-errors", 2)
    await a.send(frame)
    assert await a.recv() == {"t": "error", "message": message}
    await b.expect_silence(0.05)
    await a.send({"t": "ice", "to": b.peer_id, "candidate": {"candidate": "c"}})
    assert await b.recv() == {"t": "ice", "from": a.peer_id, "candidate": {"candidate": "c"}}
    await a.close()
    await b.close()


async def test_room_full_error_keeps_socket_and_registers_nothing(server: RunningServer) -> None:
    a, b = await join_room(server.url, "full", 2)
    c = await SignalClient.connect(server.url)
    await c.send({"t": "join", "roomId": "full"})
    assert await c.recv() == {"t": "error", "message": "Room is full (max 2 peers)"}
    await a.expect_silence(0.1)
    # not registered: relaying is refused, but another room is still open to this socket
    await c.send({"t": "sdp", "description": {"type": "offer"}})
    assert await c.recv() == {"t": "error", "message": "Not in a room"}
    assert (await server.hub.get_rooms()) == {"full": [a.peer_id, b.peer_id]}
    await b.close()
    assert (await a.recv())["t"] == "peer-left"
    await c.join("full")
    assert await a.recv() == {"t": "peer-joined", "peerId": c.peer_id}
    for client in (a, c):
        await client.close()


async def test_second_join_on_one_socket_is_refused(server: RunningServer) -> None:
    a = await SignalClient.connect(server.url)
    await a.join("r1")
    await a.send({"t": "join", "roomId": "r2"})
    reply = await a.recv()
    assert reply["t"] == "error" and reply["message"].startswith("Already in a room")
    assert await server.hub.get_rooms() == {"r1": [a.peer_id]}
    await a.close()


async def test_relay_without_to_broadcasts_and_unknown_to_is_dropped(server: RunningServer) -> None:
    a, b = await join_room(server.url, "bcast", 2)
    for to in (None, "", 0, False):
        frame = {"t": "ice", "candidate": {"candidate": "x"}}
        if to is not None:
            frame["to"] = to
        await a.send(frame)
        assert await b.recv() == {"t": "ice", "from": a.peer_id, "candidate": {"candidate": "x"}}
    for to in ("peer-0000000000000-99", "nobody", 17, ["x"]):
        await a.send({"t": "ice", "to": to, "candidate": {"candidate": "x"}})
    await a.expect_silence(0.1)
    await b.expect_silence(0.2)
    # a silent drop is not an error: the sender can go on relaying
    await a.send({"t": "sdp", "to": b.peer_id, "description": {"type": "offer"}})
    assert (await b.recv())["t"] == "sdp"
    await a.close()
    await b.close()


async def test_rooms_are_isolated(server: RunningServer) -> None:
    a1, b1 = await join_room(server.url, "one", 2)
    a2, b2 = await join_room(server.url, "two", 2)
    await a1.send({"t": "sdp", "to": a2.peer_id, "description": {"type": "offer"}})
    await a1.send({"t": "sdp", "description": {"type": "offer"}})
    assert (await b1.recv())["from"] == a1.peer_id
    await a2.expect_silence(0.1)
    await b2.expect_silence(0.1)
    for client in (a1, b1, a2, b2):
        await client.close()


async def test_http_get_on_the_endpoint_says_what_it_is(
    server: RunningServer, transport: str
) -> None:
    import httpx

    async with httpx.AsyncClient() as http:
        url = server.url.replace("ws://", "http://")
        response = await http.get(url)
    if transport == "uvicorn":  # Starlette answers a plain GET on a WebSocket-only route
        assert response.status_code == 404
    else:
        assert response.status_code == 426
        assert response.text == "This is an rtcroom signaling endpoint: connect with a WebSocket.\n"
