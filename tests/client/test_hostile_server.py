"""A signaling server that sends garbage: no phantom peers, typed errors, and the call lives on.

The hostile server is a real WebSocket proxy in front of a real rtcroom server: it relays every
frame both ways and, right after the ``joined`` it forwards, injects frames that break the
protocol. A real second peer then joins and the call must connect as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import orjson
import websockets

from rtcroom.client import (
    CallError,
    ErrorEvent,
    InvalidSignalError,
    NegotiationError,
    PeerJoinedEvent,
    WebRTCCall,
)
from tests.support import signaling_server

from .helpers import WAIT, Recorder, make_call

# Parses (an m= line) but is no offer aiortc can apply: no ICE credentials.
NO_ICE_CREDENTIALS = "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
HUGE_OFFER = "v=0\r\n" + "a=x-padding:" + "x" * (5 * 1024 * 1024) + "\r\n"


def _frame(**fields: object) -> str:
    return orjson.dumps(fields).decode()


def _sdp(sender: object, kind: str, sdp: object) -> str:
    return _frame(t="sdp", **{"from": sender}, description={"type": kind, "sdp": sdp})


def bad_frames(own_id: str) -> list[tuple[str | bytes, type[CallError] | None, str]]:
    """(frame, error it must be reported as or None, text the error must contain)."""
    return [
        (_frame(t="sdp"), InvalidSignalError, "None as 'from'"),
        (
            _frame(t="sdp", **{"from": "peer-9-1"}, description="v=0"),
            InvalidSignalError,
            "peer peer-9-1: 'description' is 'v=0'",
        ),
        (_sdp({"id": 1}, "offer", NO_ICE_CREDENTIALS), InvalidSignalError, "a JSON object"),
        (_sdp(["peer-9-1"], "offer", NO_ICE_CREDENTIALS), InvalidSignalError, "a JSON array"),
        (_sdp("x" * 500, "offer", NO_ICE_CREDENTIALS), InvalidSignalError, "no peer id"),
        (_sdp("peer-9-2", "offer", "v=0\r\nm=audio x\r\n"), NegotiationError, "peer peer-9-2"),
        (_sdp("peer-9-3", "offer", NO_ICE_CREDENTIALS), NegotiationError, "peer peer-9-3"),
        (_sdp("peer-9-4", "offer", HUGE_OFFER), InvalidSignalError, "over the 262144-byte"),
        (_sdp("peer-9-5", "answer", NO_ICE_CREDENTIALS), InvalidSignalError, "no connection"),
        (_sdp("peer-9-6", "rollback", ""), InvalidSignalError, "not 'offer' or 'answer'"),
        (_sdp(own_id, "offer", NO_ICE_CREDENTIALS), InvalidSignalError, "our own peer id"),
        (
            _frame(t="ice", **{"from": "peer-9-7"}, candidate="candidate:1 1 udp 1 1.2.3.4 5 typ"),
            InvalidSignalError,
            "ICE candidate from peer peer-9-7",
        ),
        (_frame(t="ice", candidate={"candidate": ""}), InvalidSignalError, "None as 'from'"),
        (_frame(t="peer-joined", peerId={"a": 1}), InvalidSignalError, "'peer-joined'"),
        (_frame(t="peer-joined", peerId=own_id), InvalidSignalError, "our own peer id"),
        (_frame(t="peer-left"), InvalidSignalError, "'peer-left'"),
        (_frame(t="joined", peerId="peer-9-8", peers=[]), InvalidSignalError, "no join of ours"),
        (b'{"t": "peer-joined", "peerId": "peer-9-9"}', InvalidSignalError, "binary frame"),
        ("{not json", InvalidSignalError, "not JSON"),
        ("[1, 2]", InvalidSignalError, "a JSON array instead"),
        (_frame(t="future-extension", x=1), None, ""),  # unknown types are ignored quietly
    ]


# Sent before the real `joined`: peer frames before we are in a room (a session made now would
# not even have the call's ICE settings).
EARLY = [
    (_frame(t="peer-joined", peerId="peer-8-1"), InvalidSignalError, "before we joined"),
    (_sdp("peer-8-2", "offer", NO_ICE_CREDENTIALS), InvalidSignalError, "before we joined"),
]


@contextlib.asynccontextmanager
async def hostile_proxy(
    upstream: str, inject: Callable[[str], list[str | bytes]]
) -> AsyncIterator[str]:
    async def handler(ws: websockets.ServerConnection) -> None:
        async with websockets.connect(upstream, max_size=None) as up:

            async def downstream() -> None:
                async for raw in up:
                    msg = orjson.loads(raw)
                    if msg.get("t") == "joined":
                        for frame, _, _ in EARLY:
                            await ws.send(frame)
                    await ws.send(raw)
                    if msg.get("t") == "joined":
                        for frame in inject(msg["peerId"]):
                            await ws.send(frame)

            async def upstream_() -> None:
                async for raw in ws:
                    await up.send(raw)

            tasks = [asyncio.create_task(downstream()), asyncio.create_task(upstream_())]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/"


async def test_bad_frames_create_no_peer_and_are_reported_typed() -> None:
    expected: list[tuple[str | bytes, type[CallError] | None, str]] = []

    def inject(own_id: str) -> list[str | bytes]:
        later = bad_frames(own_id)
        expected.extend(EARLY + later)
        return [frame for frame, _, _ in later]

    async with signaling_server("uvicorn") as srv, hostile_proxy(srv.url, inject) as url:
        victim = make_call(url)
        rec = Recorder(victim)
        honest: WebRTCCall | None = None
        try:
            await victim.connect()
            reported = [e for e in expected if e[1] is not None]
            await rec.until(lambda: len(rec.of(ErrorEvent)) >= len(reported))
            errors = [e.error for e in rec.of(ErrorEvent)]
            assert len(errors) == len(reported), errors
            for _, kind, text in reported:
                assert any(type(err) is kind and text in str(err) for err in errors), (
                    f"no {kind.__name__ if kind else None} containing {text!r} in {errors}"
                )
            assert not any(isinstance(err, AssertionError) for err in errors)
            assert {e.peer_id for e in errors if isinstance(e, NegotiationError)} == {
                "peer-9-2",
                "peer-9-3",
            }
            assert victim.remote_peer_ids == []  # no phantom peers, none left over
            assert rec.of(PeerJoinedEvent) == []
            assert victim.state == "signaling"

            # The same server now relays a real peer: the call connects as usual.
            honest = make_call(srv.url)
            await honest.connect()
            await asyncio.gather(
                victim.wait_connected(timeout=WAIT), honest.wait_connected(timeout=WAIT)
            )
            assert victim.remote_peer_ids == [honest.peer_id]
            assert honest.send_string("chat", "still here")
            await rec.until(lambda: [m.data for m in rec.messages("chat")] == ["still here"])
        finally:
            await victim.hangup()
            if honest is not None:
                await honest.hangup()
            await rec.close()
        assert victim.state == "idle"
