"""One Chromium and one rtcroom server per test module (starting Chromium costs ~1 s)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest_asyncio
from playwright.async_api import BrowserContext, Page

from tests.support import run_uvicorn

from .harness import chromium, harness_app, open_harness

MAX_PEERS = 3

OpenPage = Callable[[], Awaitable[Page]]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[BrowserContext]:
    async with chromium() as ctx:
        yield ctx


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def base_url() -> AsyncIterator[str]:
    """``rtcroom serve``'s app (max 3 peers per room) plus the test page."""
    async with run_uvicorn(harness_app(max_peers=MAX_PEERS)) as port:
        yield f"http://127.0.0.1:{port}"


@pytest_asyncio.fixture(loop_scope="module")
async def open_page(browser: BrowserContext, base_url: str) -> AsyncIterator[OpenPage]:
    """Opens test pages; closes them (and so their calls) after the test."""
    pages: list[Page] = []

    async def open_one() -> Page:
        page = await open_harness(browser, base_url)
        pages.append(page)
        return page

    yield open_one
    for page in pages:
        await page.close()
