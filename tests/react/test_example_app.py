"""examples/react in real Chromium against a real ``rtcroom serve``: the documentation page's
DataChat and VideoCall components on @rtcroom/react (React StrictMode on, rooms of 2 peers, so
a leaked socket would fill the room), and a Python peer talking to the React page."""

from __future__ import annotations

import asyncio

import pytest

from rtcroom.testing.browser import wait_for
from tests.client.helpers import Recorder, make_call

from .apps import ROOT
from .conftest import OpenPage, Servers
from .pages import (
    app_url,
    audio_energy_rise,
    click,
    ice_servers_used,
    new_room,
    page_errors,
    remote_video_plays,
    send_until_logged,
    signal_sockets,
    wait_black,
    wait_bright,
    wait_logged,
    wait_state,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

EXAMPLE_PAGE = "react/index.html"  # under examples/: the page the example app is built from


def example_title() -> str:
    page = (ROOT / "examples" / EXAMPLE_PAGE).read_text()
    return page.split("<title>", 1)[1].split("</title>", 1)[0]


WAIT = 20.0


async def test_calls_that_join_on_mount_open_one_socket_each(
    example_any_build: str, open_page: OpenPage
) -> None:
    """The docs' error-handling call joins on mount. In development React mounts it twice
    (StrictMode): a second socket would take the room's other place (rooms hold 2 here)."""
    url = app_url(example_any_build, new_room(), "errors")
    a = await open_page(url)
    await wait_state(a, "signaling")
    b = await open_page(url)
    await wait_state(a, "connected")
    await wait_state(b, "connected")
    assert [await signal_sockets(a), await signal_sockets(b)] == [1, 1]
    assert page_errors(a) == page_errors(b) == []


async def test_data_chat_pair_exchanges_messages(
    example_any_build: str, open_page: OpenPage
) -> None:
    url = app_url(example_any_build, new_room(), "chat")
    a, b = await open_page(url), await open_page(url)
    assert await a.page.title() == example_title()
    await wait_state(a, "idle")
    await click(a, "Join")
    await wait_state(a, "signaling")
    await click(b, "Join")
    await wait_state(a, "connected")
    await wait_state(b, "connected")
    from_a = await send_until_logged(a, "Send", b, r"\[peer-[\w-]+\] Hello!")
    from_b = await send_until_logged(b, "Send", a, r"\[peer-[\w-]+\] Hello!")
    assert from_a != from_b  # each names the other peer
    assert [await signal_sockets(a), await signal_sockets(b)] == [1, 1]
    assert page_errors(a) == page_errors(b) == []
    assert await ice_servers_used(a) == await ice_servers_used(b) == []

    await click(a, "Leave")
    await wait_state(a, "idle")
    await wait_state(b, "signaling")  # the server told b that a left


async def test_changing_room_leaves_the_old_and_joins_the_new(
    servers: Servers, open_page: OpenPage
) -> None:
    old, new = new_room(), new_room()
    a = await open_page(app_url(servers.example, old, "chat"))
    b = await open_page(app_url(servers.example, old, "chat"))
    c = await open_page(app_url(servers.example, new, "chat"))
    await click(a, "Join")
    await click(b, "Join")
    await wait_state(a, "connected")
    await click(c, "Join")
    await wait_state(c, "signaling")

    await a.page.get_by_role("textbox").fill(new)  # the example's room field
    await wait_state(b, "signaling")  # a left b's room...
    await wait_state(c, "connected")  # ...and joined c's
    await wait_state(a, "connected")
    await send_until_logged(c, "Send", a, r"\[peer-[\w-]+\] Hello!")
    assert await signal_sockets(a) == 2  # one per room, the first one closed
    assert page_errors(a) == []


async def test_video_call_pair_shows_remote_video_and_mute(
    servers: Servers, open_page: OpenPage
) -> None:
    url = app_url(servers.example, new_room(), "video")
    a, b = await open_page(url), await open_page(url)
    await click(a, "Join")
    await click(b, "Join")
    for p in (a, b):
        await remote_video_plays(p)
        # localVideoRef: the local <video> shows the camera
        await wait_for(p.page, "() => document.querySelector('video').srcObject !== null")
    await wait_bright(b)

    await click(a, "Hide Video")
    await a.page.get_by_role("button", name="Show Video").wait_for(timeout=WAIT * 1000)
    await wait_black(b)
    await click(a, "Show Video")
    await wait_bright(b)

    heard = await audio_energy_rise(b)
    assert heard > 0, "b hears a's fake microphone"
    await click(a, "Mute")
    await a.page.get_by_role("button", name="Unmute").wait_for(timeout=WAIT * 1000)
    await asyncio.sleep(0.5)  # audio that was on its way before the mute
    assert await audio_energy_rise(b) < heard / 100, "a's muted microphone sends silence"
    assert page_errors(a) == page_errors(b) == []

    await click(a, "Hang Up")
    await wait_for(b.page, "() => document.querySelectorAll('video.remote-video').length === 0")


@pytest.mark.parametrize("python_first", [True, False], ids=["python-first", "react-first"])
async def test_react_page_and_python_peer_talk(
    servers: Servers, open_page: OpenPage, python_first: bool
) -> None:
    room = new_room()
    signal = servers.rtcroom.replace("http://", "ws://") + "/api/call/signal"
    py = make_call(signal, room, data_channels=["chat"])
    rec = Recorder(py)
    page = await open_page(app_url(servers.example, room, "chat"))
    try:
        if python_first:
            await py.connect()
            await click(page, "Join")
        else:
            await click(page, "Join")
            await wait_state(page, "signaling")
            await py.connect()
        await py.wait_connected(timeout=WAIT)
        await wait_state(page, "connected")
        (browser_id,) = py.remote_peer_ids

        for _ in range(40):  # see send_until_logged: the channel opens after 'connected'
            await click(page, "Send")
            try:
                await rec.until(lambda: len(rec.messages("chat")) >= 1, 0.5)
                break
            except TimeoutError:
                continue
        got = rec.messages("chat")[0]
        assert (got.peer_id, got.data) == (browser_id, "Hello!")

        assert py.send_string("chat", "Hello from Python!")
        await wait_logged(page, rf"\[{py.peer_id}\] Hello from Python!")
        assert page_errors(page) == []
    finally:
        await rec.close()
        await py.hangup()
