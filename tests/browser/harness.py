"""Real Chromium for the browser tests: the shared harness (:mod:`rtcroom.testing.browser`) and
a few assertions-oriented helpers. See TESTING.md §3 for why each Chromium flag is needed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from playwright.async_api import Page

from rtcroom.testing.browser import (
    WAIT_MS,
    chromium,
    harness_app,
    open_harness,
    peer_id,
    start_call,
    wait_for,
)

__all__ = [
    "WAIT_MS",
    "chromium",
    "events",
    "frames_rising",
    "harness_app",
    "js",
    "open_harness",
    "peer_id",
    "start_call",
    "wait_for",
    "wait_state",
]


async def wait_state(page: Page, state: str) -> None:
    await wait_for(page, "(s) => window.call.state === s", state)


async def events(page: Page) -> list[list[Any]]:
    result: list[list[Any]] = await page.evaluate("window.events")
    return result


async def frames_rising(page: Page, remote: str, kind: str = "video") -> tuple[int, int]:
    """framesDecoded twice, ~1 s apart, after the first decoded frame."""
    await wait_for(
        page,
        "async ([p, k]) => ((await window.inbound(p, k)) || {}).framesDecoded > 0",
        [remote, kind],
    )
    first = await page.evaluate("([p, k]) => window.inbound(p, k)", [remote, kind])
    await asyncio.sleep(1.0)
    second = await page.evaluate("([p, k]) => window.inbound(p, k)", [remote, kind])
    return first["framesDecoded"], second["framesDecoded"]


def js(value: Any) -> str:
    return json.dumps(value)
