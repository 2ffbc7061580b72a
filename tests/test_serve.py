"""The standalone server, `rtcroom serve`, run as a user runs it."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets

from rtcroom.testing import ServeProcess, this_rtcroom_env

from .support import SignalClient, join_room, serve_layer_option

ROOT = Path(__file__).resolve().parents[1]


SERVE_ENV = this_rtcroom_env()
pytestmark = pytest.mark.usefixtures("serve_layer")


def run_rtcroom(*args: str) -> subprocess.CompletedProcess[str]:
    """``rtcroom ...`` to completion (for commands and options that exit at once)."""
    return subprocess.run(
        [sys.executable, "-m", "rtcroom.cli", *args, *_server_option(args)],
        capture_output=True,
        text=True,
        env=SERVE_ENV,
        timeout=30,
        check=False,
    )


@contextlib.asynccontextmanager
async def rtcroom_serve(*args: str) -> AsyncIterator[ServeProcess]:
    """``rtcroom serve`` in a subprocess at the default log level, once it is ready."""
    async with ServeProcess(*args, *serve_layer_option(), log_level="info") as served:
        yield served


def _server_option(args: tuple[str, ...]) -> list[str]:
    return serve_layer_option() if args[:1] == ("serve",) else []


def announcement(served: ServeProcess) -> str:
    return served.output().splitlines()[0]


async def test_rtcroom_serve_runs_the_protocol() -> None:
    async with rtcroom_serve("--max-peers", "3", "--path", "/rtc") as served:
        port = served.port
        assert port != 0
        assert f"ws://127.0.0.1:{port}/rtc" in announcement(served)
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
        assert plain.status_code == 426 and "connect with a WebSocket" in plain.text
        for client in (a, b, c, d):
            await client.close()


def test_rtcroom_serve_rejects_bad_options() -> None:
    for args, message in (
        (["--path", "nope"], "--path must start with '/'"),
        (["--path", "/rtc?x=1"], "--path is a plain URL path (no '?', '#', braces or spaces)"),
        (["--path", "/healthz"], "--path /healthz is taken by the demo server itself"),
        (["--max-peers", "0"], "--max-peers must be at least 1"),
        (["--port", "99999"], "--port must be between 0 and 65535 (0 picks a free port)"),
        (["--port", "-1"], "--port must be between 0 and 65535"),
        (["--redis-node-ttl", "nan"], "--redis-node-ttl must be positive, got nan"),
        (["--redis-node-ttl", "inf"], "--redis-node-ttl must be a finite number of seconds"),
    ):
        done = run_rtcroom("serve", *args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith(f"rtcroom: {message}"), done.stderr
        assert done.stderr.count("\n") == 1 and not done.stdout


def test_a_port_in_use_is_reported_in_one_line_before_any_announcement() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = run_rtcroom("serve", "--port", str(port))
    assert done.returncode == 1
    assert done.stdout == ""  # no "serving on" for a port it never had
    assert done.stderr == (
        f"rtcroom: port {port} on 127.0.0.1 is already in use by another process; pick another "
        "with --port (--port 0 picks a free one), or stop that process\n"
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_rtcroom_serve_stops_quietly_with_status_0(sig: int) -> None:
    async with rtcroom_serve() as served:
        a, b = await join_room(f"ws://127.0.0.1:{served.port}/api/call/signal", "bye", 2)
        status = await served.send_signal(sig)
        output = served.output()
        for client in (a, b):  # the server closed them on its way out
            await asyncio.wait_for(client.ws.wait_closed(), 5)
    assert status == 0, output
    assert "Traceback" not in output and "Error" not in output, output
    assert output.splitlines()[-1] == "rtcroom: stopped"


def test_rtcroom_version() -> None:
    done = run_rtcroom("--version")
    assert done.returncode == 0
    assert done.stdout == f"rtcroom {importlib.metadata.version('rtcroom')}\n"


async def test_a_websocket_to_another_path_is_told_the_signaling_path() -> None:
    async with rtcroom_serve("--path", "/rtc") as served:
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(f"ws://127.0.0.1:{served.port}/api/call/signal")
        await served.send_signal()
        output = served.output()
    response = refused.value.response
    assert response.status_code == 404
    assert (
        response.body
        == b"no WebSocket endpoint at /api/call/signal; the signaling endpoint is /rtc\n"
    )
    # A browser shows only the status, so the server's log says it too.
    assert (
        "WARNING rtcroom.app: refused a WebSocket to '/api/call/signal': "
        "the signaling endpoint is /rtc"
    ) in output
    assert "ERROR" not in output


@pytest.mark.parametrize("level", ["info", "debug"])
async def test_connections_are_logged_only_at_debug(level: str) -> None:
    async with rtcroom_serve("--log-level", level) as served:
        url = f"ws://127.0.0.1:{served.port}/api/call/signal"
        clients = await join_room(url, "quiet", 2)
        for client in clients:
            await client.close()
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{served.port}/healthz")).status_code == 200
        start_lines = served.output().splitlines()[:3]  # where it serves; tokens, ICE; resume
        await served.send_signal()
        output = served.output()
    per_connection = [
        line for line in output.splitlines() if '"WebSocket /api/call/signal"' in line
    ]
    if level == "debug":
        assert len(per_connection) == 2, output
        assert "GET /healthz" in output
    else:
        assert per_connection == [] and "/healthz" not in output, output
        assert output.splitlines() == [*start_lines, "rtcroom: stopped"]
