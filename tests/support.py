"""Real servers and real WebSocket clients for the tests (nothing here is mocked)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
import websockets
from aiohttp import web
from starlette.applications import Starlette

from rtcroom import SignalingHub
from rtcroom import aiohttp as rtc_aiohttp
from rtcroom.asgi import webrtc
from rtcroom.testing import free_port, run_uvicorn

SIGNAL_PATH = "/api/call/signal"
TRANSPORTS = ["uvicorn", "aiohttp"]
SERVE_LAYERS = ["aiohttp", "uvicorn"]
_serve_layer = ["auto"]


def serve_layer_option() -> list[str]:
    """``--server LAYER`` for the ``rtcroom serve`` layer the current test runs on (set by the
    ``serve_layer`` fixture of tests/conftest.py; ``auto`` outside it)."""
    return ["--server", _serve_layer[0]]


def set_serve_layer(layer: str) -> None:
    _serve_layer[0] = layer
"""``rtcroom serve --server ...``: every standalone-server test runs on each layer."""
WAIT = 5.0  # upper bound for any single expected frame


@dataclass
class RunningServer:
    url: str
    hub: SignalingHub
    port: int


@contextlib.asynccontextmanager
async def run_aiohttp(app: web.Application, port: int | None = None) -> AsyncIterator[int]:
    port = port or free_port()
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield port
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def signaling_server(transport: str, **options: Any) -> AsyncIterator[RunningServer]:
    """A signaling endpoint mounted the way the README tells users to mount it."""
    if transport == "uvicorn":
        endpoint = webrtc(**options)
        app = Starlette()
        app.router.add_websocket_route(SIGNAL_PATH, endpoint)
        async with run_uvicorn(app) as port:
            yield RunningServer(f"ws://127.0.0.1:{port}{SIGNAL_PATH}", endpoint.hub, port)
            await endpoint.hub.close()
    elif transport == "aiohttp":
        handler = rtc_aiohttp.webrtc(**options)
        aapp = web.Application()
        aapp.router.add_get(SIGNAL_PATH, handler)
        async with run_aiohttp(aapp) as port:
            yield RunningServer(f"ws://127.0.0.1:{port}{SIGNAL_PATH}", handler.hub, port)
            await handler.hub.close()
    else:
        raise ValueError(transport)


class SignalClient:
    """A raw protocol client: what a browser's WebSocket does, frame by frame."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.peer_id: str | None = None

    @classmethod
    async def connect(cls, url: str) -> SignalClient:
        return cls(await websockets.connect(url, max_size=None, open_timeout=WAIT))

    async def send(self, frame: Any) -> None:
        if isinstance(frame, bytes | str):
            await self.ws.send(frame)
        else:
            await self.ws.send(orjson.dumps(frame).decode())

    async def recv(self, timeout: float = WAIT) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        assert isinstance(raw, str), f"server sent a binary frame: {raw!r}"
        msg: dict[str, Any] = orjson.loads(raw)
        return msg

    async def expect_silence(self, seconds: float = 0.3) -> None:
        with contextlib.suppress(TimeoutError):
            msg = await asyncio.wait_for(self.ws.recv(), seconds)
            raise AssertionError(f"expected no frame, got {msg!r}")

    async def join(self, room_id: str) -> dict[str, Any]:
        await self.send({"t": "join", "roomId": room_id})
        msg = await self.recv()
        assert msg["t"] == "joined", msg
        self.peer_id = msg["peerId"]
        return msg

    async def close(self) -> None:
        await self.ws.close()


async def join_room(url: str, room_id: str, count: int) -> list[SignalClient]:
    """``count`` clients joined one after another; earlier ones have drained their
    ``peer-joined`` frames."""
    clients: list[SignalClient] = []
    for _ in range(count):
        client = await SignalClient.connect(url)
        await client.join(room_id)
        for other in clients:
            msg = await other.recv()
            assert msg == {"t": "peer-joined", "peerId": client.peer_id}
        clients.append(client)
    return clients
