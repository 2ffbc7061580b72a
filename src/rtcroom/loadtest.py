"""A signaling load generator (``rtcroom bench``, and bench/signaling_bench.py).

Rooms of two raw protocol clients (the WebSocket frames a browser sends, no WebRTC): the
senders relay realistic ICE-candidate frames to their partners as fast as the server takes them.
Works against any server speaking the protocol (rtcroom, Agentuity's ``webrtc()``); a join
token goes in the URL (``?token=...``). Needs aiohttp's client (``rtcroom[aiohttp]``): it is
cheap enough per message that the server, not the load process, is what gets measured.
"""

from __future__ import annotations

from ._extras import require

require("aiohttp", __name__, "aiohttp")

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import aiohttp
import orjson

CANDIDATE = {
    "candidate": "candidate:842163049 1 udp 1677729535 203.0.113.7 56143 typ srflx raddr "
    "192.168.1.20 rport 56143 generation 0 ufrag EEtu network-cost 999",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "EEtu",
}
"""A trickled candidate as Chromium sends it (~230 bytes on the wire)."""

DELIVERY_GRACE = 10.0
"""Seconds after the last send that deliveries may still take before they count as lost."""

ROUND_TRIPS = 200
"""At most this many one-at-a-time round trips after the load (the latency a negotiation sees)."""

Pair = tuple[aiohttp.ClientWebSocketResponse, aiohttp.ClientWebSocketResponse, str, str]
"""(sender socket, receiver socket, sender id, receiver id)"""


class LoadTestError(Exception):
    """The server refused or dropped the load (the message says what it answered)."""


def _closed(ws: aiohttp.ClientWebSocketResponse, msg: aiohttp.WSMessage) -> LoadTestError:
    reason = msg.extra if isinstance(msg.extra, str) and msg.extra else ""
    hint = ""
    if ws.close_code == 1008:
        hint = " (the server's per-socket frame rate limit: serve with --frame-rate 0 to load test)"
    elif ws.close_code and 4401 <= ws.close_code <= 4406:
        hint = " (a join token problem: add ?token=... to --url, granting room 'bench-*')"
    return LoadTestError(f"the server closed a socket: {ws.close_code} {reason}{hint}".rstrip())


async def receive_frame(ws: aiohttp.ClientWebSocketResponse, timeout: float | None = None) -> str:
    """The next text frame; :class:`LoadTestError` if the server closed the socket."""
    msg = await ws.receive(timeout)
    if msg.type is aiohttp.WSMsgType.TEXT:
        text: str = msg.data
        return text
    raise _closed(ws, msg)


async def join(ws: aiohttp.ClientWebSocketResponse, room: str) -> str:
    await ws.send_str(orjson.dumps({"t": "join", "roomId": room}).decode())
    msg = orjson.loads(await receive_frame(ws, DELIVERY_GRACE))
    if msg.get("t") != "joined":
        raise LoadTestError(f"join of room {room!r} refused: {msg.get('message', msg)}")
    peer_id: str = msg["peerId"]
    return peer_id


async def join_pairs(
    http: aiohttp.ClientSession, tx_url: str, rx_url: str, rooms: int, prefix: str = ""
) -> tuple[list[Pair], float]:
    """Receivers join ``rooms`` rooms at once, then senders; returns the pairs and joins/s."""
    tag = prefix + uuid.uuid4().hex[:8]
    rx = [await http.ws_connect(rx_url, max_msg_size=0) for _ in range(rooms)]
    tx = [await http.ws_connect(tx_url, max_msg_size=0) for _ in range(rooms)]
    start = time.perf_counter()
    rx_ids = await asyncio.gather(*(join(ws, f"{tag}-{i}") for i, ws in enumerate(rx)))
    tx_ids = await asyncio.gather(*(join(ws, f"{tag}-{i}") for i, ws in enumerate(tx)))
    joins_per_s = 2 * rooms / (time.perf_counter() - start)
    await asyncio.gather(*(receive_frame(ws, DELIVERY_GRACE) for ws in rx))  # peer-joined
    return list(zip(tx, rx, tx_ids, rx_ids, strict=True)), joins_per_s


@dataclass
class Blast:
    """What one blast did: per pair, frames sent and the latency of each one received."""

    seconds: float = 0.0
    sent: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    @property
    def received(self) -> int:
        return len(self.latencies)


