"""Smoke test of a bare ``pip install rtcroom`` (no extras): run it with that venv's python.

Checks that the optional dependencies are really absent, that ``rtcroom serve`` serves the demo
page and two peers can join a room, and that the Python peer asks for its extra. Everything stays
on 127.0.0.1 (CI runs it inside a loopback-only network namespace).
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import json
import os
import shutil
import sys
import urllib.request

import websockets

from rtcroom import MissingExtraError, __version__
from rtcroom.testing import ServeProcess

OPTIONAL = ("aiortc", "aioice", "numpy", "av", "redis", "aiohttp", "prometheus_client", "rich")


async def join(url: str, room: str) -> tuple[websockets.ClientConnection, dict[str, str]]:
    ws = await websockets.connect(url, open_timeout=10)
    await ws.send(json.dumps({"t": "join", "roomId": room}))
    reply: dict[str, str] = json.loads(await asyncio.wait_for(ws.recv(), 10))
    return ws, reply


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


async def serve_and_join() -> None:
    script = shutil.which("rtcroom", path=os.path.dirname(sys.executable))
    assert script, f"no rtcroom script next to {sys.executable}"
    async with ServeProcess(launcher=[script], env=dict(os.environ)) as server:
        page = await asyncio.to_thread(fetch, server.http_url + "/")
        assert b"rtcroom" in page, "no demo page at /"
        a, joined_a = await join(server.url, "smoke")
        b, joined_b = await join(server.url, "smoke")
        assert joined_a["t"] == joined_b["t"] == "joined", (joined_a, joined_b)
        announced = json.loads(await asyncio.wait_for(a.recv(), 10))
        assert announced == {"t": "peer-joined", "peerId": joined_b["peerId"]}, announced
        await a.close()
        await b.close()
        assert "Traceback" not in server.output(), server.output()


def main() -> None:
    present = [m for m in OPTIONAL if importlib.util.find_spec(m) is not None]
    assert not present, f"a bare install pulled in {present}"
    asyncio.run(serve_and_join())
    try:
        importlib.import_module("rtcroom.client")
    except MissingExtraError as exc:
        assert "pip install 'rtcroom[client]'" in str(exc), exc
    else:
        raise AssertionError("rtcroom.client imported without aiortc")
    print(f"base install ok: rtcroom {__version__} serves rooms without {', '.join(OPTIONAL)}")


if __name__ == "__main__":
    main()
