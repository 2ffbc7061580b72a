"""Servers with auth, limits and ICE servers mounted as the docs tell users, and raw clients
that see what a browser's WebSocket would: close codes and reasons, refused handshakes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import websockets
from aiohttp import web
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from websockets.exceptions import ConnectionClosed, InvalidStatus

from rtcroom import SignalingHub
from rtcroom import aiohttp as rtc_aiohttp
from rtcroom.asgi import webrtc

from .support import SIGNAL_PATH, WAIT, SignalClient, run_aiohttp, run_uvicorn

SECRET = "test-secret-" + "k" * 40  # 52 bytes: HS256 wants at least 32
ICE_PATH = SIGNAL_PATH + "/ice-servers"


@dataclass
class SecureServer:
    url: str
    http: str  # http://127.0.0.1:port
    hub: SignalingHub
    port: int

    @property
    def ice_url(self) -> str:
        return self.http + ICE_PATH


@contextlib.asynccontextmanager
async def secure_server(transport: str, **options: Any) -> AsyncIterator[SecureServer]:
    """The signaling endpoint and its ``/ice-servers`` endpoint on each transport."""
    if transport == "uvicorn":
        endpoint = webrtc(**options)
        app = Starlette(
            routes=[
                WebSocketRoute(SIGNAL_PATH, endpoint),
                Route(ICE_PATH, endpoint.ice_servers, methods=["GET", "HEAD"]),
            ]
        )
        async with run_uvicorn(app) as port:
            yield SecureServer(
                f"ws://127.0.0.1:{port}{SIGNAL_PATH}",
                f"http://127.0.0.1:{port}",
                endpoint.hub,
                port,
            )
            await endpoint.hub.close()
    elif transport == "aiohttp":
        handler = rtc_aiohttp.webrtc(**options)
        aapp = web.Application()
        aapp.router.add_get(SIGNAL_PATH, handler)
        aapp.router.add_get(ICE_PATH, handler.ice_servers)
        async with run_aiohttp(aapp) as port:
            yield SecureServer(
                f"ws://127.0.0.1:{port}{SIGNAL_PATH}", f"http://127.0.0.1:{port}", handler.hub, port
            )
            await handler.hub.close()
    else:
        raise ValueError(transport)


async def connect(url: str, *, source: str = "127.0.0.1", **kwargs: Any) -> SignalClient:
    """A client socket from a chosen loopback address (127.0.0.0/8 is all loopback)."""
    ws = await websockets.connect(
        url, max_size=None, open_timeout=WAIT, local_addr=(source, 0), **kwargs
    )
    return SignalClient(ws)


async def closed_with(client: SignalClient, timeout: float = WAIT) -> tuple[int | None, str]:
    """Read until the server closes the socket; its close code and reason."""
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(timeout):
            while True:
                await client.ws.recv()
    return client.ws.close_code, client.ws.close_reason or ""


async def refused_close(url: str, **kwargs: Any) -> tuple[int | None, str]:
    """Connect, expect the server to close the socket at once; its code and reason."""
    client = await connect(url, **kwargs)
    return await closed_with(client)


async def refused_status(url: str, **kwargs: Any) -> tuple[int, bytes]:
    """Connect, expect the handshake to be refused; the HTTP status and body."""
    try:
        client = await connect(url, **kwargs)
    except InvalidStatus as exc:
        return exc.response.status_code, exc.response.body or b""
    await client.close()
    raise AssertionError("the handshake was accepted")
