"""Real Chromium against a token-protected server that hands out TURN credentials for a real
coturn: the browser client joins with its token in ``signalUrl`` (as Agentuity's client passes
it through), and a page forced to relay connects through coturn with server-issued credentials.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext

from rtcroom import IceServers, JoinTokens, tokens
from tests.coturn import Coturn, coturn
from tests.secure_support import SECRET
from tests.support import run_uvicorn

from .harness import harness_app, open_harness, peer_id, start_call, wait_for, wait_state

pytestmark = pytest.mark.asyncio(loop_scope="module")

__all__ = ["coturn"]  # the fixture

SIGNAL = "/api/call/signal"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def secure_base(coturn: Coturn) -> AsyncIterator[str]:
    ice = IceServers([f"stun:127.0.0.1:{coturn.port}"], [coturn.url], turn_secret=coturn.secret)
    app = harness_app(max_peers=2, auth=JoinTokens(SECRET), ice_servers=ice)
    async with run_uvicorn(app) as port:
        yield f"http://127.0.0.1:{port}"


def token(identity: str, room: str = "*") -> str:
    return tokens.create(SECRET, room=room, identity=identity)


async def test_browser_client_joins_with_a_token_in_its_signal_url(
    browser: BrowserContext, secure_base: str
) -> None:
    room = f"room-{uuid.uuid4().hex[:8]}"
    a = await open_harness(browser, secure_base)
    b = await open_harness(browser, secure_base)
    try:
        for page, who in ((a, "alice"), (b, "bob")):
            await start_call(
                page,
                roomId=room,
                signalUrl=f"{SIGNAL}?token={token(who, room)}",
                iceServers=[],
                media=False,
                dataChannels=[{"label": "chat"}],
            )
            await peer_id(page)
        await wait_state(a, "connected")
        await wait_state(b, "connected")
        idb = await peer_id(b)
        await wait_for(a, "(p) => window.call.getDataChannelState(p, 'chat') === 'open'", idb)
        await a.evaluate("window.call.sendString('chat', 'hello with a token')")
        await wait_for(b, "() => window.messages.some((m) => m.data === 'hello with a token')")
    finally:
        await a.close()
        await b.close()


RELAY_ONLY_CALL = """
async (token) => {
  const response = await fetch('/api/call/signal/ice-servers?token=' + encodeURIComponent(token));
  const { iceServers } = await response.json();
  const config = { iceServers, iceTransportPolicy: 'relay' };
  const a = new RTCPeerConnection(config);
  const b = new RTCPeerConnection(config);
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const channel = a.createDataChannel('relay');
  const opened = new Promise((resolve) => { channel.onopen = resolve; });
  const received = new Promise((resolve) => {
    b.ondatachannel = (e) => { e.channel.onmessage = (m) => resolve(m.data); };
  });
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 15000));
  await Promise.race([opened, timeout]);
  channel.send('through coturn');
  const data = await Promise.race([received, timeout]);
  let localType = null;
  const stats = await a.getStats();
  for (const report of stats.values()) {
    if (report.type === 'transport' && report.selectedCandidatePairId) {
      const pair = stats.get(report.selectedCandidatePairId);
      localType = stats.get(pair.localCandidateId).candidateType;
    }
  }
  const username = iceServers.find((s) => s.username).username;
  a.close(); b.close();
  return { data, localType, username };
}
"""


async def test_a_relay_only_page_connects_through_coturn_with_server_issued_credentials(
    browser: BrowserContext, secure_base: str
) -> None:
    page = await open_harness(browser, secure_base)
    try:
        result = await page.evaluate(RELAY_ONLY_CALL, token("erin"))
    finally:
        await page.close()
    assert result["data"] == "through coturn"
    assert result["localType"] == "relay"
    assert result["username"].endswith(":erin")
