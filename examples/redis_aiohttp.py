"""Rooms in Redis, in an aiohttp app: ``python examples/redis_aiohttp.py 8081`` and
``python examples/redis_aiohttp.py 8082`` share rooms (with ``REDIS_URL`` or a local Redis)."""

import os
import sys
from collections.abc import AsyncIterator

from aiohttp import web

from rtcroom import RedisBackend
from rtcroom.aiohttp import webrtc

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

signaling = webrtc(max_peers=4, backend=RedisBackend(REDIS_URL))


async def redis_lifetime(app: web.Application) -> AsyncIterator[None]:
    await signaling.hub.open()
    yield
    await signaling.hub.close()


app = web.Application()
app.router.add_get("/api/call/signal", signaling)
app.cleanup_ctx.append(redis_lifetime)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 8081)