async def blast(
    pairs: list[Pair],
    per_pair: int,
    *,
    duration: float | None = None,
    record: Blast | None = None,
) -> float:
    """Every sender relays ``per_pair`` candidates to its partner at full speed (or until
    ``duration`` seconds pass); returns the seconds until the last one arrived. With ``record``,
    each frame's send-to-arrival latency is kept (frames of a pair arrive in order)."""
    start = time.perf_counter()
    stop_sending = start + duration if duration is not None else None
    sent_at: list[list[float]] = [[] for _ in pairs]
    sent = [per_pair] * len(pairs)
    clock = time.perf_counter

    async def send(i: int, ws: aiohttp.ClientWebSocketResponse, to: str) -> None:
        frame = orjson.dumps({"t": "ice", "to": to, "candidate": CANDIDATE}).decode()
        stamps = sent_at[i]
        for n in range(per_pair):
            if record is not None:
                stamps.append(clock())
            await ws.send_str(frame)
            if n % 64 == 63:
                await asyncio.sleep(0)
                if stop_sending is not None and clock() > stop_sending:
                    sent[i] = n + 1
                    return

    async def receive(i: int, ws: aiohttp.ClientWebSocketResponse) -> None:
        stamps = sent_at[i]
        got = 0
        while got < sent[i]:
            if stop_sending is None:
                await receive_frame(ws)
            else:
                try:
                    await receive_frame(ws, 0.5)
                except TimeoutError:
                    if clock() > stop_sending + DELIVERY_GRACE:
                        return
                    continue
            if record is not None:
                record.latencies.append(clock() - stamps[got])
            got += 1

    await asyncio.gather(
        *(send(i, tx, to) for i, (tx, _, _, to) in enumerate(pairs)),
        *(receive(i, rx) for i, (_, rx, _, _) in enumerate(pairs)),
    )
    seconds = time.perf_counter() - start
    if record is not None:
        record.seconds = seconds
        record.sent = sent
    return seconds


async def round_trips(pair: Pair, count: int) -> list[float]:
    """Relays one at a time, there and back: the latency a negotiation sees (sorted)."""
    a, b, a_id, b_id = pair
    to_b = orjson.dumps({"t": "ice", "to": b_id, "candidate": CANDIDATE}).decode()
    to_a = orjson.dumps({"t": "ice", "to": a_id, "candidate": CANDIDATE}).decode()
    out = []
    for _ in range(count):
        start = time.perf_counter()
        await a.send_str(to_b)
        await receive_frame(b)
        await b.send_str(to_a)
        await receive_frame(a)
        out.append(time.perf_counter() - start)
    return sorted(out)


def percentile(ordered: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of the sorted sample lies (nearest rank)."""
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


@dataclass
class LoadResult:
    """What ``rtcroom bench`` prints."""

    url: str
    rooms: int
    joins_per_s: float
    blast: Blast
    round_trips: list[float] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(self.blast.sent)

    @property
    def complete(self) -> bool:
        return self.blast.received == self.sent

    def report(self) -> str:
        b = self.blast
        lines = [
            f"rtcroom bench: {self.rooms} rooms x 2 peers against {_shown(self.url)}",
            f"  joins:    {2 * self.rooms} in {self.rooms} rooms, {self.joins_per_s:,.0f} joins/s",
            f"  relayed:  {b.received:,} of {self.sent:,} messages in {b.seconds:.2f} s: "
            f"{b.received / b.seconds:,.0f} msg/s",
        ]
        if b.latencies:
            ordered = sorted(b.latencies)
            marks = "  ".join(
                f"p{round(q * 100)} {percentile(ordered, q) * 1e3:.2f}" for q in (0.5, 0.9, 0.99)
            )
            lines.append(f"  latency under load (ms): {marks}  max {ordered[-1] * 1e3:.2f}")
        if self.round_trips:
            rt = self.round_trips
            marks = "  ".join(
                f"p{round(q * 100)} {percentile(rt, q) * 1e3:.2f}" for q in (0.5, 0.99)
            )
            lines.append(f"  round trip, one at a time (ms): {marks}  ({len(rt)} round trips)")
        if not self.complete:
            lines.append(f"  LOST: {self.sent - b.received} messages never arrived")
        return "\n".join(lines)


def _shown(url: str) -> str:
    """The URL without its token."""
    return url.split("?", 1)[0] + ("?token=…" if "token=" in url else "")


async def run(url: str, *, rooms: int, messages: int, duration: float) -> LoadResult:
    """Join ``rooms`` rooms of two at ``url``, relay ``messages`` per room (for at most
    ``duration`` seconds of sending), then time round trips one at a time; measure both."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        pairs: list[Pair] = []
        try:
            async with asyncio.timeout(max(DELIVERY_GRACE * 2, rooms * 0.05)):
                pairs, joins_per_s = await join_pairs(http, url, url, rooms, prefix="bench-")
            record = Blast()
            await blast(pairs, messages, duration=duration, record=record)
            trips: list[float] = []
            if record.received == sum(record.sent):  # else stray frames would pair up wrongly
                async with asyncio.timeout(DELIVERY_GRACE):
                    trips = await round_trips(pairs[0], min(ROUND_TRIPS, messages))
        except aiohttp.WSServerHandshakeError as exc:
            raise LoadTestError(
                f"the server refused the WebSocket: HTTP {exc.status} {exc.message}"
            ) from None
        except TimeoutError:
            raise LoadTestError(
                f"{_shown(url)} did not let {2 * rooms} peers join in time (is it overloaded?)"
            ) from None
        except aiohttp.ClientError as exc:
            raise LoadTestError(f"cannot connect to {_shown(url)}: {exc}") from None
        finally:
            for tx, rx, _, _ in pairs:
                await tx.close()
                await rx.close()
    return LoadResult(url, rooms, joins_per_s, record, trips)
