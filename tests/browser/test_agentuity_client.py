"""Agentuity's own browser client (``WebRTCManager`` from the npm package ``@agentuity/frontend``,
installed by ``npm ci`` in js/tooling, bundled here by its esbuild, never copied into the repo)
on a token-protected rtcroom server that also hands out TURN credentials: it joins with its
token in ``signalUrl``, ignores the ``iceServers`` extension of ``joined``, and talks to rtcroom.js.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Page, Route

from rtcroom import IceServers, JoinTokens, tokens
from tests.coturn import Coturn, coturn
from tests.secure_support import SECRET
from tests.support import run_uvicorn

from .harness import harness_app, open_harness, peer_id, start_call, wait_for, wait_state

pytestmark = pytest.mark.asyncio(loop_scope="module")

__all__ = ["coturn"]  # the fixture

TOOLING = Path(__file__).resolve().parents[2] / "js" / "tooling"
ENTRY = TOOLING / "node_modules" / "@agentuity" / "frontend" / "dist" / "webrtc-manager.js"
SIGNAL = "/api/call/signal"
BUNDLE_PATH = "/__agentuity-webrtc.js"


@pytest.fixture(scope="module")
def agentuity_bundle() -> str:
    """Agentuity's WebRTCManager as one ES module (its dist files import without extensions)."""
    esbuild = TOOLING / "node_modules" / ".bin" / "esbuild"
    if not ENTRY.exists() or not esbuild.exists():
        pytest.fail("Agentuity's client is not installed: run `cd js/tooling && npm ci` first")
    result = subprocess.run(
        [str(esbuild), str(ENTRY), "--bundle", "--format=esm", "--log-level=error"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def secure_base(coturn: Coturn) -> AsyncIterator[str]:
    ice = IceServers([], [coturn.url], turn_secret=coturn.secret)
    app = harness_app(max_peers=2, auth=JoinTokens(SECRET), ice_servers=ice)
    async with run_uvicorn(app) as port:
        yield f"http://127.0.0.1:{port}"


AGENTUITY_CALL = """
async ([bundle, options]) => {
  const { WebRTCManager } = await import(bundle);
  window.agentuity = { messages: [], errors: [], states: [], reconnecting: 0 };
  const log = window.agentuity;
  window.manager = new WebRTCManager({
    ...options,
    callbacks: {
      onStateChange: (from, to) => log.states.push(to),
      onError: (error) => log.errors.push(String(error && error.message)),
      onReconnecting: () => { log.reconnecting += 1; },
      onDataChannelMessage: (from, label, data) => log.messages.push(data),
    },
  });
  await window.manager.connect();
}
"""


async def agentuity_page(browser: BrowserContext, base: str, bundle: str) -> Page:
    page = await open_harness(browser, base)

    async def serve(route: Route) -> None:
        await route.fulfill(body=bundle, content_type="text/javascript")

    await page.route(f"**{BUNDLE_PATH}", serve)
    return page


async def test_agentuitys_client_joins_with_a_token_in_its_signal_url(
    browser: BrowserContext, secure_base: str, agentuity_bundle: str
) -> None:
    room = f"agentuity-{uuid.uuid4().hex[:8]}"
    token = tokens.create(SECRET, room=room, identity="agentuity-user")
    a = await agentuity_page(browser, secure_base, agentuity_bundle)
    b = await open_harness(browser, secure_base)
    try:
        options = {
            "roomId": room,
            "signalUrl": f"{secure_base.replace('http', 'ws')}{SIGNAL}?token={token}",
            "media": False,
            "iceServers": [],
            "dataChannels": [{"label": "chat"}],
        }
        await a.evaluate(AGENTUITY_CALL, [BUNDLE_PATH, options])
        await wait_for(a, "() => window.manager.peerId")
        await start_call(
            b,
            roomId=room,
            signalUrl=SIGNAL,
            token=tokens.create(SECRET, room=room, identity="rtcroom-user"),
            iceServers=[],
            media=False,
            dataChannels=[{"label": "chat"}],
        )
        await wait_state(b, "connected")
        await wait_for(a, "() => window.manager.state === 'connected'")
        ida = await a.evaluate("window.manager.peerId")
        idb = await peer_id(b)
        await wait_for(b, "(p) => window.call.getDataChannelState(p, 'chat') === 'open'", ida)
        await wait_for(a, "(p) => window.manager.getDataChannelState(p, 'chat') === 'open'", idb)
        await b.evaluate("window.call.sendString('chat', 'hello Agentuity')")
        await wait_for(a, "() => window.agentuity.messages.includes('hello Agentuity')")
        await a.evaluate("window.manager.sendString('chat', 'hello rtcroom')")
        await wait_for(b, "() => window.messages.some((m) => m.data === 'hello rtcroom')")
        assert await a.evaluate("window.agentuity.errors") == []
    finally:
        await a.close()
        await b.close()


async def test_agentuitys_client_is_refused_without_a_token(
    browser: BrowserContext, secure_base: str, agentuity_bundle: str
) -> None:
    """What an Agentuity app sees when its token is missing: the socket closes (4401) and its
    client does what it does for any close, reconnect; rtcroom.js would stop (AuthError)."""
    page = await agentuity_page(browser, secure_base, agentuity_bundle)
    try:
        options = {
            "roomId": "r",
            "signalUrl": f"{secure_base.replace('http', 'ws')}{SIGNAL}",
            "media": False,
            "iceServers": [],
            "autoReconnect": False,
        }
        await page.evaluate(AGENTUITY_CALL, [BUNDLE_PATH, options])
        states = await wait_for(
            page,
            "() => window.manager.state === 'idle' && window.agentuity.states.includes('signaling')"
            " && window.agentuity.states",
        )
        assert states[-1] == "idle"  # the socket opened, was closed by the server, no join
        assert await page.evaluate("window.manager.peerId") is None
    finally:
        await page.close()
