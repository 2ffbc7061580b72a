"""A real redis-server for the session, and real ``rtcroom serve --redis`` processes."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager

import pytest

from rtcroom.testing import ServeProcess, free_port, serve_processes


class RedisServer:
    """``redis-server`` on 127.0.0.1 with no persistence; ``stop``/``start`` for outage tests
    (a restart comes back empty, as an unpersisted Redis does)."""

    def __init__(self, *extra: str) -> None:
        self.extra = extra
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (scripts/test installs it)"
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.command("PING", wait=10.0)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def command(self, *args: str, wait: float = 0.0) -> str:
        """Run one command with redis-cli (retrying up to ``wait`` seconds)."""
        deadline = time.monotonic() + wait
        while True:
            out = subprocess.run(
                ["redis-cli", "-p", str(self.port), *args],
                capture_output=True,
                text=True,
                timeout=10,
            )
            if out.returncode == 0 and "Could not connect" not in out.stdout + out.stderr:
                return out.stdout.strip()
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-cli {args} failed: {out.stdout} {out.stderr}")
            time.sleep(0.05)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """A running, empty Redis for each test."""
    if not redis_server.running():
        redis_server.start()
    redis_server.command("FLUSHALL")
    return redis_server.url


def server_processes(
    redis_url: str, count: int, *extra: str
) -> AbstractAsyncContextManager[list[ServeProcess]]:
    """``count`` ``rtcroom serve --redis`` processes, each ready (serving, Redis connected)."""
    return serve_processes(count, "--redis", redis_url, *extra)
