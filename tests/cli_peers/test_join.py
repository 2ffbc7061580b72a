"""``rtcroom join`` typed into a real terminal (tmux), chatting with the demo page in Chromium."""

from __future__ import annotations

import asyncio
import shlex
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from rtcroom.testing import ServeProcess, this_rtcroom_env
from rtcroom.testing.browser import chromium

from ..browser.harness import wait_for
from .cli import LOCAL_ICE

TIMEOUT_MS = 20_000


class Terminal:
    """A tmux session on its own server socket, running one command."""

    def __init__(self, command: list[str]) -> None:
        if shutil.which("tmux") is None:
            pytest.fail("tmux is missing: apt-get install -y tmux (scripts/setup does it)")
        self.socket = f"rtcroom-test-{uuid.uuid4().hex[:8]}"
        env = this_rtcroom_env()
        shell = (
            # The shell survives the Ctrl-C meant for the command (a trap, unlike an ignored
            # signal, is not inherited), to show the command's exit status.
            f"trap : INT; PYTHONPATH={shlex.quote(env['PYTHONPATH'])} {shlex.join(command)}; "
            'echo "[exit status $?]"; sleep 60'
        )
        self.tmux("new-session", "-d", "-x", "120", "-y", "50", shlex.join(["sh", "-c", shell]))

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10,
            check=False,
        )
        if done.returncode:
            raise AssertionError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-S", "-200")

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-l", text)
        self.tmux("send-keys", "Enter")

    def press(self, key: str) -> None:
        self.tmux("send-keys", key)

    async def shows(self, text: str, timeout: float = 30) -> None:
        for _ in range(int(timeout / 0.1)):
            if text in self.screen():
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"the terminal never showed {text!r}:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True,
                       timeout=10, check=False)


@pytest.fixture
def terminal() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for t in opened:
        t.close()


@pytest.mark.timeout(120)
async def test_join_chats_with_the_demo_page(terminal: list[Terminal]) -> None:
    async with ServeProcess() as server, chromium() as browser:
        page = await browser.new_page()
        await page.goto(f"{server.http_url}/#terminal-chat")
        await wait_for(page, "() => document.querySelector('#server-info').textContent")
        await page.click("#join-data")
        term = Terminal([sys.executable, "-m", "rtcroom.cli", "join", "terminal-chat",
                         "--url", server.url, *LOCAL_ICE])
        terminal.append(term)
        await term.shows("joined 'terminal-chat' as peer ")
        await term.shows("chat open with peer ")
        await page.wait_for_selector("#chat-log .sys >> text=joined", timeout=TIMEOUT_MS)

        await page.fill("#chat-input", "hello from the browser [bold]")
        await page.press("#chat-input", "Enter")
        await term.shows(": hello from the browser [bold]")  # markup is shown, not applied

        term.type("hello from the terminal")
        await page.wait_for_selector(
            "#chat-log .msg:not(.me) >> text=hello from the terminal", timeout=TIMEOUT_MS
        )
        await term.shows("you: hello from the terminal")
        assert "INFO" not in term.screen()  # no library chatter in the chat

        term.type("/peers")
        await term.shows("in 'terminal-chat': you (peer ")

        await page.click("#leave")
        await term.shows(" left")
        await term.shows("connection: signaling")  # alone in the room again
        term.press("C-c")
        await term.shows("[exit status 0]")
        await page.close()


@pytest.mark.timeout(90)
async def test_join_with_a_test_pattern_video(terminal: list[Terminal]) -> None:
    from rtcroom.client import WebRTCCall
    from rtcroom.media import read_frame_number

    async with ServeProcess() as server:
        term = Terminal([sys.executable, "-m", "rtcroom.cli", "join", "pattern", "--video",
                         "pattern", "--url", server.url, *LOCAL_ICE])
        terminal.append(term)
        await term.shows("joined 'pattern' as peer ")
        async with WebRTCCall("pattern", server.url, data_channels=["chat"], ice_servers=[],
                              ice_host_addresses=["127.0.0.1"]) as watcher:
            await watcher.wait_connected(timeout=30)
            [peer] = watcher.remote_peer_ids
            frames = watcher.remote_video(peer)
            first = await frames.next(timeout=30)
            later = await frames.next(timeout=10)
            assert (first.width, first.height) == (640, 360)
            assert read_frame_number(later.frame) > read_frame_number(first.frame)
            watcher.send_json("chat", "nice colour bars")
            await term.shows(": nice colour bars")
        await term.shows(" left")
        term.type("/quit")
        await term.shows("[exit status 0]")
