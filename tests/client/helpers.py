"""Shared pieces of the client tests: loopback-only calls and an event recorder."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from rtcroom.client import CallEvent, DataChannelMessageEvent, WebRTCCall

WAIT = 20.0  # generous bound for anything that should happen "soon"


def make_call(url: str, room: str = "room", **options: Any) -> WebRTCCall:
    """A call that can only use loopback and no ICE servers (the rig's rule)."""
    options.setdefault("ice_servers", [])
    options.setdefault("ice_host_addresses", ["127.0.0.1"])
    options.setdefault("data_channels", ["chat"])
    return WebRTCCall(room, url, **options)


class Recorder:
    """Collects every event of a call from the moment it is created."""

    def __init__(self, call: WebRTCCall) -> None:
        self.call = call
        self.events: list[CallEvent] = []
        self._stream = call.events()
        self._task = asyncio.get_running_loop().create_task(self._pump())
        self._changed = asyncio.Event()

    async def _pump(self) -> None:
        async for event in self._stream:
            self.events.append(event)
            self._changed.set()

    def of(self, kind: type[CallEvent]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def messages(self, label: str | None = None) -> list[DataChannelMessageEvent]:
        return [e for e in self.of(DataChannelMessageEvent) if label is None or e.label == label]

    async def until(self, predicate: Callable[[], bool], timeout: float = WAIT) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._stream.close()


async def eventually(check: Callable[[], Any], timeout: float = WAIT) -> None:
    """Poll a condition every 20 ms, at most ``timeout`` seconds."""
    for _ in range(int(timeout / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"condition still false after {timeout} s")


async def room_members(hub: Any, room: str) -> list[str]:
    rooms: dict[str, list[str]] = await hub.get_rooms()
    return rooms.get(room, [])


@contextlib.asynccontextmanager
async def connected_pair(url: str, **options: Any) -> AsyncIterator[tuple[WebRTCCall, WebRTCCall]]:
    """Two calls in one room, connected with their data channels open."""
    a = make_call(url, **options)
    b = make_call(url, **options)
    try:
        await a.connect()
        await b.connect()
        await asyncio.gather(a.wait_connected(timeout=WAIT), b.wait_connected(timeout=WAIT))
        yield a, b
    finally:
        await asyncio.gather(a.hangup(), b.hangup())


async def members_become(hub: Any, room: str, expected: list[Any], timeout: float = WAIT) -> None:
    """Wait until the server's room holds exactly ``expected`` (the server learns of a closed
    socket a moment after the client closed it)."""
    members: list[str] = []
    for _ in range(int(timeout / 0.02)):
        members = await room_members(hub, room)
        if members == expected:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"room {room!r} holds {members}, expected {expected}")


BREAK_SECONDS = 20.0
"""How long ICE-recovery tests keep UDP dropped: past Chromium's ``failed`` (~15 s) and past
the first rebuild attempt of a Python peer (~10 s), so the repairs made during the break fail
too and must be retried."""


async def hold_break(since: float) -> None:
    """Keep the network broken until :data:`BREAK_SECONDS` after ``since`` (loop time), and at
    least 3 s more from now."""
    elapsed = asyncio.get_running_loop().time() - since
    await asyncio.sleep(max(3.0, BREAK_SECONDS - elapsed))
