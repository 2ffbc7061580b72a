"""Arbitrary frames never break the server and always get the reply the protocol prescribes.

The expected reply comes from an oracle written from the table in docs/protocol.md, independent of
``rtcroom.protocol``. After every fuzzed frame the client sends a sentinel with a known reply;
frames are answered in order, so whatever arrives before the sentinel's reply is exactly what
the fuzzed frame produced.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from .support import TRANSPORTS, signaling_server

SENTINEL = '{"t":"sentinel"}'
SENTINEL_REPLY = {"t": "error", "message": "Unknown message type: sentinel"}


def oracle(frame: str | bytes, joined: bool) -> dict[str, Any] | str | None:
    """The reply the table prescribes; ``"joined"`` for a successful join, None for silence."""
    if isinstance(frame, bytes):
        return {"t": "error", "message": "Invalid JSON"}
    try:
        msg = json.loads(frame, parse_constant=lambda name: (_ for _ in ()).throw(ValueError()))
    except (ValueError, RecursionError):
        return {"t": "error", "message": "Invalid JSON"}
    if not isinstance(msg, dict) or not isinstance(msg.get("t"), str):
        return {"t": "error", "message": "Invalid message format"}
    t = msg["t"]
    if t == "join":
        room_id = msg.get("roomId")
        if not isinstance(room_id, str) or room_id == "":
            return {"t": "error", "message": "Missing or invalid roomId"}
        if joined:
            return "already"
        if len(room_id) > 256:
            return {"t": "error", "message": "roomId too long (max 256 characters)"}
        return "joined"
    if t in ("sdp", "ice"):
        key = "description" if t == "sdp" else "candidate"
        if not isinstance(msg.get(key), dict | list):
            what = "description" if t == "sdp" else "candidate"
            return {"t": "error", "message": f"Missing or invalid {what}"}
        if not joined:
            return {"t": "error", "message": "Not in a room"}
        return None  # alone in the room: a broadcast or a targeted relay reaches nobody
    return {"t": "error", "message": f"Unknown message type: {t}"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
protocolish = st.fixed_dictionaries(
    {"t": st.sampled_from(["join", "sdp", "ice", "joined", "leave", "", "error"])},
    optional={
        "roomId": json_values | st.text(min_size=1, max_size=300),
        "description": json_values,
        "candidate": json_values,
        "to": json_values,
        "from": json_values,
    },
)
frames = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=64),
    json_values.map(json.dumps),
    protocolish.map(json.dumps),
)


@pytest.fixture(scope="module", params=TRANSPORTS)
def threaded_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """A real server on its own event loop thread, so hypothesis can drive it synchronously."""
    loop = asyncio.new_event_loop()
    ready: asyncio.Future[str] = loop.create_future()
    stop = asyncio.Event()

    async def serve() -> None:
        async with signaling_server(request.param, max_peers=2) as server:
            ready.set_result(server.url)
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    url = asyncio.run_coroutine_threadsafe(
        asyncio.wait_for(asyncio.shield(ready), 10), loop
    ).result(15)
    yield url
    loop.call_soon_threadsafe(stop.set)
    thread.join(15)


def _exchange(ws: ClientConnection, frame: str | bytes) -> list[dict[str, Any]]:
    ws.send(frame)
    ws.send(SENTINEL)
    replies = []
    for _ in range(5):
        reply = orjson.loads(ws.recv(timeout=10))
        if reply == SENTINEL_REPLY:
            return replies
        replies.append(reply)
    raise AssertionError(f"too many replies to {frame!r}: {replies}")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(frames, min_size=1, max_size=8))
def test_any_frame_gets_the_prescribed_reply(
    threaded_server: str, batch: list[str | bytes]
) -> None:
    with connect(threaded_server, open_timeout=10) as ws:
        joined = False
        for frame in batch:
            expected = oracle(frame, joined)
            replies = _exchange(ws, frame)
            if expected == "joined":
                assert len(replies) == 1 and replies[0]["t"] == "joined", (frame, replies)
                joined = True
            elif expected == "already":
                assert len(replies) == 1, (frame, replies)
                assert replies[0]["message"].startswith("Already in a room")
            elif expected is None:
                assert replies == [], (frame, replies)
            else:
                assert replies == [expected], (frame, replies)
