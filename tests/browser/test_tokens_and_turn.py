"""Real Chromium against a token-protected server that hands out TURN credentials for a real
coturn: the browser client joins with its token in ``signalUrl`` (as Agentuity's client passes
it through) or its ``token`` option; pages and Python peers forced to relay connect through
coturn with the server's credentials (no app-given ICE servers) and keep getting fresh ones;
refused tokens end the call with an ``AuthError`` and no reconnect.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Page

from rtcroom import IceServers, JoinTokens, tokens
from rtcroom.client import WebRTCCall
from tests.coturn import Coturn, coturn
from tests.secure_support import SECRET
from tests.support import run_uvicorn

from .harness import (
    frames_rising,
    harness_app,
    js,
    open_harness,
    peer_id,
    start_call,
    wait_for,
    wait_state,
)

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


# --- rtcroom.js with the server's ICE servers, relay only, refused tokens ----------------------


async def server_ice_call(page: Page, **options: Any) -> None:
    """``new WebRTCCall(options)`` with no ``iceServers``: the server's (from ``joined``)."""
    assert "iceServers" not in options
    await page.evaluate("(o) => window.makeCall(o)", options)


async def relay_summary(page: Page, remote: str) -> dict[str, Any]:
    summary: dict[str, Any] = await wait_for(
        page,
        "async (p) => { const q = await window.call.getQualitySummary(p);"
        " return q && q.candidatePair ? q : null; }",
        remote,
    )
    return summary


async def test_relay_only_pages_use_the_servers_turn_credentials_for_data_and_video(
    browser: BrowserContext, secure_base: str
) -> None:
    room = f"relay-{uuid.uuid4().hex[:8]}"
    a = await open_harness(browser, secure_base)
    b = await open_harness(browser, secure_base)
    try:
        for page, who in ((a, "alice"), (b, "bob")):
            await server_ice_call(
                page,
                roomId=room,
                signalUrl=SIGNAL,
                token=token(who, room),
                iceTransportPolicy="relay",
                media={"video": True, "audio": False},
                dataChannels=[{"label": "chat"}],
            )
            await peer_id(page)
        await wait_state(a, "connected")
        await wait_state(b, "connected")
        ida, idb = await peer_id(a), await peer_id(b)
        await wait_for(a, "(p) => window.call.getDataChannelState(p, 'chat') === 'open'", idb)
        await a.evaluate("window.call.sendString('chat', 'relayed')")
        await wait_for(b, "() => window.messages.some((m) => m.data === 'relayed')")
        first, second = await frames_rising(b, ida)
        assert second > first > 0
        for page, remote in ((a, idb), (b, ida)):
            summary = await relay_summary(page, remote)
            assert summary["candidatePair"]["usingRelay"] is True
            assert summary["candidatePair"]["localType"] == "relay"
        # The credentials in use are the server's, issued to the token's identity.
        username = await a.evaluate(
            "(p) => window.call._sessions.get(p).pc.getConfiguration().iceServers"
            ".find((s) => s.username).username",
            idb,
        )
        assert username.endswith(":alice")
    finally:
        await a.close()
        await b.close()


async def test_a_relay_only_python_peer_and_page_connect_through_coturn(
    browser: BrowserContext, secure_base: str
) -> None:
    room = f"mixed-{uuid.uuid4().hex[:8]}"
    page = await open_harness(browser, secure_base)
    signal = secure_base.replace("http://", "ws://") + SIGNAL
    try:
        await server_ice_call(
            page,
            roomId=room,
            signalUrl=SIGNAL,
            token=token("page", room),
            iceTransportPolicy="relay",
            media=False,
            dataChannels=[{"label": "chat"}],
        )
        await peer_id(page)
        async with WebRTCCall(
            room,
            signal,
            token=token("python", room),
            ice_transport_policy="relay",
            data_channels=["chat"],
        ) as py:
            await py.wait_connected(timeout=20)
            remote = await peer_id(page)
            await wait_for(
                page, "(p) => window.call.getDataChannelState(p, 'chat') === 'open'", py.peer_id
            )
            py.send_string("chat", "from python, relayed")
            await wait_for(
                page, "() => window.messages.some((m) => m.data === 'from python, relayed')"
            )
            summary = await py.get_quality_summary(remote)
            assert summary is not None and summary.to_dict()["candidatePair"]["usingRelay"] is True
            page_summary = await relay_summary(page, py.peer_id or "")
            assert page_summary["candidatePair"]["usingRelay"] is True
    finally:
        await page.close()


