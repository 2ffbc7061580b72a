"""Glare between the Python peer and real Chromium running Agentuity's perfect negotiation.

The page below follows Agentuity's client for negotiation (politeness by id comparison, an
impolite side ignores a colliding offer, the polite side relies on the browser's implicit
rollback). To make the offers truly cross, the page holds incoming SDP frames (a slow network)
while both sides offer, then releases them.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import pytest

from rtcroom.testing.browser import CHROMIUM_FLAGS as FLAGS
from tests.support import signaling_server

from .helpers import WAIT, Recorder, make_call

CHROMIUM = shutil.which("chromium")

PEER_JS = """
url => {
  const s = window.peer = {received: [], hold: false, held: [], pending: [], makingOffer: false};
  const ws = new WebSocket(url);
  const send = m => ws.send(JSON.stringify(Object.assign({from: s.id}, m)));
  const watch = ch => { s.dc = ch; ch.onmessage = e => s.received.push(e.data); };
  const makePc = () => {
    const pc = s.pc = new RTCPeerConnection({iceServers: []});
    pc.onicecandidate = e => e.candidate && send({t: 'ice', to: s.remote,
                                                  candidate: e.candidate.toJSON()});
    pc.ondatachannel = e => watch(e.channel);
  };
  s.offer = async () => {
    s.makingOffer = true;
    try { await s.pc.setLocalDescription(); send({t: 'sdp', to: s.remote,
                                                  description: s.pc.localDescription}); }
    finally { s.makingOffer = false; }
  };
  const onSdp = async m => {
    const desc = m.description, pc = s.pc;
    const polite = !(s.id > m.from);
    const collision = desc.type === 'offer' && (s.makingOffer || pc.signalingState !== 'stable');
    s.collisions = (s.collisions || 0) + (collision ? 1 : 0);
    if (!polite && collision) return;
    await pc.setRemoteDescription(desc);
    for (const c of s.pending) await pc.addIceCandidate(c); s.pending = [];
    if (desc.type === 'offer') { await pc.setLocalDescription();
      send({t: 'sdp', to: m.from, description: pc.localDescription}); }
  };
  s.release = async () => { s.hold = false; for (const m of s.held.splice(0)) await onSdp(m); };
  ws.onmessage = async ev => {
    const m = JSON.parse(ev.data);
    if (m.t === 'joined') { s.id = m.peerId;
      if (m.peers.length) { s.remote = m.peers[0]; makePc(); watch(s.pc.createDataChannel('chat'));
                            await s.offer(); } }
    else if (m.t === 'peer-joined') { s.remote = m.peerId; makePc(); }
    else if (m.t === 'sdp') { if (s.hold) s.held.push(m); else await onSdp(m); }
    else if (m.t === 'ice' && m.candidate.candidate) {
      if (s.pc.remoteDescription) await s.pc.addIceCandidate(m.candidate);
      else s.pending.push(m.candidate); }
  };
  return new Promise(r => ws.onopen = () => { ws.send(JSON.stringify({t: 'join', roomId: 'room'}));
                                              r(); });
}
"""


@pytest.fixture
async def browser_page() -> AsyncIterator[Any]:
    if CHROMIUM is None:
        pytest.fail("chromium is not installed (scripts/test installs it)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        ctx = await pw.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="rtcroom-test-"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
        )
        try:
            yield await ctx.new_page()
        finally:
            await ctx.close()


async def _until(page: Any, expression: str) -> None:
    await page.wait_for_function(expression, timeout=WAIT * 1000)


@pytest.mark.parametrize("python_joins", ["first", "second"])
async def test_glare_with_chromium_in_both_politeness_orders(
    browser_page: Any, python_joins: str
) -> None:
    page = browser_page
    async with signaling_server("uvicorn") as srv:
        # An http origin: on about:blank Chromium gathers no candidates.
        await page.goto(srv.url.replace("ws://", "http://"))
        call = make_call(srv.url)
        rec = Recorder(call)
        try:
            if python_joins == "first":
                await call.connect()
                await page.evaluate(PEER_JS, srv.url)
            else:
                await page.evaluate(PEER_JS, srv.url)
                await _until(page, "window.peer.id")
                await call.connect()
            await call.wait_connected(timeout=WAIT)
            await _until(page, "window.peer.dc && window.peer.dc.readyState === 'open'")
            browser_id = await page.evaluate("window.peer.id")
            session = call.sessions[browser_id]
            assert session.polite is (python_joins == "first")  # the smaller id is polite

            # Slow network: the page sits on incoming SDP while both sides offer.
            await page.evaluate("window.peer.hold = true")
            ours = asyncio.ensure_future(session.renegotiate(timeout=WAIT))
            await _until(page, "window.peer.held.length === 1")  # our offer is in flight
            await page.evaluate("window.peer.offer()")  # the browser offers too
            await asyncio.sleep(0.3)  # its offer reaches us while ours is pending
            await page.evaluate("window.peer.release()")
            await asyncio.wait_for(ours, WAIT)

            assert session.offer_collisions >= 1
            assert await page.evaluate("window.peer.collisions") >= 1
            await _until(page, "window.peer.pc.signalingState === 'stable'")
            await _until(page, "window.peer.pc.iceConnectionState === 'connected'")
            assert session.pc.signalingState == "stable"
            assert call.send_string("chat", "python after glare")
            await _until(page, "window.peer.received.includes('python after glare')")
            await page.evaluate("window.peer.dc.send(JSON.stringify({from: 'chromium'}))")
            await rec.until(lambda: any(m.data == {"from": "chromium"} for m in rec.messages()))
            assert call.state == "connected"
        finally:
            await call.hangup()
            await rec.close()
