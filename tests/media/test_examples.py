"""The media examples (examples/push_media.py, watch_and_mute.py, record.py), run as programs
against a real signaling server on loopback."""

from __future__ import annotations

import re

from tests.examples import run_example
from tests.support import signaling_server


async def test_push_media_reaches_the_listener_red() -> None:
    async with signaling_server("uvicorn") as server:
        out = await run_example("push_media.py", server.url)
    assert out.strip() == "the listener sees red: True"


async def test_watch_and_mute_reads_frames_and_mutes() -> None:
    async with signaling_server("uvicorn") as server:
        out = await run_example("watch_and_mute.py", server.url)
    video, audio, muted, more = out.strip().splitlines()
    assert video == "(480, 640, 3)"
    assert re.fullmatch(r"\(\d+, 1\)", audio), audio
    assert muted == "True True"
    assert more == "read 10 more frames"


async def test_record_cuts_the_pause_out() -> None:
    async with signaling_server("uvicorn") as server:
        out = await run_example("record.py", server.url)
    kind, duration, stopped = out.strip().splitlines()
    assert kind.startswith("video/webm;codecs=vp8,opus /") and kind.endswith(".webm")
    seconds = float(duration.removesuffix(" s"))
    assert 1.5 <= seconds < 2.8, f"a 3 s recording with 1 s paused lasted {seconds} s"
    assert stopped.startswith("{'local': PosixPath(")
