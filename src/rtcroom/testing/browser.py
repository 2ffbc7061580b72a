"""Real Chromium for tests and benchmarks: the flags that work on loopback, a page that loads
rtcroom.js from a real rtcroom server and records what the call reports, and bounded waits.

Needs ``playwright`` (in ``rtcroom[test]``) and Debian's ``chromium``: never a downloaded browser.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from ..app import create_app

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page
    from starlette.applications import Starlette

__all__ = [
    "CHROMIUM_FLAGS",
    "HARNESS_HTML",
    "WAIT_MS",
    "chromium",
    "harness_app",
    "open_harness",
    "peer_id",
    "start_call",
    "wait_for",
]

# Each is needed inside a loopback-only network namespace: without the loopback flag ICE
# gathering never completes; without the fake-UI flag Chromium hides its 127.0.0.1 candidates.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]

WAIT_MS = 20_000  # upper bound for anything a test waits for in the page

# The test page: rtcroom.js comes from the real server (same origin); this page only records
# what the call reports, so the tests can assert on it.
HARNESS_HTML = """<!doctype html><meta charset="utf-8"><title>rtcroom test</title>
<script type="module">
import * as rtc from '/rtcroom.js';
window.rtc = rtc;
window.events = [];
window.messages = [];
window.eventTimes = []; // [name, ms since the epoch], for bench/
const plain = ['string', 'number', 'boolean', 'undefined'];
const simple = (v) => (v === null || plain.includes(typeof v))
  ? v : (v instanceof Error ? v.name + ': ' + v.message : String(v));
const CALLBACKS = ['onStateChange', 'onConnect', 'onDisconnect', 'onLocalStream', 'onRemoteStream',
  'onTrackAdded', 'onTrackRemoved', 'onPeerJoined', 'onPeerLeft', 'onNegotiationStart',
  'onNegotiationComplete', 'onIceStateChange', 'onError', 'onDataChannelOpen',
  'onDataChannelClose', 'onDataChannelMessage', 'onDataChannelError', 'onScreenShareStart',
  'onScreenShareStop', 'onReconnecting', 'onReconnected', 'onReconnectFailed',
  'onSignalingLost', 'onSignalingRestored', 'onPeerReconnecting', 'onPeerReconnected'];
window.makeCall = (opts) => {
  const callbacks = {};
  for (const name of CALLBACKS) {
    callbacks[name] = (...args) => {
      if (name === 'onDataChannelMessage') {
        const [from, label, data] = args;
        const value = data instanceof ArrayBuffer ? { bytes: [...new Uint8Array(data)] } : data;
        window.messages.push({ from, label, data: value });
      }
      window.events.push([name, ...args.map(simple)]);
      window.eventTimes.push([name, performance.timeOrigin + performance.now()]);
    };
  }
  const options = { ...opts, autoConnect: false, callbacks };
  if (opts.media === 'display') options.media = new rtc.DisplayMediaSource();
  window.call = new rtc.WebRTCCall(options);
  window.eventTimes.push(['connect()', performance.timeOrigin + performance.now()]);
  return window.call.connect();
};
window.eventNames = () => window.events.map((e) => e[0]);
window.inbound = async (peerId, kind) => {
  const stats = await window.call.getRawStats(peerId);
  if (!stats) return null;
  for (const r of stats.values()) {
    if (r.type === 'inbound-rtp' && r.kind === kind) {
      return { framesDecoded: r.framesDecoded ?? 0, frameWidth: r.frameWidth ?? 0,
               frameHeight: r.frameHeight ?? 0, totalAudioEnergy: r.totalAudioEnergy ?? 0,
               bytesReceived: r.bytesReceived ?? 0 };
    }
  }
  return null;
};
// Mean brightness (0-255) of the remote peer's video as it is drawn on screen.
window.brightness = async (peerId) => {
  const stream = window.call.getRemoteStream(peerId);
  if (!stream) return -1;
  let video = window.__videos?.[peerId];
  if (!video) {
    window.__videos = window.__videos || {};
    video = window.__videos[peerId] = document.createElement('video');
    video.muted = true; video.playsInline = true; video.srcObject = stream;
    document.body.append(video);
    await video.play();
  }
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 48;
  const g = canvas.getContext('2d');
  g.drawImage(video, 0, 0, 64, 48);
  const px = g.getImageData(0, 0, 64, 48).data;
  let sum = 0;
  for (let i = 0; i < px.length; i += 4) sum += (px[i] + px[i + 1] + px[i + 2]) / 3;
  return sum / (px.length / 4);
};
// Mean [r, g, b] of the remote peer's video as drawn (after window.brightness set it up).
window.meanColor = async (peerId) => {
  if ((await window.brightness(peerId)) < 0) return null;
  const canvas = document.createElement('canvas');
  canvas.width = 32; canvas.height = 24;
  const g = canvas.getContext('2d');
  g.drawImage(window.__videos[peerId], 0, 0, 32, 24);
  const px = g.getImageData(0, 0, 32, 24).data;
  const sum = [0, 0, 0];
  for (let i = 0; i < px.length; i += 4) for (let c = 0; c < 3; c++) sum[c] += px[i + c];
  return sum.map((v) => v / (px.length / 4));
};
window.harnessReady = true;
</script>"""


@asynccontextmanager
async def chromium(flags: Sequence[str] = CHROMIUM_FLAGS) -> AsyncIterator[BrowserContext]:
    """Debian's chromium (never a downloaded browser), headless, with ``flags``."""
    from playwright.async_api import async_playwright

    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("chromium is not installed: run scripts/test (it installs it via apt)")
    async with async_playwright() as pw:
        ctx = await pw.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="rtcroom-chromium-"),
            executable_path=executable,
            headless=True,
            args=list(flags),
        )
        try:
            yield ctx
        finally:
            await ctx.close()


def harness_app(**options: Any) -> Starlette:
    """``rtcroom serve``'s app plus the test page at ``/__harness.html``, served by the real
    server so the page's origin is the server's (Chromium blocks a page that has no address
    from opening a WebSocket to loopback)."""
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    app = create_app(**options)

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(HARNESS_HTML)

    app.router.routes.insert(0, Route("/__harness.html", page))
    return app


async def open_harness(ctx: BrowserContext, base: str) -> Page:
    """A test page from the server at ``base`` (a ``harness_app``)."""
    page = await ctx.new_page()
    page.on("pageerror", lambda exc: print(f"[page error] {exc}"))
    await page.goto(f"{base}/__harness.html")
    await page.wait_for_function("window.harnessReady === true", timeout=WAIT_MS)
    return page


async def start_call(page: Page, **options: Any) -> None:
    """``new WebRTCCall(options).connect()`` in the page (``iceServers`` must be given)."""
    if "iceServers" not in options:
        raise ValueError("pass iceServers explicitly (use [] on loopback): None means Google STUN")
    await page.evaluate("(o) => window.makeCall(o)", options)


async def wait_for(page: Page, expression: str, arg: Any = None, timeout_ms: int = WAIT_MS) -> Any:
    """Poll the JS ``expression`` (a function of ``arg``, may be async) until it is truthy and
    return its value; fail with the expression after ``timeout_ms``."""
    deadline = asyncio.get_running_loop().time() + timeout_ms / 1000
    while True:
        value = await page.evaluate(expression, arg)
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(
                f"timed out after {timeout_ms} ms waiting for {expression} ({arg!r})"
            )
        await asyncio.sleep(0.1)


async def peer_id(page: Page) -> str:
    """The page's peer id, once it has joined."""
    value: str = await wait_for(page, "() => window.call.peerId")
    return value
