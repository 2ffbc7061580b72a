"""The examples a person tries in a browser: the chat bot against the real demo page, the
one-page call (examples/web/call.html), and the FastAPI example's demo page."""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Page
from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.routing import Route, WebSocketRoute

from rtcroom.asgi import browser_client, webrtc
from rtcroom.testing import ServeProcess
from tests.examples import EXAMPLES, ROOT, example_env, load_example
from tests.support import SIGNAL_PATH, run_uvicorn

from .harness import WAIT_MS, wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo_url() -> AsyncIterator[str]:
    """``rtcroom serve`` with its defaults (2 peers per room), as the chat bot's docs say."""
    async with ServeProcess("--max-peers", "2") as server:
        yield server.http_url


async def join_demo(browser: BrowserContext, url: str, room: str) -> Page:
    """The demo page at ``url/#room``, joined data-only, as a person clicks it."""
    page = await browser.new_page()
    await page.goto(f"{url}/#{room}")
    await wait_for(page, "() => document.querySelector('#server-info').textContent.includes('ws')")
    await page.click("#join-data")
    return page


async def say(page: Page, text: str) -> None:
    await page.fill("#chat-input", text)
    await page.press("#chat-input", "Enter")


async def expect_chat(page: Page, text: str) -> None:
    await page.wait_for_selector(f"#chat-log .msg:not(.me) >> text={text}", timeout=WAIT_MS)


async def start_bot(room: str, url: str) -> asyncio.subprocess.Process:
    """``python examples/chat_bot.py ROOM --url URL`` (ICE on loopback: no network here)."""
    bot = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / "chat_bot.py"),
        room,
        "--url",
        url,
        "--ice-host",
        "127.0.0.1",
        env=example_env(),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert bot.stdout is not None
    line = (await asyncio.wait_for(bot.stdout.readline(), 30)).decode()
    assert line.startswith("chat bot peer-"), line
    return bot


async def stop_bot(bot: asyncio.subprocess.Process) -> bytes:
    bot.send_signal(signal.SIGINT)  # Ctrl-C
    out, err = await asyncio.wait_for(bot.communicate(), 20)
    assert bot.returncode == 0 and b"Traceback" not in err, err.decode()
    return out


@pytest.mark.parametrize("bot_first", [True, False], ids=["bot-joins-first", "page-joins-first"])
async def test_chat_bot_talks_with_the_demo_page(
    browser: BrowserContext, demo_url: str, bot_first: bool
) -> None:
    room = f"bot-{uuid.uuid4().hex[:6]}"
    signal_url = demo_url.replace("http", "ws") + SIGNAL_PATH
    page = None
    bot = await start_bot(room, signal_url) if bot_first else None
    try:
        page = await join_demo(browser, demo_url, room)
        if bot is None:
            await page.wait_for_selector("#status[data-state='signaling']", timeout=WAIT_MS)
            bot = await start_bot(room, signal_url)
        await expect_chat(page, "Hello! I am a bot. Say something.")
        await say(page, "hello bot")
        await expect_chat(page, "You said: hello bot")
        await say(page, "42")  # the page sends JSON text, so this stays a string
        await expect_chat(page, "You said: 42")
    finally:
        if page is not None:
            await page.close()
        out = await stop_bot(bot) if bot is not None else b""
    assert b": hello bot\n" in out and out.endswith(b"chat bot stopped\n")


async def test_one_page_call_example(browser: BrowserContext) -> None:
    """examples/web/call.html, served with rtcroom.js and the signaling endpoint, in two tabs:
    each shows the other's camera and logs the other's greeting."""
    signaling = webrtc()

    async def call_page(request: object) -> FileResponse:
        return FileResponse(EXAMPLES / "web/call.html")

    app = Starlette(
        routes=[
            WebSocketRoute(SIGNAL_PATH, signaling),
            Route("/rtcroom.js", browser_client()),
            Route("/call.html", call_page),
        ]
    )
    room = f"call-{uuid.uuid4().hex[:6]}"
    async with run_uvicorn(app) as port:
        pages = [await browser.new_page() for _ in range(2)]
        try:
            for page in pages:
                await page.goto(f"http://127.0.0.1:{port}/call.html#{room}")
                await wait_for(page, "() => window.call && window.call.peerId")
            for page, other in ((pages[0], pages[1]), (pages[1], pages[0])):
                other_id = await other.evaluate("window.call.peerId")
                log = await wait_for(
                    page,
                    "(s) => document.querySelector('#log').textContent.includes(s) && "
                    "document.querySelector('#log').textContent",
                    f'{other_id} chat {{"text":"hi"}}',
                )
                assert "signaling -> negotiating" in log
                assert (
                    await wait_for(page, "() => document.querySelector('video').videoWidth") == 640
                )  # the other tab's fake camera
        finally:
            for page in pages:
                await page.close()
        await signaling.hub.close()


async def test_fastapi_example_demo_page_chats(browser: BrowserContext) -> None:
    """``uvicorn examples.fastapi_app:app``: its / is the demo page, which works without the
    standalone server's /healthz (it keeps the default signaling path)."""
    app = load_example("fastapi_app").app
    room = f"fastapi-{uuid.uuid4().hex[:6]}"
    async with run_uvicorn(app) as port:
        url = f"http://127.0.0.1:{port}"
        a = await join_demo(browser, url, room)
        b = await join_demo(browser, url, room)
        try:
            for page in (a, b):
                await page.wait_for_selector("#status[data-state='connected']", timeout=WAIT_MS)
            await say(a, "hello through FastAPI")
            await expect_chat(b, "hello through FastAPI")
        finally:
            await a.close()
            await b.close()
