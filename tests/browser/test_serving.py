"""The ``browser_client()`` routes of examples/fastapi_app.py and aiohttp_app.py, in Chromium."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext

from rtcroom import aiohttp as rtc_aiohttp
from rtcroom import asgi as rtc_asgi
from rtcroom.app import web_asset
from tests.examples import load_example
from tests.support import run_aiohttp, run_uvicorn

from .harness import wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")


def serve_example(module: str) -> AbstractAsyncContextManager[int]:
    app = load_example(module).app
    return run_aiohttp(app) if module == "aiohttp_app" else run_uvicorn(app)


@pytest_asyncio.fixture(loop_scope="module", params=["fastapi_app", "aiohttp_app"])
async def example_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    async with serve_example(request.param) as port:
        yield f"http://127.0.0.1:{port}"


async def test_examples_serve_the_shipped_client(example_url: str) -> None:
    async with httpx.AsyncClient(base_url=example_url) as http:
        response = await http.get("/rtcroom.js")
        assert response.status_code == 200
        assert response.content == web_asset("rtcroom.js")
        assert response.headers["content-type"].startswith("text/javascript")
        assert response.headers["cache-control"] == "no-cache"
        again = await http.get("/rtcroom.js", headers={"if-none-match": response.headers["etag"]})
        assert again.status_code == 304 and again.content == b""


# A line of JavaScript (not a comment) that loads another module: `import x from '...'`,
# `import '...'`, `import('...')` or `export ... from '...'`.
_MODULE_LOAD = re.compile(r"^\s*(import[\s({'\"*]|export\s.*\sfrom\s)|(?<![\w.$])import\s*\(", re.M)


def _code_lines(source: str) -> str:
    return "\n".join(
        line for line in source.splitlines() if not line.lstrip().startswith(("//", "*", "/*"))
    )


async def test_the_served_client_is_one_self_contained_module(
    browser: BrowserContext, example_url: str
) -> None:
    """rtcroom.js imports nothing, so a page loads the whole client in one request."""
    source = web_asset("rtcroom.js").decode()
    assert re.search(r"export\s*\{", source) and "class" in source  # the bundle, not a stub
    assert _MODULE_LOAD.findall(_code_lines(source)) == []
    page = await browser.new_page()
    try:
        await page.goto(f"{example_url}/rtcroom.d.ts")  # any page of that origin will do
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        exports = await page.evaluate("async () => Object.keys(await import('/rtcroom.js')).sort()")
    finally:
        await page.close()
    assert requested == [f"{example_url}/rtcroom.js"]
    assert exports == [
        "CustomStreamSource",
        "DisplayMediaSource",
        "UserMediaSource",
        "WebRTCCall",
        "qualitySummary",
    ]


async def test_a_call_through_the_example_app(browser: BrowserContext, example_url: str) -> None:
    """Two pages import /rtcroom.js from the app and talk through its signaling endpoint."""
    room = f"room-{uuid.uuid4().hex[:8]}"
    script = """async (room) => {
        const { WebRTCCall } = await import('/rtcroom.js');
        window.got = [];
        window.call = new WebRTCCall({ roomId: room, signalUrl: '/api/call/signal',
            iceServers: [], media: false, dataChannels: [{ label: 'chat' }],
            callbacks: { onDataChannelMessage: (from, label, data) => window.got.push(data) } });
    }"""
    pages = [await browser.new_page() for _ in range(2)]
    try:
        for page in pages:
            await page.goto(f"{example_url}/rtcroom.js")  # any page of that origin will do
            await page.evaluate(script, room)
        for page in pages:
            await wait_for(page, "() => window.call.state === 'connected'")
            await wait_for(
                page, "() => window.call.sendString('chat', 'ping ' + window.call.peerId)"
            )
        for page, other in ((pages[0], pages[1]), (pages[1], pages[0])):
            other_id = await other.evaluate("window.call.peerId")
            assert await wait_for(page, "() => window.got.length && window.got") == [
                f"ping {other_id}"
            ]
    finally:
        for page in pages:
            await page.close()


async def test_unknown_file_names_are_refused_clearly() -> None:
    for make in (rtc_asgi.browser_client, rtc_aiohttp.browser_client):
        with pytest.raises(ValueError, match=r"ships no web file 'rtcroom.min.js'.*rtcroom.js"):
            make("rtcroom.min.js")
    assert rtc_asgi.browser_client("rtcroom.d.ts").file.media_type.startswith("text/plain")
