"""``rtcroom record`` in a room with a browser (the demo page) and a Python peer."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import av
import pytest

from rtcroom.client import WebRTCCall
from rtcroom.media import TestPatternSource
from rtcroom.testing import ServeProcess
from rtcroom.testing.browser import chromium

from ..browser.harness import wait_for
from .cli import LOCAL_ICE, Command

LOOPBACK = {"ice_servers": [], "ice_host_addresses": ["127.0.0.1"]}


def decoded(path: Path) -> dict[str, int]:
    """Frames PyAV decodes from a file, by kind."""
    counts = {"video": 0, "audio": 0}
    with av.open(str(path)) as container:
        for stream_kind in ("video", "audio"):
            streams = [s for s in container.streams if s.type == stream_kind]
            if not streams:
                continue
            container.seek(0)
            for _ in container.decode(streams[0]):
                counts[stream_kind] += 1
    return counts


@pytest.mark.timeout(150)
async def test_every_peer_gets_its_own_decodable_file(tmp_path: Path) -> None:
    """The browser is in the room before the recorder, the Python peer joins after it."""
    out = tmp_path / "rec"
    async with ServeProcess("--max-peers", "3") as server, chromium() as browser:
        page = await browser.new_page()
        await page.goto(f"{server.http_url}/#rec")
        await wait_for(page, "() => document.querySelector('#server-info').textContent")
        await page.click("#join-media")  # Chromium's fake camera and microphone
        recorder = await Command.start("record", "rec", "--out", str(out),
                                       "--url", server.url, *LOCAL_ICE)
        await recorder.wait_for_output("recording room")
        await recorder.wait_for_output("(audio+video) → ", timeout=40)  # the browser
        bot = WebRTCCall(
            "rec", server.url, media=TestPatternSource(video={"width": 320, "height": 240,
                                                              "fps": 15}), **LOOPBACK
        )
        await bot.connect()
        try:
            assert bot.peer_id is not None
            bot_name = bot.peer_id.rsplit("-", 1)[1]  # peer-<ms>-<n> is shown as "peer <n>"
            await recorder.wait_for_output(f"● peer {bot_name} (audio+video)", timeout=40)
            await asyncio.sleep(3)
        finally:
            await bot.hangup()  # the bot leaves: its file is closed at once
        await recorder.wait_for_output("left the room", timeout=20)
        await asyncio.sleep(1)
        recorder.signal()  # Ctrl-C
        done = await recorder.finish(30)
        await page.close()
    assert done.status == 0, done
    files = re.findall(r"^✓ (\S+\.webm) \(", done.out, re.MULTILINE)
    assert len(files) == 2, done
    assert done.out.rstrip().endswith(f"2 file(s) in {out}"), done
    [bot_file] = [Path(f) for f in files if f"-peer{bot_name}-" in f]
    [browser_file] = [Path(f) for f in files if Path(f) != bot_file]
    for path in (bot_file, browser_file):
        frames = decoded(path)
        assert frames["video"] >= 15, (path, frames)  # a few seconds at 15+ fps
        assert frames["audio"] >= 50, (path, frames)  # Opus: 50 frames a second
