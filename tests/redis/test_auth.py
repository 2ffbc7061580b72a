"""A Redis that wants a password: the right one works, a wrong one is reported plainly."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from rtcroom import RedisBackend
from rtcroom.protocol import UNAVAILABLE

from ..support import SignalClient, signaling_server
from .conftest import RedisServer


@pytest.fixture
def secured_redis() -> Iterator[int]:
    server = RedisServer("--requirepass", "s3cret")
    server.start()  # (its PING readiness check answers NOAUTH, which is still an answer)
    try:
        yield server.port
    finally:
        server.stop()


async def test_password_in_the_url_is_used(secured_redis: int) -> None:
    url = f"redis://:s3cret@127.0.0.1:{secured_redis}/0"
    async with (
        signaling_server("uvicorn", backend=RedisBackend(url)) as s1,
        signaling_server("aiohttp", backend=RedisBackend(url)) as s2,
    ):
        a, b = await SignalClient.connect(s1.url), await SignalClient.connect(s2.url)
        await a.join("r")
        await b.join("r")
        assert await a.recv() == {"t": "peer-joined", "peerId": b.peer_id}
        await b.send({"t": "ice", "to": a.peer_id, "candidate": {"ok": 1}})
        assert await a.recv() == {"t": "ice", "from": b.peer_id, "candidate": {"ok": 1}}
        await a.close()
        await b.close()


async def test_wrong_password_refuses_joins_and_says_why(
    secured_redis: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rtcroom.redis")
    url = f"redis://:wrong@127.0.0.1:{secured_redis}/0"
    async with signaling_server("uvicorn", backend=RedisBackend(url)) as s:
        client = await SignalClient.connect(s.url)
        await client.send({"t": "join", "roomId": "r"})
        assert await client.recv() == {"t": "error", "message": UNAVAILABLE}
        await client.close()
    assert "Cannot reach Redis at redis://127.0.0.1:" in caplog.text
    assert "WRONGPASS" in caplog.text
    assert ":wrong@" not in caplog.text  # the URL is logged without its password
