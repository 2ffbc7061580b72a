"""The Redis examples (examples/redis_starlette.py, redis_aiohttp.py): an ASGI process and an
aiohttp process on one Redis share a room."""

from __future__ import annotations

import pytest

from tests.examples import load_example

from ..support import SIGNAL_PATH, SignalClient, run_aiohttp, run_uvicorn


async def test_examples_share_rooms_across_asgi_and_aiohttp(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    asgi, aio = load_example("redis_starlette"), load_example("redis_aiohttp")
    async with run_uvicorn(asgi.app) as port1, run_aiohttp(aio.app) as port2:
        a = await SignalClient.connect(f"ws://127.0.0.1:{port1}{SIGNAL_PATH}")
        b = await SignalClient.connect(f"ws://127.0.0.1:{port2}{SIGNAL_PATH}")
        await a.join("examples")
        assert (await b.join("examples"))["peers"] == [a.peer_id]
        assert await a.recv() == {"t": "peer-joined", "peerId": b.peer_id}
        await b.send({"t": "sdp", "to": a.peer_id, "description": {"type": "offer"}})
        assert await a.recv() == {"t": "sdp", "from": b.peer_id, "description": {"type": "offer"}}
        await a.close()
        assert await b.recv() == {"t": "peer-left", "peerId": a.peer_id}
        await b.close()
