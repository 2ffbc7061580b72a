"""The demo page of ``rtcroom serve`` with join tokens and TURN on: it takes ``?token=`` from its
own URL and passes it on, says clearly when a token is missing or expired, and relays through
the server's TURN (a real coturn) without any ICE setting on the page."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Page

from rtcroom import tokens
from rtcroom.testing import ServeProcess, this_rtcroom_env
from tests.coturn import Coturn, coturn
from tests.secure_support import SECRET

from .harness import wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

__all__ = ["coturn"]  # the fixture

TIMEOUT = 20_000


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def secure_demo(coturn: Coturn) -> AsyncIterator[str]:
    """``RTCROOM_SECRET=... RTCROOM_TURN_SECRET=... rtcroom serve --turn-url turn:...``."""
    env = {**this_rtcroom_env(), "RTCROOM_SECRET": SECRET, "RTCROOM_TURN_SECRET": coturn.secret}
    async with ServeProcess("--turn-url", coturn.url, "--max-peers", "2", env=env) as server:
        yield server.http_url


async def open_demo(browser: BrowserContext, url: str) -> Page:
    page = await browser.new_page()
    await page.goto(url)
    await wait_for(page, "() => document.querySelector('#server-info').textContent.includes('ws')")
    return page


async def banner(page: Page) -> str:
    text: str = await wait_for(
        page,
        "() => document.querySelector('#banner.show') && "
        "document.querySelector('#banner').textContent",
    )
    return text


async def test_without_a_token_the_page_says_one_is_needed(
    browser: BrowserContext, secure_demo: str
) -> None:
    page = await open_demo(browser, f"{secure_demo}/#r")
    try:
        assert "needs a join token" in await banner(page)
        await page.click("#join-data")  # trying anyway ends the same way, without a loop
        await page.wait_for_selector("#status[data-state='idle']", timeout=TIMEOUT)
        assert "needs a join token" in await banner(page)
    finally:
        await page.close()


async def test_an_expired_token_in_the_link_is_explained(
    browser: BrowserContext, secure_demo: str
) -> None:
    old = tokens.create(SECRET, room="*", identity="old", ttl=60, now=time.time() - 3600)
    page = await open_demo(browser, f"{secure_demo}/?token={old}#r")
    try:
        assert "expired" in await banner(page)
        await page.click("#join-data")
        await page.wait_for_selector("#status[data-state='idle']", timeout=TIMEOUT)
        text = await banner(page)
        assert "expired" in text and old not in text
    finally:
        await page.close()


async def test_two_tabs_with_tokens_chat_through_the_servers_turn(
    browser: BrowserContext, secure_demo: str
) -> None:
    room = f"demo-{uuid.uuid4().hex[:6]}"
    pages = []
    try:
        for who in ("alice", "bob"):
            token = tokens.create(SECRET, room=room, identity=who)
            page = await open_demo(browser, f"{secure_demo}/?token={token}#{room}")
            assert "STUN/TURN from the server" in await page.text_content("#server-info")
            await page.click("#join-data")
            pages.append(page)
        a, b = pages
        for page in pages:
            await page.wait_for_selector("#status[data-state='connected']", timeout=TIMEOUT)
        await a.fill("#chat-input", "hello with a token")
        await a.press("#chat-input", "Enter")
        await b.wait_for_selector(
            "#chat-log .msg:not(.me) >> text=hello with a token", timeout=TIMEOUT
        )
        username = await a.evaluate(
            "() => [...window.rtcroomCall._sessions.values()][0].pc.getConfiguration()"
            ".iceServers.find((s) => s.username).username"
        )
        assert username.endswith(":alice")  # the server's TURN credentials for the token's sub
    finally:
        for page in pages:
            await page.close()
