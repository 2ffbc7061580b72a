"""A real coturn (Debian's ``coturn``) on a free loopback port, in the REST-credentials mode
(``use-auth-secret``) that rtcroom's TURN credentials are for. See TESTING.md's TURN section."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from aioice import stun

TURN_SECRET = secrets.token_hex(24)


@dataclass
class Coturn:
    port: int
    secret: str
    log_path: str

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}"

    def log(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()


def _free_udp_and_tcp_port() -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port: int = udp.getsockname()[1]
            with socket.socket() as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port")


def _stun_answers(port: int) -> bool:
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        s.sendto(bytes(request), ("127.0.0.1", port))
        try:
            data = s.recv(2048)
        except OSError:
            return False
    return stun.parse_message(data).transaction_id == request.transaction_id


@pytest.fixture(scope="module")
def coturn() -> Iterator[Coturn]:
    binary = shutil.which("turnserver")
    if binary is None:
        pytest.fail("turnserver is missing: apt-get install -y coturn (scripts/test does it)")
    port = _free_udp_and_tcp_port()
    workdir = tempfile.mkdtemp(prefix="rtcroom-coturn-")
    log_path = f"{workdir}/turn.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                binary,
                "-n",
                "--listening-ip=127.0.0.1",
                "--relay-ip=127.0.0.1",
                f"--listening-port={port}",
                "--use-auth-secret",
                f"--static-auth-secret={TURN_SECRET}",
                "--realm=rtcroom.test",
                "--no-tls",
                "--no-dtls",
                "--allow-loopback-peers",
                "--no-cli",
                "--log-file=stdout",
                "--simple-log",
                f"--pidfile={workdir}/turn.pid",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        while not _stun_answers(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"coturn did not start:\n{open(log_path).read()[-3000:]}")
        yield Coturn(port, TURN_SECRET, log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)
