"""The standalone server and the README's examples, run as a user runs them."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from rtcroom.testing import ServeProcess

from .support import SignalClient, join_room, run_aiohttp, run_uvicorn

ROOT = Path(__file__).resolve().parents[1]


@contextlib.asynccontextmanager
async def rtcroom_serve(*args: str) -> AsyncIterator[tuple[int, str]]:
    """``rtcroom serve`` in a subprocess; yields its port and its first line of output."""
    async with ServeProcess(*args) as server:
        yield server.port, server.output().splitlines()[0]


async def test_rtcroom_serve_runs_the_protocol() -> None:
    async with rtcroom_serve("--max-peers", "3", "--path", "/rtc") as (port, first_line):
        assert f"http://127.0.0.1:{port}/" in first_line
        assert f"ws://127.0.0.1:{port}/rtc" in first_line
        url = f"ws://127.0.0.1:{port}/rtc"
        a, b, c = await join_room(url, "standalone", 3)
        d = await SignalClient.connect(url)
        await d.send({"t": "join", "roomId": "standalone"})
        assert await d.recv() == {"t": "error", "message": "Room is full (max 3 peers)"}
        await a.send({"t": "sdp", "to": c.peer_id, "description": {"type": "offer"}})
        assert (await c.recv())["from"] == a.peer_id
        async with httpx.AsyncClient() as http:
            page = await http.get(f"http://127.0.0.1:{port}/")
            health = (await http.get(f"http://127.0.0.1:{port}/healthz")).json()
            plain = await http.get(f"http://127.0.0.1:{port}/rtc")
        assert page.status_code == 200 and "rtcroom" in page.text
        assert health == {"status": "ok", "signal_path": "/rtc", "rooms": 1, "peers": 3}
        assert plain.status_code == 426
        for client in (a, b, c, d):
            await client.close()


def test_rtcroom_serve_rejects_bad_options() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for args, message in (
        (["--path", "nope"], "--path must start with '/'"),
        (["--max-peers", "0"], "--max-peers must be at least 1"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "rtcroom.cli", "serve", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
            check=False,
        )
        assert done.returncode == 2 and message in done.stderr


async def test_fastapi_example_from_the_readme() -> None:
    sys.path.insert(0, str(ROOT))
    try:
        from examples.fastapi_app import app
    finally:
        sys.path.remove(str(ROOT))
    async with run_uvicorn(app) as port:
        a, b = await join_room(f"ws://127.0.0.1:{port}/api/call/signal", "fastapi", 2)
        async with httpx.AsyncClient() as http:
            rooms = (await http.get(f"http://127.0.0.1:{port}/rooms")).json()
        assert rooms == {"fastapi": [a.peer_id, b.peer_id]}
        await a.close()
        await b.close()


async def test_aiohttp_example_from_the_readme() -> None:
    sys.path.insert(0, str(ROOT))
    try:
        from examples.aiohttp_app import app
    finally:
        sys.path.remove(str(ROOT))
    async with run_aiohttp(app) as port:
        a, b = await join_room(f"ws://127.0.0.1:{port}/api/call/signal", "aio", 2)
        await b.send({"t": "ice", "candidate": {"candidate": ""}})
        assert await a.recv() == {"t": "ice", "from": b.peer_id, "candidate": {"candidate": ""}}
        await a.close()
        await b.close()