def _expired(identity: str) -> str:
    return tokens.create(SECRET, room="*", identity=identity, ttl=60, now=time.time() - 3600)


@pytest.mark.parametrize(
    ("case", "code"), [("missing", 4401), ("malformed", 4402), ("expired", 4404)]
)
async def test_a_refused_token_ends_the_browser_call_with_auth_error_and_no_reconnect(
    browser: BrowserContext, secure_base: str, case: str, code: int
) -> None:
    bad = {"missing": None, "malformed": "not-a-jwt", "expired": _expired("old")}[case]
    page = await open_harness(browser, secure_base)
    try:
        options: dict[str, Any] = {"roomId": "r", "signalUrl": SIGNAL, "media": False}
        if bad is not None:
            options["signalUrl"] = f"{SIGNAL}?token={bad}"
        await server_ice_call(page, **options)
        error = await wait_for(
            page,
            "() => window.call.state === 'idle' && window.call.error"
            " ? {name: window.call.error.name, code: window.call.error.code,"
            " message: window.call.error.message} : null",
        )
        assert (error["name"], error["code"]) == ("AuthError", code)
        if case == "expired":
            assert "token expired: get a new one" in error["message"]
        await asyncio.sleep(1.5)  # rtcroom.js's first reconnect comes after 0.5-1 s
        names = await page.evaluate("window.eventNames()")
        assert "onReconnecting" not in names
        assert names.count("onError") == 1
        assert await page.evaluate("window.call.state") == "idle"
        if bad is not None:
            assert bad not in error["message"]
    finally:
        await page.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def short_ttl_base(coturn: Coturn) -> AsyncIterator[str]:
    ice = IceServers([], [coturn.url], turn_secret=coturn.secret, turn_ttl=4)
    app = harness_app(max_peers=2, auth=JoinTokens(SECRET), ice_servers=ice)
    async with run_uvicorn(app) as port:
        yield f"http://127.0.0.1:{port}"


async def test_a_long_call_gets_fresh_turn_credentials_before_they_expire(
    browser: BrowserContext, short_ttl_base: str
) -> None:
    room = f"ttl-{uuid.uuid4().hex[:8]}"
    a = await open_harness(browser, short_ttl_base)
    b = await open_harness(browser, short_ttl_base)
    try:
        for page, who in ((a, "alice"), (b, "bob")):
            await server_ice_call(
                page,
                roomId=room,
                signalUrl=SIGNAL,
                token=token(who, room),
                iceTransportPolicy="relay",
                media=False,
                dataChannels=[{"label": "chat"}],
            )
        await wait_state(a, "connected")
        idb = await peer_id(b)
        read = (
            "(p) => window.call._sessions.get(p).pc.getConfiguration().iceServers"
            ".find((s) => s.username).username"
        )
        first = await a.evaluate(read, idb)
        expiry = int(first.split(":")[0])
        # Within the 4 s lifetime (refreshed at 80 %), the peer connection gets a new username
        # that expires later, for the same identity.
        fresh = await wait_for(
            a,
            f"(p) => {{ const u = ({read})(p); return u !== {js(first)} && u; }}",
            idb,
            timeout_ms=8000,
        )
        assert fresh.endswith(":alice") and int(fresh.split(":")[0]) > expiry
        assert time.time() < expiry + 1  # it came before the old one expired (1 s clock slack)
        # ... and again for the next credentials: a long call keeps being refreshed.
        again = await wait_for(
            a,
            f"(p) => {{ const u = ({read})(p); return u !== {js(fresh)} && u; }}",
            idb,
            timeout_ms=8000,
        )
        assert int(again.split(":")[0]) > int(fresh.split(":")[0])
        await a.evaluate("window.call.sendString('chat', 'still here')")
        await wait_for(b, "() => window.messages.some((m) => m.data === 'still here')")
    finally:
        await a.close()
        await b.close()
