"""Redis URLs are read by redis-py's parser, for every connection: the database, a Unix socket,
TLS with its options; and frames that hold newlines reach the other process intact."""

from __future__ import annotations

import logging
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from rtcroom import RedisBackend
from rtcroom.protocol import UNAVAILABLE

from ..support import SignalClient, free_port, signaling_server
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


def make_certificates(folder: Path) -> None:
    """A throwaway CA and a server certificate for 127.0.0.1, signed by it."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "1",
        "-subj",
        "/CN=rtcroom test CA",
    )
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "1",
        "-extfile",
        "san.ext",
    )


@pytest.fixture
def tls_redis() -> Iterator[tuple[int, Path]]:
    """redis-server answering TLS on its own port, with a certificate from a private CA."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        make_certificates(folder)
        tls_port = free_port()
        server = RedisServer(
            "--tls-port", str(tls_port),
            "--tls-cert-file", str(folder / "server.crt"),
            "--tls-key-file", str(folder / "server.key"),
            "--tls-ca-cert-file", str(folder / "ca.crt"),
            "--tls-auth-clients", "no",
        )  # fmt: skip
        server.start()
        try:
            yield tls_port, folder / "ca.crt"
        finally:
            server.stop()


async def test_a_rediss_url_uses_its_tls_options_on_every_connection(
    tls_redis: tuple[int, Path],
) -> None:
    port, ca = tls_redis
    # (the relay's pub/sub sockets too: without the CA, frames could not cross)
    await relay_between_two_servers(f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={ca}")


async def test_an_untrusted_redis_certificate_refuses_joins_and_says_why(
    tls_redis: tuple[int, Path], caplog: pytest.LogCaptureFixture
) -> None:
    port, _ = tls_redis
    url = f"rediss://127.0.0.1:{port}/0"  # no ssl_ca_certs: the private CA is not trusted
    async with signaling_server("uvicorn", backend=RedisBackend(url, timeout=1.0)) as s:
        client = await SignalClient.connect(s.url)
        await client.send({"t": "join", "roomId": "r"})
        assert await client.recv() == {"t": "error", "message": UNAVAILABLE}
        await client.close()
    assert f"Cannot reach Redis at rediss://127.0.0.1:{port}/0" in caplog.text
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
