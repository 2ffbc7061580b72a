"""A page on @rtcroom/react (examples/react) and a page on Agentuity's own useWebRTCCall
(@agentuity/react 2.0.21 from npm, untouched: tests/react/agentuity-app) in one room of a real
``rtcroom serve``: they exchange chat messages and each decodes the other's camera."""

from __future__ import annotations

import pytest

from rtcroom.testing.browser import wait_for

from .conftest import OpenPage, Servers
from .pages import (
    app_url,
    click,
    ice_servers_used,
    new_room,
    page_errors,
    remote_video_plays,
    send_until_logged,
    wait_state,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

AGENTUITY_ID = "() => window.agentuityCall && window.agentuityCall.peerId"


@pytest.mark.parametrize("agentuity_first", [True, False], ids=["agentuity-first", "react-first"])
async def test_chat_between_rtcroom_react_and_agentuity_react(
    servers: Servers, open_page: OpenPage, agentuity_first: bool
) -> None:
    room = new_room()
    ours = await open_page(app_url(servers.example, room, "chat"))
    theirs = await open_page(app_url(servers.agentuity, room, "chat"))
    first, second = (theirs, ours) if agentuity_first else (ours, theirs)
    await click(first, "Join")
    await wait_state(first, "signaling")
    await click(second, "Join")
    await wait_state(ours, "connected")
    await wait_state(theirs, "connected")

    their_id = await wait_for(theirs.page, AGENTUITY_ID)
    line = await send_until_logged(ours, "Send", theirs, r"\[peer-[\w-]+\] Hello!")
    our_id = line[1 : line.index("]")]
    assert our_id != their_id
    await send_until_logged(theirs, "Send", ours, rf"\[{their_id}\] Hello from Agentuity!")
    assert await theirs.page.locator("#messages li").first.inner_text() == f"chat:{our_id}:Hello!"
    assert page_errors(ours) == page_errors(theirs) == []
    assert await ice_servers_used(ours) == await ice_servers_used(theirs) == []


async def test_video_between_rtcroom_react_and_agentuity_react(
    servers: Servers, open_page: OpenPage
) -> None:
    room = new_room()
    ours = await open_page(app_url(servers.example, room, "video"))
    theirs = await open_page(app_url(servers.agentuity, room, "video"))
    await click(theirs, "Join")
    await wait_state(theirs, "signaling")
    await click(ours, "Join")
    await remote_video_plays(ours)
    await remote_video_plays(theirs)
    assert page_errors(ours) == page_errors(theirs) == []
