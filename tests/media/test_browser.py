"""A Python peer with media against real Chromium (fake camera and microphone)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import av
import pytest
from aiohttp import web
from playwright.async_api import async_playwright

from rtcroom import aiohttp as rtc_aiohttp
from rtcroom.client import WebRTCCall
from rtcroom.media import TestPatternSource
from rtcroom.testing.browser import CHROMIUM_FLAGS as FLAGS
from tests.support import run_aiohttp

# A browser peer that speaks the signaling protocol the way Agentuity's client does: it joins,
# offers to the peers already there with its camera and microphone, trickles ICE.
PAGE = """<!doctype html><meta charset="utf-8"><title>peer</title><script>
window.startPeer = async (url, room) => {
  const stream = await navigator.mediaDevices.getUserMedia({video: true, audio: true});
  const ws = new WebSocket(url);
  let me = null;
  window.peers = {};
  const make = (id) => {
    const pc = new RTCPeerConnection({iceServers: []});
    window.peers[id] = pc;
    pc.onicecandidate = (e) => {
      if (!e.candidate) return;
      ws.send(JSON.stringify({t: "ice", from: me, to: id, candidate: e.candidate.toJSON()}));
    };
    return pc;
  };
  ws.onmessage = async (event) => {
    const m = JSON.parse(event.data);
    if (m.t === "joined") {
      me = m.peerId;
      for (const id of m.peers) {
        const pc = make(id);
        stream.getTracks().forEach((t) => pc.addTrack(t, stream));
        await pc.setLocalDescription(await pc.createOffer());
        ws.send(JSON.stringify({t: "sdp", from: me, to: id, description: pc.localDescription}));
      }
    } else if (m.t === "sdp") {
      const pc = window.peers[m.from] || make(m.from);
      await pc.setRemoteDescription(m.description);
      if (m.description.type === "offer") {
        await pc.setLocalDescription(await pc.createAnswer());
        ws.send(JSON.stringify({t: "sdp", from: me, to: m.from, description: pc.localDescription}));
      }
    } else if (m.t === "ice") {
      const pc = window.peers[m.from];
      if (pc) await pc.addIceCandidate(m.candidate);
    }
  };
  await new Promise((resolve) => { ws.onopen = resolve; });
  ws.send(JSON.stringify({t: "join", roomId: room}));
  await new Promise((resolve) => {
    const check = () => (me ? resolve() : setTimeout(check, 20));
    check();
  });
  return me;
};
window.inboundVideo = async () => {
  for (const pc of Object.values(window.peers)) {
    const stats = await pc.getStats();
    for (const s of stats.values()) {
      if (s.type !== "inbound-rtp" || s.kind !== "video") continue;
      return {decoded: s.framesDecoded || 0, width: s.frameWidth || 0, height: s.frameHeight || 0};
    }
  }
  return {decoded: 0, width: 0, height: 0};
};
</script>"""


@pytest.fixture
async def site() -> AsyncIterator[int]:
    app = web.Application()

    async def page(_: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    app.router.add_get("/", page)
    app.router.add_get("/api/call/signal", rtc_aiohttp.webrtc())
    async with run_aiohttp(app) as port:
        yield port


async def browser_video(page: Any, check: Any, timeout: float = 20.0) -> dict[str, int]:
    stats: dict[str, int] = {}
    for _ in range(int(timeout / 0.1)):
        stats = await page.evaluate("window.inboundVideo()")
        if check(stats):
            return stats
        await asyncio.sleep(0.1)
    raise AssertionError(f"the browser's inbound video never matched: {stats}")


async def test_python_peer_and_chromium_exchange_media(site: int) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "Chromium is needed (scripts/test installs it)"
    url = f"ws://127.0.0.1:{site}/api/call/signal"
    call = WebRTCCall(
        "browser",
        url,
        media=TestPatternSource(video={"width": 320, "height": 240, "fps": 15}),
        ice_servers=[],
        ice_host_addresses=["127.0.0.1"],
    )
    async with async_playwright() as pw:
        profile = tempfile.TemporaryDirectory(prefix="rtcroom-media-chromium-")
        context = await pw.chromium.launch_persistent_context(
            profile.name, executable_path=chromium, headless=True, args=FLAGS
        )
        try:
            await call.connect()
            page = context.pages[0] if context.pages else await context.new_page()
            await page.goto(f"http://127.0.0.1:{site}/")
            browser_id = await asyncio.wait_for(page.evaluate(f"startPeer('{url}', 'browser')"), 20)
            await asyncio.wait_for(call.wait_connected(), 20)

            # Chromium's fake camera reaches the Python program as numpy frames.
            frame = await call.remote_video(browser_id).next(timeout=20)
            height, width, depth = frame.to_ndarray().shape
            assert depth == 3 and width * 3 == height * 4 and width <= 640  # 4:3, maybe scaled
            sound = await call.remote_audio(browser_id, sample_rate=16_000).next(timeout=20)
            assert sound.sample_rate == 16_000

            # ... and Chromium decodes the Python peer's video, which keeps flowing while muted.
            stats = await browser_video(page, lambda s: s["decoded"] > 10)
            assert (stats["width"], stats["height"]) == (320, 240)
            call.mute_video(True)
            before = stats["decoded"]
            await browser_video(page, lambda s: s["decoded"] > before + 15)
            call.mute_video(False)

            handle = call.start_recording(browser_id)
            assert handle is not None
            first = await call.get_quality_summary(browser_id)
            await asyncio.sleep(2.0)
            summary = await call.get_quality_summary(browser_id)
            assert first is not None and summary is not None and summary.bitrate is not None
            assert summary.bitrate.video and (summary.bitrate.video.inbound or 0) > 1_000
            assert summary.bitrate.video.outbound and summary.bitrate.video.outbound > 1_000
            assert summary.candidate_pair and summary.candidate_pair.using_relay is False
            # Chromium does not answer rtcroom's ping; RTT then comes from RTCP reports.
            for _ in range(100):
                if summary.rtt is not None:
                    break
                await asyncio.sleep(0.1)
                summary = await call.get_quality_summary(browser_id)
                assert summary is not None
            assert summary.rtt is not None and summary.rtt_source == "rtcp"
            path = await handle.stop()
            with av.open(str(path)) as container:
                assert {s.type for s in container.streams} == {"audio", "video"}
                assert sum(1 for _ in container.decode(video=0)) >= 10
            path.unlink()
        finally:
            await call.hangup()
            await context.close()
            profile.cleanup()
