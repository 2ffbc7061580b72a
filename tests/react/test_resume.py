"""examples/react's ResumingChat (view 'resume') in real Chromium: ``rtcroom serve`` is killed
(SIGKILL) under the call and restarted on the same port and state directory; the page shows
that signaling is lost, the chat keeps working, and the call resumes under the same peer ids."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rtcroom.testing import ServeProcess, free_port
from rtcroom.testing.browser import wait_for

from .apps import EXAMPLE, require_built, vite_preview, wait_listening
from .conftest import AppPage, OpenPage
from .pages import app_url, click, new_room, page_errors, send_until_logged, wait_logged, wait_state

pytestmark = pytest.mark.asyncio(loop_scope="module")

LOST = "Signaling lost — call continues"
HELLO = r"\[peer-[\w-]+\] Hello from peer-[\w-]+"


async def shown_peer_id(p: AppPage) -> str:
    text: str = await wait_for(
        p.page, "() => (document.body.innerText.match(/Peer: (peer-[\\w-]+)/) || [])[1]"
    )
    return text


def hellos(p: AppPage) -> int:
    return sum(1 for line in p.logs if line.startswith("[peer-") and "Hello from" in line)


async def test_react_chat_survives_a_killed_server(open_page: OpenPage, tmp_path: Path) -> None:
    require_built()
    port, web_port = free_port(), free_port()
    args = ("--max-peers", "2", "--state-dir", str(tmp_path), "--resume-grace", "30")
    with vite_preview(EXAMPLE, web_port, f"http://127.0.0.1:{port}") as vite:
        await wait_listening(web_port, vite, "vite preview (examples/react)")
        url = app_url(f"http://127.0.0.1:{web_port}", new_room(), "resume")
        async with ServeProcess(*args, port=port) as server:
            a, b = await open_page(url), await open_page(url)
            for p in (a, b):
                await wait_state(p, "connected")
            ids = [await shown_peer_id(a), await shown_peer_id(b)]
            await send_until_logged(a, "Say hello", b, HELLO)
            await send_until_logged(b, "Say hello", a, HELLO)
            server.kill()

        for p in (a, b):
            await wait_for(p.page, "(t) => document.body.innerText.includes(t)", LOST)
            await wait_logged(p, r"signaling lost \(.+\)")
        # Peer to peer, the chat needs no server.
        before = hellos(b)
        await click(a, "Say hello")
        for _ in range(200):  # at most 10 s
            if hellos(b) > before:
                break
            await asyncio.sleep(0.05)
        assert hellos(b) == before + 1
        assert "State: connected" in await a.page.inner_text("body")

        async with server.relaunch():
            for p in (a, b):
                await wait_logged(p, "signaling restored, resumed: true", timeout=30)
                await wait_for(p.page, "(t) => !document.body.innerText.includes(t)", LOST)
                await wait_state(p, "connected")
            assert [await shown_peer_id(a), await shown_peer_id(b)] == ids
            await send_until_logged(b, "Say hello", a, HELLO)
            assert page_errors(a) == page_errors(b) == []
