"""The demo page at ``/`` of ``rtcroom serve``, used the way a person would: click, type, look."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Page

from rtcroom.testing import ServeProcess
from rtcroom.testing.browser import CHROMIUM_FLAGS, chromium

from .harness import wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

CUSTOM_PATH = "/custom/signal"  # `rtcroom serve --path /custom/signal`
TIMEOUT = 20_000


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo_url() -> AsyncIterator[str]:
    """What a person runs: ``rtcroom serve`` (here with a custom path and 2 peers per room)."""
    async with ServeProcess("--path", CUSTOM_PATH, "--max-peers", "2") as server:
        yield server.http_url


async def open_demo(browser: BrowserContext, url: str, room: str) -> Page:
    page = await browser.new_page()
    await page.goto(f"{url}/#{room}")
    await wait_for(page, "() => document.querySelector('#server-info').textContent.includes('ws')")
    return page


REMOTE_VIDEO_PLAYING = """async () => {
    const v = document.querySelector('.tile:not(.local) video');
    if (!v || v.videoWidth === 0) return false;
    const t = v.currentTime;
    await new Promise((r) => setTimeout(r, 500));
    return v.currentTime > t && [v.videoWidth, v.videoHeight];
}"""


REMOTE_VIDEO_SHAPE = """([w, h]) => {
    const v = document.querySelector('.tile:not(.local) video');
    return v && v.videoWidth > 0 && v.videoWidth * h === v.videoHeight * w;
}"""

REMOTE_VIDEO_BRIGHTNESS_BELOW = """(limit) => {
    const v = document.querySelector('.tile:not(.local) video');
    const c = document.createElement('canvas');
    c.width = 64; c.height = 48;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0, 64, 48);
    const px = g.getImageData(0, 0, 64, 48).data;
    let sum = 0;
    for (let i = 0; i < px.length; i += 4) sum += (px[i] + px[i + 1] + px[i + 2]) / 3;
    return sum / (px.length / 4) < limit;
}"""


async def test_two_tabs_chat_and_see_each_other(browser: BrowserContext, demo_url: str) -> None:
    room = f"demo-{uuid.uuid4().hex[:6]}"
    a = await open_demo(browser, demo_url, room)
    b = await open_demo(browser, demo_url, room)
    try:
        assert await a.input_value("#room") == room  # the room comes from the link
        assert CUSTOM_PATH in await a.text_content("#server-info")  # learned from /healthz
        await a.click("#join-media")
        await b.click("#join-media")
        for page in (a, b):
            await page.wait_for_selector("#status[data-state='connected']", timeout=TIMEOUT)
            # The other tab's 640x480 fake camera, playing (WebRTC may send it scaled down
            # while the encoder adapts to a busy CPU, never in another shape).
            width, height = await wait_for(page, REMOTE_VIDEO_PLAYING)
            assert width > 0 and width * 3 == height * 4, (width, height)

        await a.fill("#chat-input", "hello from tab A")
        await a.press("#chat-input", "Enter")
        await b.wait_for_selector(
            "#chat-log .msg:not(.me) >> text=hello from tab A", timeout=TIMEOUT
        )
        await b.fill("#chat-input", "42")  # would arrive as a number without sendJSON
        await b.click("#chat-send")
        await a.wait_for_selector("#chat-log .msg:not(.me) >> text=42", timeout=TIMEOUT)
        assert await a.locator("#chat-log .msg.me").all_text_contents() == ["Youhello from tab A"]

        # Screen share: the other tab's picture turns 16:9 (the fake screen), then back to 4:3.
        await a.click("#share")
        await a.wait_for_selector("#share[aria-pressed='true']", timeout=TIMEOUT)
        assert await a.text_content("#share") == "Stop sharing"
        await wait_for(b, REMOTE_VIDEO_SHAPE, [16, 9])
        await a.click("#share")
        await a.wait_for_selector("#share[aria-pressed='false']", timeout=TIMEOUT)
        assert await a.text_content("#share") == "Share screen"
        await wait_for(b, REMOTE_VIDEO_SHAPE, [4, 3])

        # Quality: numbers and a chart appear within a few polls.
        await a.wait_for_selector("#quality .peer canvas", timeout=TIMEOUT)
        assert "RTT" in await a.text_content("#quality .nums")

        # Record a couple of seconds, get a download link.
        await a.click("#record")
        await a.wait_for_timeout(1500)
        await a.click("#record")
        link = await a.wait_for_selector("#downloads a", timeout=TIMEOUT)
        assert (await link.get_attribute("download")).endswith(".webm")

        # Mute: the button says so and the tab's outgoing video goes black for the other one.
        await a.click("#mute-video")
        assert await a.text_content("#mute-video") == "Start video"
        await wait_for(b, REMOTE_VIDEO_BRIGHTNESS_BELOW, 3)

        # Leaving tells the other tab.
        await a.click("#leave")
        await b.wait_for_selector("#chat-log .sys >> text=left", timeout=TIMEOUT)
        await b.wait_for_selector("#status[data-state='signaling']", timeout=TIMEOUT)
    finally:
        await a.close()
        await b.close()


async def test_a_full_room_says_so(browser: BrowserContext, demo_url: str) -> None:
    room = f"demo-{uuid.uuid4().hex[:6]}"
    pages = [await open_demo(browser, demo_url, room) for _ in range(3)]
    try:
        for page in pages[:2]:
            await page.click("#join-data")
        for page in pages[:2]:
            await page.wait_for_selector("#status[data-state='connected']", timeout=TIMEOUT)
        await pages[2].click("#join-data")
        banner = await pages[2].wait_for_selector("#banner.show", timeout=TIMEOUT)
        text = await banner.text_content()
        assert f'Room "{room}" is full (max 2 peers). Pick another room name.' == text
        assert await pages[2].is_visible("#lobby")  # back at the form, not stuck
    finally:
        for page in pages:
            await page.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def denying_browser() -> AsyncIterator[BrowserContext]:
    """A Chromium whose (fake) permission prompt answers "Block"."""
    flags = [f for f in CHROMIUM_FLAGS if f != "--use-fake-ui-for-media-stream"]
    flags.append("--use-fake-ui-for-media-stream=deny")
    async with chromium(flags) as ctx:
        yield ctx


async def test_camera_denied_explains_and_offers_data_only(
    denying_browser: BrowserContext, demo_url: str
) -> None:
    page = await open_demo(denying_browser, demo_url, f"demo-{uuid.uuid4().hex[:6]}")
    try:
        await page.click("#join-media")
        banner = await page.wait_for_selector("#banner.show", timeout=TIMEOUT)
        assert "Camera or microphone access was denied" in await banner.text_content()
        assert await page.is_visible("#lobby")
        await page.click("#join-data")  # the way out the message suggests works
        await page.wait_for_selector("#status[data-state='signaling']", timeout=TIMEOUT)
    finally:
        await page.close()
