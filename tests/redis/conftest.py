"""A real redis-server for the session, and real ``rtcroom serve --redis`` processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from ..support import SIGNAL_PATH, free_port

SRC = Path(__file__).resolve().parents[2] / "src"


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


class ServerProcess:
    """``python -m rtcroom.cli serve --redis ...`` in its own OS process."""

    def __init__(self, redis_url: str, *extra: str) -> None:
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}{SIGNAL_PATH}"
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rtcroom.cli",
                "serve",
                "--redis",
                redis_url,
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                *extra,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    async def wait_ready(self, timeout: float = 20.0) -> None:
        """Until ``/healthz`` says ok (serving, and connected to Redis)."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                assert self.proc.poll() is None, self.stderr()
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    url = f"http://127.0.0.1:{self.port}/healthz"
                    async with http.get(url) as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise AssertionError(f"server on port {self.port} not ready in {timeout} s")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def stderr(self) -> str:
        """What the process logged so far."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


@contextlib.asynccontextmanager
async def server_processes(
    redis_url: str, count: int, *extra: str
) -> AsyncIterator[list[ServerProcess]]:
    procs = [ServerProcess(redis_url, *extra) for _ in range(count)]
    try:
        await asyncio.gather(*(p.wait_ready() for p in procs))
        yield procs
    finally:
        for p in procs:
            p.stop()
            p.log.close()
