"""Rooms in Redis, in an ASGI app (Starlette here; FastAPI is the same): every process started
with the same Redis URL shares the rooms. ``uvicorn examples.redis_starlette:app --port 8001``
and again with ``--port 8002``: peers on either port meet in one room."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from rtcroom import RedisBackend, webrtc

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

signaling = webrtc(max_peers=4, backend=RedisBackend(REDIS_URL))


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    await signaling.hub.open()  # connect to Redis (and log any trouble) before the first peer
    yield
    await signaling.hub.close()  # this process's peers are announced as left at once


app = Starlette(routes=[WebSocketRoute("/api/call/signal", signaling)], lifespan=lifespan)
