"""A browser that renegotiates before the connection is up (as Agentuity's client may do: it
renegotiates whenever a track is added) still gets its media to a Python peer.

aiortc starts the receivers of a renegotiation's new m-lines only if DTLS is connected when that
exchange completes; rtcroom's client starts them once connected (``aiortc_fixes.start_media``).
The page here speaks the signaling protocol with a bare ``RTCPeerConnection`` and holds back
ICE candidates (both ways) until its second offer/answer is done, so the race is certain.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from rtcroom.client import TrackAddedEvent
from tests.client.helpers import Recorder, make_call

from .conftest import OpenPage

pytestmark = pytest.mark.asyncio(loop_scope="module")

WAIT = 20.0

# Join, offer a data channel, then add the fake camera and offer again, all before any ICE
# candidate is exchanged; only then trickle candidates both ways. Returns the connection state
# seen when the second exchange had completed, and the browser's peer id.
EARLY_RENEGOTIATION = """async (roomId) => {
  const ws = new WebSocket(location.origin.replace('http', 'ws') + '/api/call/signal');
  const inbox = [];
  let wake = () => {};
  ws.onmessage = (e) => { inbox.push(JSON.parse(e.data)); wake(); };
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  const next = async (kind) => {
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline) {
      const i = inbox.findIndex((m) => m.t === kind);
      if (i >= 0) return inbox.splice(i, 1)[0];
      await new Promise((r) => { wake = r; setTimeout(r, 100); });
    }
    throw new Error('no ' + kind + ' frame within 20 s');
  };
  ws.send(JSON.stringify({ t: 'join', roomId }));
  const joined = await next('joined');
  const python = joined.peers[0];
  const pc = new RTCPeerConnection({ iceServers: [] });
  const ours = [];
  pc.onicecandidate = (e) => {
    if (e.candidate && e.candidate.candidate) ours.push(e.candidate.toJSON());
  };
  const theirs = new Set();
  const withoutCandidates = (sdp) => sdp.split('\\r\\n').filter((line) => {
    if (line.startsWith('a=candidate:')) { theirs.add(line.slice(2)); return false; }
    return !line.startsWith('a=end-of-candidates');
  }).join('\\r\\n');
  const exchange = async () => {
    await pc.setLocalDescription(await pc.createOffer());
    const offer = withoutCandidates(pc.localDescription.sdp);
    theirs.clear();  // lines of our own offer are not the peer's
    ws.send(JSON.stringify({ t: 'sdp', to: python, description: { type: 'offer', sdp: offer } }));
    const answer = (await next('sdp')).description;
    await pc.setRemoteDescription({ type: 'answer', sdp: withoutCandidates(answer.sdp) });
  };
  pc.createDataChannel('chat');
  await exchange();
  const stream = await navigator.mediaDevices.getUserMedia({ video: true });
  pc.addTrack(stream.getVideoTracks()[0], stream);
  await exchange();
  const stateAfterRenegotiation = pc.connectionState;
  for (const candidate of theirs) {
    await pc.addIceCandidate({ candidate, sdpMid: '0', sdpMLineIndex: 0 });
  }
  for (const candidate of ours) {
    ws.send(JSON.stringify({ t: 'ice', to: python, candidate }));
  }
  return [stateAfterRenegotiation, joined.peerId];
}"""


async def test_video_added_before_the_connection_is_up_reaches_python(
    open_page: OpenPage,
) -> None:
    room_id = f"room-{uuid.uuid4().hex[:8]}"
    page = await open_page()
    url = page.url.split("/__harness")[0].replace("http://", "ws://") + "/api/call/signal"
    py = make_call(url, room_id)
    rec = Recorder(py)
    try:
        await py.connect()
        state, browser_id = await page.evaluate(EARLY_RENEGOTIATION, room_id)
        assert state in ("new", "connecting"), f"the connection was up too early ({state})"
        await py.wait_connected(timeout=WAIT)
        await rec.until(lambda: any(e.track.kind == "video" for e in rec.of(TrackAddedEvent)), WAIT)
        video = next(e for e in rec.of(TrackAddedEvent) if e.track.kind == "video")
        assert video.peer_id == browser_id
        frames = [await asyncio.wait_for(video.track.recv(), WAIT) for _ in range(3)]
        assert {(f.width, f.height) for f in frames} == {(640, 480)}  # Chromium's fake camera
    finally:
        await rec.close()
        await py.hangup()
