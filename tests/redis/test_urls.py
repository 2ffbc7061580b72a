"""Redis URLs are read by redis-py's parser: the database, a Unix socket, and frames that hold
newlines all reach the other process intact."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from rtcroom import RedisBackend

from ..support import SignalClient, signaling_server
from .conftest import RedisServer


@pytest.fixture
def socket_redis() -> Iterator[tuple[RedisServer, Path]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "redis.sock"
        server = RedisServer("--unixsocket", str(path), "--unixsocketperm", "700")
        server.start()
        try:
            yield server, path
        finally:
            server.stop()


async def relay_between_two_servers(url: str) -> None:
    """Two processes' worth of backends on ``url``: a join on each, frames both ways."""
    async with (
        signaling_server("uvicorn", backend=RedisBackend(url)) as s1,
        signaling_server("aiohttp", backend=RedisBackend(url)) as s2,
    ):
        a, b = await SignalClient.connect(s1.url), await SignalClient.connect(s2.url)
        await a.join("r")
        await b.join("r")
        assert await a.recv() == {"t": "peer-joined", "peerId": b.peer_id}
        sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"  # newlines cross Redis untouched
        await b.send({"t": "sdp", "to": a.peer_id, "description": {"type": "offer", "sdp": sdp}})
        assert await a.recv() == {
            "t": "sdp",
            "from": b.peer_id,
            "description": {"type": "offer", "sdp": sdp},
        }
        await a.send({"t": "ice", "candidate": {"line": "a\nb"}})  # broadcast
        assert await b.recv() == {"t": "ice", "from": a.peer_id, "candidate": {"line": "a\nb"}}
        await a.close()
        await b.close()


async def test_a_unix_socket_url_works(
    socket_redis: tuple[RedisServer, Path], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rtcroom.redis")
    _, path = socket_redis
    await relay_between_two_servers(f"unix://{path}")
    assert f"connected to Redis at unix://{path}" in caplog.text


@pytest.mark.parametrize("where", ["/3", "/?db=3"])
async def test_the_database_in_the_url_holds_the_rooms(
    redis_url: str, redis_server: RedisServer, where: str
) -> None:
    url = f"redis://127.0.0.1:{redis_server.port}{where}"
    async with signaling_server("uvicorn", backend=RedisBackend(url)) as s:
        client = await SignalClient.connect(s.url)
        await client.join("in-db-3")
        assert redis_server.command("-n", "3", "SMEMBERS", "rtcroom:rooms") == "in-db-3"
        assert redis_server.command("-n", "0", "SMEMBERS", "rtcroom:rooms") == ""
        await client.close()
    await relay_between_two_servers(url)
