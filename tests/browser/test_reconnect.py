"""``rtcroom serve`` killed (SIGKILL) and restarted under a browser call that does not resume
(``resume: false``, or a server that gives no resume token): it rejoins as a new peer. The call
that resumes is in test_resume.py."""

from __future__ import annotations

import uuid

import pytest

from rtcroom.testing import ServeProcess, free_port

from .conftest import OpenPage
from .harness import events, frames_rising, peer_id, start_call, wait_for, wait_state

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_client_without_resume_rejoins_after_a_server_kill(open_page: OpenPage) -> None:
    port = free_port()
    signal_url = f"ws://127.0.0.1:{port}/api/call/signal"
    room_id = f"room-{uuid.uuid4().hex[:8]}"
    a, b = await open_page(), await open_page()
    async with ServeProcess("--max-peers", "4", port=port) as server:
        for page in (a, b):
            await start_call(
                page,
                roomId=room_id,
                signalUrl=signal_url,
                iceServers=[],
                dataChannels=[{"label": "chat"}],
                resume=False,
            )
            await peer_id(page)
        await wait_state(a, "connected")
        await wait_state(b, "connected")
        old_a, old_b = await peer_id(a), await peer_id(b)
        server.kill()  # no goodbye frames: the sockets just die

    for page in (a, b):
        await wait_for(page, "() => window.eventNames().includes('onReconnecting')")
        assert await page.evaluate("window.call.state") == "connecting"
    # The peer connections outlive the signaling socket: video keeps flowing meanwhile.
    first, second = await frames_rising(a, old_b)
    assert second > first

    async with ServeProcess("--max-peers", "4", port=port):
        new_a = await wait_for(
            a, "(old) => window.call.peerId !== old && window.call.peerId", old_a
        )
        new_b = await wait_for(
            b, "(old) => window.call.peerId !== old && window.call.peerId", old_b
        )
        await wait_for(a, "(p) => window.call.getDataChannelState(p, 'chat') === 'open'", new_b)
        await wait_state(a, "connected")
        await wait_state(b, "connected")
        assert await a.evaluate("window.call.remotePeerIds") == [new_b]
        assert await b.evaluate("window.call.remotePeerIds") == [new_a]
        assert await a.evaluate("(p) => window.call.sendStringTo(p, 'chat', 'back')", new_b)
        got = await wait_for(b, "() => window.messages.length >= 1 && window.messages")
        assert got == [{"from": new_a, "label": "chat", "data": "back"}]
        first, second = await frames_rising(b, new_a)
        assert second > first
        names = [e[0] for e in await events(a)]
        assert "onReconnected" in names and "onReconnectFailed" not in names
        assert "onSignalingLost" not in names  # no token asked for: nothing to resume
        assert ["onPeerLeft", old_b] in await events(a)  # the old session was replaced
