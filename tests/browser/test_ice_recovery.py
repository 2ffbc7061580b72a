"""ICE recovery with real Chromium: the network path breaks (every UDP datagram dropped inside
the test's namespace; the signaling TCP socket lives on) for longer than the browsers and aioice
need to notice, then comes back.

Browser ↔ browser repair with ``restartIce()``; browser ↔ Python rebuild the connection
(``rtcroomRebuild``), whichever side is impolite. Afterwards the data channel carries messages
both ways, both peers kept their ids and are still members of the server's room, and the app
saw ``onPeerReconnecting`` then ``onPeerReconnected``, never ``onPeerLeft``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Page

from rtcroom.client import (
    DataChannelMessageEvent,
    PeerLeftEvent,
    PeerReconnectedEvent,
    PeerReconnectingEvent,
)
from rtcroom.testing.network import udp_dropped
from tests.client.helpers import Recorder, hold_break, make_call
from tests.support import run_uvicorn

from .conftest import OpenPage
from .harness import harness_app, peer_id, start_call, wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

WAIT_MS = 20_000
DETECT_MS = 45_000  # Chromium and aioice (tuned) notice within ~10 s; generous under load
RECOVER_MS = 60_000


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def base_url() -> AsyncIterator[str]:
    async with run_uvicorn(harness_app(max_peers=4)) as port:
        yield f"http://127.0.0.1:{port}"


async def room_members(base: str, room: str) -> list[str]:
    """The server's own view (``/admin/rooms``, loopback only)."""
    async with httpx.AsyncClient(timeout=10) as client:
        listing: dict[str, Any] = (await client.get(f"{base}/admin/rooms")).json()
    for entry in listing["rooms"]:
        if entry["roomId"] == room:
            return sorted(p["peerId"] for p in entry["peers"])
    return []


async def browser_join(page: Page, room: str) -> str:
    await start_call(
        page,
        roomId=room,
        signalUrl="/api/call/signal",
        iceServers=[],
        media=False,
        dataChannels=[{"label": "chat"}],
    )
    return await peer_id(page)


async def event_names(page: Page, remote: str) -> list[str]:
    names: list[str] = await page.evaluate(
        """(p) => window.events.filter((e) => e[1] === p).map((e) => e[0])
                   .filter((n) => n === 'onPeerReconnecting' || n === 'onPeerReconnected'
                                  || n === 'onPeerLeft')""",
        remote,
    )
    return names


async def page_sends_until_received(page: Page, remote: str, check: Any, text: str) -> None:
    """Send from the page every 200 ms until ``check()`` sees it (bounded)."""
    for _ in range(WAIT_MS // 200):
        await page.evaluate("([p, t]) => window.call.sendStringTo(p, 'chat', t)", [remote, text])
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{text!r} never arrived")


def page_got(page: Page, text: str) -> Any:
    async def check() -> bool:
        found: bool = await page.evaluate("(t) => window.messages.some((m) => m.data === t)", text)
        return found

    return check


async def test_two_browsers_restart_ice_after_the_network_path_breaks(
    open_page: OpenPage, base_url: str
) -> None:
    room = f"ice-{uuid.uuid4().hex[:8]}"
    a, b = await open_page(), await open_page()
    id_a = await browser_join(a, room)
    id_b = await browser_join(b, room)
    for page, remote in ((a, id_b), (b, id_a)):
        await wait_for(page, "(p) => window.call.getDataChannelState(p, 'chat') === 'open'", remote)

    with udp_dropped():
        broke = asyncio.get_running_loop().time()
        for page, remote in ((a, id_b), (b, id_a)):
            await wait_for(
                page,
                "(p) => window.events.some((e) => e[0] === 'onPeerReconnecting' && e[1] === p)",
                remote,
                timeout_ms=DETECT_MS,
            )
        await hold_break(broke)

    for page, remote in ((a, id_b), (b, id_a)):
        await wait_for(
            page,
            "(p) => window.events.some((e) => e[0] === 'onPeerReconnected' && e[1] === p)",
            remote,
            timeout_ms=RECOVER_MS,
        )
    await page_sends_until_received(a, id_b, page_got(b, "after from a"), "after from a")
    await page_sends_until_received(b, id_a, page_got(a, "after from b"), "after from b")

    for page, own, remote in ((a, id_a, id_b), (b, id_b, id_a)):
        assert await page.evaluate("window.call.peerId") == own
        assert await page.evaluate("window.call.remotePeerIds") == [remote]
        assert await event_names(page, remote) == ["onPeerReconnecting", "onPeerReconnected"]
        assert await page.evaluate("window.call.state") == "connected"
    assert await room_members(base_url, room) == sorted([id_a, id_b])


@pytest.mark.parametrize("python_first", [True, False], ids=["python-first", "browser-first"])
async def test_browser_and_python_rebuild_after_the_network_path_breaks(
    open_page: OpenPage, base_url: str, python_first: bool
) -> None:
    """Who joins second gets the greater id here, so both orders cover both sides being the
    impolite one (the one that rebuilds at once)."""
    room = f"ice-{uuid.uuid4().hex[:8]}"
    url = base_url.replace("http://", "ws://") + "/api/call/signal"
    page = await open_page()
    py = make_call(url, room)
    rec = Recorder(py)
    try:
        if python_first:
            await py.connect()
            id_page = await browser_join(page, room)
        else:
            id_page = await browser_join(page, room)
            await py.connect()
        await py.wait_connected(timeout=WAIT_MS / 1000)
        id_py = py.peer_id
        assert id_py is not None
        await wait_for(page, "(p) => window.call.getDataChannelState(p, 'chat') === 'open'", id_py)

        with udp_dropped():
            broke = asyncio.get_running_loop().time()
            await rec.until(lambda: bool(rec.of(PeerReconnectingEvent)), DETECT_MS / 1000)
            await wait_for(
                page,
                "(p) => window.events.some((e) => e[0] === 'onPeerReconnecting' && e[1] === p)",
                id_py,
                timeout_ms=DETECT_MS,
            )
            await hold_break(broke)

        await rec.until(lambda: bool(rec.of(PeerReconnectedEvent)), RECOVER_MS / 1000)
        await wait_for(
            page,
            "(p) => window.events.some((e) => e[0] === 'onPeerReconnected' && e[1] === p)",
            id_py,
            timeout_ms=RECOVER_MS,
        )

        def py_got(text: str) -> Any:
            async def check() -> bool:
                return any(m.raw == text for m in rec.of(DataChannelMessageEvent))

            return check

        await page_sends_until_received(page, id_py, py_got("from the page"), "from the page")
        check = page_got(page, "from python")
        for _ in range(WAIT_MS // 200):
            py.send_string_to(id_page, "chat", "from python")
            if await check():
                break
            await asyncio.sleep(0.2)
        assert await check(), "the page never got the Python peer's message"

        assert py.peer_id == id_py and py.remote_peer_ids == [id_page]
        assert py.sessions[id_page].rebuild >= 1
        assert [type(e) for e in rec.events if isinstance(e, PeerReconnectingEvent)] == [
            PeerReconnectingEvent
        ]
        assert rec.of(PeerLeftEvent) == []
        assert await page.evaluate("window.call.peerId") == id_page
        assert await page.evaluate("window.call.remotePeerIds") == [id_py]
        assert await event_names(page, id_py) == ["onPeerReconnecting", "onPeerReconnected"]
        assert await room_members(base_url, room) == sorted([id_page, id_py])
    finally:
        await py.hangup()
        await rec.close()
