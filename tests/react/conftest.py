"""One Chromium, one ``rtcroom serve`` and the two built apps per test module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Page

from rtcroom.testing import ServeProcess, free_port
from rtcroom.testing.browser import chromium

from .apps import AGENTUITY, EXAMPLE, require_built, vite_dev, vite_preview, wait_listening


@dataclass
class Servers:
    rtcroom: str  # rtcroom serve, e.g. http://127.0.0.1:PORT
    example: str  # examples/react, built, behind vite preview
    agentuity: str  # the page on Agentuity's own hook, same


# Test pages record what they log, every RTCPeerConnection they make (for getStats()) and the
# signaling sockets they open, so the tests can look at what reached the page without touching
# the app's code.
RECORD_CONNECTIONS = """
(() => {
  const record = (name, list, keep) => {
    const Native = window[name];
    window[list] = [];
    const Recorded = function (...args) {
      const made = new Native(...args);
      if (keep(args)) window[list].push(made);
      return made;
    };
    Recorded.prototype = Native.prototype;
    Object.setPrototypeOf(Recorded, Native);
    window[name] = Recorded;
  };
  record('RTCPeerConnection', '__pcs', () => true);
  record('WebSocket', '__signalSockets', (args) => String(args[0]).includes('/api/call/signal'));
})();
"""


@dataclass
class AppPage:
    page: Page
    logs: list[str]


OpenPage = Callable[[str], Awaitable[AppPage]]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def servers() -> AsyncIterator[Servers]:
    require_built()
    async with ServeProcess("--max-peers", "2") as serve:
        rtcroom = serve.http_url
        ports = [free_port() for _ in range(2)]
        with ExitStack() as stack:
            example = stack.enter_context(vite_preview(EXAMPLE, ports[0], rtcroom))
            agentuity = stack.enter_context(vite_preview(AGENTUITY, ports[1], rtcroom))
            await wait_listening(ports[0], example, "vite preview (examples/react)")
            await wait_listening(ports[1], agentuity, "vite preview (tests/react/agentuity-app)")
            yield Servers(rtcroom, *(f"http://127.0.0.1:{port}" for port in ports))


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["production", "development"])
async def example_any_build(request: pytest.FixtureRequest, servers: Servers) -> AsyncIterator[str]:
    """examples/react built (vite preview) or under ``npm run dev``, where React's development
    build runs StrictMode's double mount."""
    if request.param == "production":
        yield servers.example
        return
    port = free_port()
    with vite_dev(EXAMPLE, port, servers.rtcroom) as dev:
        await wait_listening(port, dev, "vite dev server (examples/react)")
        yield f"http://127.0.0.1:{port}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[BrowserContext]:
    async with chromium() as ctx:
        await ctx.add_init_script(RECORD_CONNECTIONS)
        yield ctx


@pytest_asyncio.fixture(loop_scope="module")
async def open_page(browser: BrowserContext) -> AsyncIterator[OpenPage]:
    """Opens a page at a URL, recording its console; closes it after the test."""
    pages: list[Page] = []

    async def open_one(url: str) -> AppPage:
        page = await browser.new_page()
        pages.append(page)
        logs: list[str] = []
        page.on("console", lambda msg: logs.append(msg.text))
        page.on("pageerror", lambda exc: logs.append(f"[page error] {exc}"))
        await page.goto(url)
        return AppPage(page, logs)

    yield open_one
    for page in pages:
        await page.close()
