"""Run ``rtcroom`` peer commands as real processes, the way a user does."""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import dataclass

from rtcroom.testing import this_rtcroom_env

LOCAL_ICE = ("--no-ice-servers", "--ice-host", "127.0.0.1")
"""Every peer command in tests: no STUN/TURN, candidates on loopback only."""


@dataclass
class Done:
    status: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.status}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


class Command:
    """``python -m rtcroom.cli ARGS`` in its own process; stdout and stderr are collected."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            asyncio.create_task(self._collect(proc.stdout, self.out)),
            asyncio.create_task(self._collect(proc.stderr, self.err)),
        ]

    @classmethod
    async def start(cls, *args: str) -> Command:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rtcroom.cli", *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**this_rtcroom_env(), "COLUMNS": "120"},
        )
        return cls(proc)

    @staticmethod
    async def _collect(stream: asyncio.StreamReader | None, into: list[str]) -> None:
        assert stream is not None
        while line := await stream.readline():
            into.append(line.decode(errors="replace"))

    async def wait_for_output(self, text: str, timeout: float = 30) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not any(text in line for line in self.out):
            if self.proc.returncode is not None or asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no {text!r} in the output:\n{await self.finish(5)}")
            await asyncio.sleep(0.05)

    async def finish(self, timeout: float = 60) -> Done:
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        await asyncio.gather(*self._readers)
        return Done(self.proc.returncode or 0, "".join(self.out), "".join(self.err))

    def signal(self, sig: int = signal.SIGINT) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)


async def rtcroom(*args: str, timeout: float = 60) -> Done:
    return await (await Command.start(*args)).finish(timeout)
