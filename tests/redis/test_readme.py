"""The README's Redis examples, run as written (only the Redis URL points at the test server)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..support import SIGNAL_PATH, SignalClient, run_aiohttp, run_uvicorn

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLE_URL = "redis://127.0.0.1:6379/0"


def section_examples() -> list[str]:
    text = README.read_text()
    section = text.split("## Rooms across processes (Redis)\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def run_example(code: str, redis_url: str) -> dict[str, Any]:
    assert EXAMPLE_URL in code
    namespace: dict[str, Any] = {}
    exec(compile(code.replace(EXAMPLE_URL, redis_url), "README.md", "exec"), namespace)
    return namespace


async def test_readme_examples_share_rooms_across_asgi_and_aiohttp(redis_url: str) -> None:
    asgi_code, aiohttp_code = section_examples()
    asgi, aio = run_example(asgi_code, redis_url), run_example(aiohttp_code, redis_url)
    async with run_uvicorn(asgi["app"]) as port1, run_aiohttp(aio["app"]) as port2:
        a = await SignalClient.connect(f"ws://127.0.0.1:{port1}{SIGNAL_PATH}")
        b = await SignalClient.connect(f"ws://127.0.0.1:{port2}{SIGNAL_PATH}")
        await a.join("readme")
        assert (await b.join("readme"))["peers"] == [a.peer_id]
        assert await a.recv() == {"t": "peer-joined", "peerId": b.peer_id}
        await b.send({"t": "sdp", "to": a.peer_id, "description": {"type": "offer"}})
        assert await a.recv() == {"t": "sdp", "from": b.peer_id, "description": {"type": "offer"}}
        await a.close()
        assert await b.recv() == {"t": "peer-left", "peerId": a.peer_id}
        await b.close()
        await asgi["signaling"].hub.close()
        await aio["signaling"].hub.close()
