"""Bulk data between real Chromium and rtcroom's Python peer (with its data-path speed-ups),
both ways, every message checked by its SHA-256 and its place in the sequence."""

from __future__ import annotations

import asyncio
import hashlib
import random

from rtcroom.app import create_app
from rtcroom.client import DataChannelConfig
from rtcroom.testing import run_uvicorn
from rtcroom.testing.browser import chromium, wait_for

from .helpers import Recorder, make_call

COUNT = 160  # messages each way, 1 B to 64 KiB: ~5 MB
SIGNAL_PATH = "/api/call/signal"

PAGE_JS = """
async ([url, count]) => {
  const s = window.bulk = {order: [], bad: 0, checks: [], sent: false};
  const ws = new WebSocket(url);
  let pc = null, remote = null, pending = [];
  const check = async data => {
    const bytes = new Uint8Array(data);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256',
      new Uint8Array([...bytes.subarray(0, 4), ...bytes.subarray(36)])));
    if (!digest.every((b, i) => b === bytes[4 + i])) s.bad++;
  };
  const make = async n => {
    const size = [1, 100, 1200, 5000, 16384, 65496][n % 6];
    const body = new Uint8Array(size); crypto.getRandomValues(body);
    const head = new Uint8Array([n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255]);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256',
      new Uint8Array([...head, ...body])));
    const out = new Uint8Array(36 + size);
    out.set(head); out.set(digest, 4); out.set(body, 36);
    return out;
  };
  s.sendBack = async () => {
    const ch = s.channel; ch.bufferedAmountLowThreshold = 256 * 1024;
    for (let n = 0; n < count; n++) {
      if (ch.bufferedAmount > 1024 * 1024)
        await new Promise(r => ch.addEventListener('bufferedamountlow', r, {once: true}));
      ch.send(await make(n));
    }
    s.sent = true;
  };
  ws.onmessage = async ev => {
    const m = JSON.parse(ev.data);
    if (m.t === 'sdp') {
      remote = m.from;
      pc = new RTCPeerConnection({iceServers: []});
      pc.onicecandidate = e => { if (e.candidate) ws.send(JSON.stringify(
        {t: 'ice', to: remote, candidate: e.candidate.toJSON()})); };
      pc.ondatachannel = e => {
        if (e.channel.label !== 'bulk') return;
        s.channel = e.channel; e.channel.binaryType = 'arraybuffer';
        e.channel.onmessage = e => {
          const bytes = new Uint8Array(e.data);
          s.order.push((bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]) >>> 0);
          s.checks.push(check(e.data));
        };
      };
      await pc.setRemoteDescription(m.description);
      for (const c of pending) await pc.addIceCandidate(c); pending = [];
      await pc.setLocalDescription();
      ws.send(JSON.stringify({t: 'sdp', to: remote, description: pc.localDescription.toJSON()}));
    } else if (m.t === 'ice' && m.candidate.candidate) {
      if (pc && pc.remoteDescription) await pc.addIceCandidate(m.candidate);
      else pending.push(m.candidate);
    }
  };
  await new Promise(r => ws.onopen = r);
  ws.send(JSON.stringify({t: 'join', roomId: 'bulk'}));
  s.done = async () => { await Promise.all(s.checks); return s.order.length === count; };
}
"""


def message(n: int, rng: random.Random) -> bytes:
    body = rng.randbytes([1, 100, 1200, 5000, 16384, 65496][n % 6])
    head = n.to_bytes(4, "big")
    return head + hashlib.sha256(head + body).digest() + body


async def test_chromium_and_python_move_megabytes_both_ways_intact() -> None:
    rng = random.Random(11)
    async with run_uvicorn(create_app(max_peers=2)) as port, chromium() as ctx:
        url = f"ws://127.0.0.1:{port}{SIGNAL_PATH}"
        page = await ctx.new_page()
        await page.goto(f"http://127.0.0.1:{port}/healthz")  # an origin, for ICE candidates
        await page.evaluate(PAGE_JS, [url, COUNT])
        call = make_call(url, "bulk", data_channels=[DataChannelConfig("bulk")])
        recorder = Recorder(call)
        try:
            await call.connect()
            await call.wait_connected(timeout=30)
            await wait_for(page, "() => window.bulk.channel?.readyState === 'open'")
            for n in range(COUNT):
                assert call.send_binary("bulk", message(n, rng))
                await call.drain("bulk", low=512 * 1024, timeout=60)
            await wait_for(page, "() => window.bulk.done()", timeout_ms=60_000)
            got = await page.evaluate("() => [window.bulk.order, window.bulk.bad]")
            assert got == [list(range(COUNT)), 0], "Chromium got messages lost, reordered or bad"

            await page.evaluate("() => { window.bulk.sendBack(); }")
            await recorder.until(lambda: len(recorder.messages("bulk")) == COUNT, timeout=60)
            order = []
            for event in recorder.messages("bulk"):
                data = event.raw
                assert isinstance(data, bytes)
                assert hashlib.sha256(data[:4] + data[36:]).digest() == data[4:36], "corrupted"
                order.append(int.from_bytes(data[:4], "big"))
            assert order == list(range(COUNT)), "Python got messages lost or reordered"
        finally:
            await recorder.close()
            await call.hangup()
            await asyncio.sleep(0)
