"""The demo page sends and receives files in the format of ``rtcroom send`` / ``rtcroom recv``."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtcroom.testing import ServeProcess
from rtcroom.testing.browser import chromium

from ..browser.harness import wait_for
from .cli import LOCAL_ICE, Command
from .test_send_recv import random_file, sha256

TIMEOUT_MS = 30_000


@pytest.mark.timeout(120)
async def test_files_between_the_cli_and_the_demo_page(tmp_path: Path) -> None:
    to_page, from_page = tmp_path / "to page.bin", tmp_path / "from-page.bin"
    to_page_digest = random_file(to_page, 5 * 2**20 + 3)
    from_page_digest = random_file(from_page, 3 * 2**20 + 5)
    async with ServeProcess() as server, chromium() as browser:
        page = await browser.new_page()
        await page.goto(f"{server.http_url}/#files")
        await wait_for(page, "() => document.querySelector('#server-info').textContent")
        await page.click("#join-data")
        common = ("--room", "files", "--url", server.url, *LOCAL_ICE, "--wait", "30")

        # CLI -> page: the page verifies the sha256 and offers the file to save.
        sent = await (await Command.start("send", str(to_page), *common)).finish(60)
        assert sent.status == 0, sent
        assert "received it intact (sha256 verified)" in sent.out, sent
        link = page.locator("#file-log a", has_text="Save to page.bin")
        await link.wait_for(timeout=TIMEOUT_MS)
        async with page.expect_download(timeout=TIMEOUT_MS) as download_info:
            await link.click()
        saved = tmp_path / "saved.bin"
        await (await download_info.value).save_as(saved)
        assert sha256(saved) == to_page_digest

        # page -> CLI
        recv = await Command.start("recv", "--out", str(tmp_path / "out"), *common)
        await recv.wait_for_output("waiting for a file")
        await wait_for(
            page,
            "() => window.rtcroomCall.remotePeerIds.some((id) =>"
            " window.rtcroomCall.getDataChannelState(id, 'rtcroom-file') === 'open')",
        )
        await page.set_input_files("#file-pick", str(from_page))
        await page.click("#file-send")
        received = await recv.finish(60)
        assert received.status == 0, received
        assert "sha256 verified" in received.out, received
        assert sha256(tmp_path / "out" / "from-page.bin") == from_page_digest
        await page.wait_for_selector(
            "#file-log >> text=received from-page.bin intact (sha256 verified)",
            timeout=TIMEOUT_MS,
        )
        await page.close()
