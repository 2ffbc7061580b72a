"""The Python peer examples (examples/two_peers.py, send_file.py, chat_bot.py), run as programs
against a real signaling server on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from rtcroom import JoinTokens, tokens
from rtcroom.client import DataChannelMessageEvent, WebRTCCall
from tests.examples import EXAMPLES, ROOT, example_env, run_example
from tests.secure_support import SECRET, secure_server
from tests.support import signaling_server

LOCAL = {"ice_servers": [], "ice_host_addresses": ["127.0.0.1"]}


async def test_two_peers_prints_what_the_docs_say() -> None:
    async with signaling_server("uvicorn") as server:
        out = await run_example("two_peers.py", server.url)
    assert out.strip() == "True {'text': 'hi alice'}"


async def test_send_file_delivers_every_byte(tmp_path: Path) -> None:
    source = tmp_path / "data.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024 + 123))  # many chunks and a short last one
    async with signaling_server("uvicorn") as server:
        out = await run_example("send_file.py", str(source), server.url)
    assert out.strip() == f"received {3 * 1024 * 1024 + 123} bytes into {source}.received"
    assert (tmp_path / "data.bin.received").read_bytes() == source.read_bytes()


async def test_chat_bot_answers_the_demo_pages_format() -> None:
    """A Python peer sends what the demo page sends (sendJSON('chat', text) on an ordered "chat"
    channel) and shows what it gets the way the page does."""
    async with signaling_server("uvicorn") as server:
        bot = await asyncio.create_subprocess_exec(
            sys.executable,
            str(EXAMPLES / "chat_bot.py"),
            "bots",
            "--url",
            server.url,
            "--ice-host",
            "127.0.0.1",
            env=example_env(),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            assert bot.stdout is not None
            line = await asyncio.wait_for(bot.stdout.readline(), 30)
            assert line.decode().startswith("chat bot peer-") and "'bots'" in line.decode()
            async with WebRTCCall("bots", server.url, data_channels=["chat"], **LOCAL) as page:
                got: list[object] = []
                async with page.events() as events:
                    await page.wait_connected(timeout=20)
                    while len(got) < 3:
                        event = await events.next(timeout=20)
                        if isinstance(event, DataChannelMessageEvent) and event.label == "chat":
                            got.append(event.data)
                            if len(got) == 1:
                                page.send_json("chat", "hello bot")
                                page.send_json("chat", "42")
            assert got == [
                "Hello! I am a bot. Say something.",
                "You said: hello bot",
                "You said: 42",
            ]
            assert (
                (await asyncio.wait_for(bot.stdout.readline(), 10))
                .decode()
                .endswith(": hello bot\n")
            )
        finally:
            bot.send_signal(signal.SIGINT)
            _, err = await asyncio.wait_for(bot.communicate(), 20)
        assert bot.returncode == 0, err.decode()
        assert b"Traceback" not in err


async def test_token_peer_joins_with_a_token_and_explains_a_refusal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with secure_server("uvicorn", auth=JoinTokens(SECRET)) as server:
        monkeypatch.setenv("RTCROOM_TOKEN", tokens.create(SECRET, room="demo", identity="bot"))
        out = await run_example("token_peer.py", server.url)
        assert out.startswith("joined as peer-")
        old = tokens.create(SECRET, room="demo", identity="bot", ttl=60, now=time.time() - 3600)
        monkeypatch.setenv("RTCROOM_TOKEN", old)
        out = await run_example("token_peer.py", server.url)
    assert out.startswith("refused (4404): ") and "token expired: get a new one" in out
    assert old not in out
