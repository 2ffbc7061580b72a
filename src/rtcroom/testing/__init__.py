"""Real servers for tests and benchmarks: free ports, ``rtcroom serve`` processes, uvicorn.

Imports nothing beyond the base install (uvicorn only when used), so it also serves a smoke test
of a bare ``pip install rtcroom``. Everything binds 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import IO, Any

from ..app import DEFAULT_PATH

__all__ = [
    "ServeProcess",
    "cpu_seconds",
    "free_port",
    "rss_bytes",
    "run_uvicorn",
    "serve_processes",
    "this_rtcroom_env",
]

_HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind((_HOST, 0))
        port: int = s.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux: /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (Linux: /proc/<pid>/status); 0 if it is not reported."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def this_rtcroom_env() -> dict[str, str]:
    """The environment for a child process that must import the same rtcroom as this one (a
    checkout's ``src`` or an installed copy), whatever else is on its path."""
    home = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (home, os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


class ServeProcess:
    """``rtcroom serve`` in its own OS process on 127.0.0.1; ``args`` are more CLI options.

    Without ``--state-dir`` in ``args`` it gets a temporary one (removed when this object and
    those made by :meth:`relaunch` are gone), so its resume key survives a relaunch only.

    ``launcher`` replaces ``python -m rtcroom.cli`` (the ``rtcroom`` script of another venv, or
    a ``python -c`` that prepares the interpreter first). Output (stdout and stderr) is kept
    for :meth:`output`. Use ``async with`` to start, wait until ready, and stop.
    """

    def __init__(
        self,
        *args: str,
        port: int | None = None,
        launcher: Sequence[str] | None = None,
        log_level: str = "warning",
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        path = args[args.index("--path") + 1] if "--path" in args else DEFAULT_PATH
        self.http_url = f"http://{_HOST}:{self.port}"
        self.url = f"ws://{_HOST}:{self.port}{path}"
        self._log: IO[bytes] = tempfile.TemporaryFile()
        self._state: tempfile.TemporaryDirectory[str] | None = None
        if launcher is None and "--state-dir" not in args:
            # Its own resume key, not the user's ~/.local/state one; shared with relaunch().
            self._state = tempfile.TemporaryDirectory(prefix="rtcroom-state-")
            args = (*args, "--state-dir", self._state.name)
        self._again = (args, launcher, log_level, env)
        command = [*(launcher or (sys.executable, "-m", "rtcroom.cli")), "serve"]
        command += ["--host", _HOST, "--port", str(self.port), "--log-level", log_level, *args]
        self.proc = subprocess.Popen(
            command,
            env=env if env is not None else this_rtcroom_env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def relaunch(self) -> ServeProcess:
        """A new process with this one's options on the same port: a restart (after
        :meth:`kill` or :meth:`stop`; raises ``RuntimeError`` while this one still runs).
        Start it with ``async with`` or :meth:`wait_ready`, as any other."""
        if self.proc.poll() is None:
            raise RuntimeError(
                f"rtcroom serve (pid {self.pid}) still runs on port {self.port}: kill() or "
                "stop() it before relaunch()"
            )
        args, launcher, log_level, env = self._again
        again = ServeProcess(*args, port=self.port, launcher=launcher, log_level=log_level, env=env)
        again._state = self._state  # the same state directory lives as long as either process
        return again

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def wait_ready(self, timeout: float = 20.0) -> None:
        """Until ``GET /healthz`` answers 200 (listening, and its backend connected)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"rtcroom serve exited with {self.proc.returncode}:\n{self.output()}"
                )
            if await self._healthy():
                return
            await asyncio.sleep(0.05)
        raise RuntimeError(
            f"rtcroom serve on port {self.port} not ready in {timeout} s:\n{self.output()}"
        )

    async def _healthy(self) -> bool:
        try:
            reader, writer = await asyncio.open_connection(_HOST, self.port)
        except OSError:
            return False
        try:
            writer.write(
                f"GET /healthz HTTP/1.1\r\nHost: {_HOST}\r\nConnection: close\r\n\r\n".encode()
            )
            status = await asyncio.wait_for(reader.readline(), 5)
            return status.split()[1:2] == [b"200"]
        except (OSError, TimeoutError):
            return False
        finally:
            writer.close()

    def output(self) -> str:
        """What the process printed so far (stdout and stderr)."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no goodbye frames, no cleanup (a crashed host)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL after 10 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    async def send_signal(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Send ``sig`` and wait for the exit status without blocking the event loop (the
        server may be closing sockets this loop holds)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"rtcroom serve ignored signal {sig} for {timeout} s")
            await asyncio.sleep(0.02)
        return self.proc.returncode

    def close(self) -> None:
        self.stop()
        self._log.close()

    async def __aenter__(self) -> ServeProcess:
        try:
            await self.wait_ready()
        except BaseException:
            self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        # SIGTERM waited for without blocking the loop: clients of this process answer the
        # server's close frames, so it need not wait out its shutdown timeout.
        with contextlib.suppress(RuntimeError):
            await self.send_signal(signal.SIGTERM, timeout=10)
        self.close()


@contextlib.asynccontextmanager
async def serve_processes(count: int, *args: str) -> AsyncIterator[list[ServeProcess]]:
    """``count`` ``rtcroom serve`` processes with the same options, all ready."""
    procs = [ServeProcess(*args) for _ in range(count)]
    try:
        await asyncio.gather(*(p.wait_ready() for p in procs))
        yield procs
    finally:
        for p in procs:
            p.close()


@contextlib.asynccontextmanager
async def run_uvicorn(app: Any, port: int | None = None) -> AsyncIterator[int]:
    """Serve an ASGI app with a real uvicorn on 127.0.0.1 inside this event loop; yields the
    port once it listens."""
    import uvicorn

    port = port or free_port()
    config = uvicorn.Config(
        app, host=_HOST, port=port, ws="websockets-sansio", lifespan="on", log_level="warning"
    )
    server = uvicorn.Server(config)
    # The test or benchmark keeps its own Ctrl-C handling.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if not server.started:
        task.cancel()
        raise RuntimeError(f"uvicorn did not start on port {port} within 5 s")
    try:
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
