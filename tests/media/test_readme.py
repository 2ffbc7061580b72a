"""The README's media examples run as written (against a real signaling server)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support import signaling_server

README = Path(__file__).resolve().parents[2] / "README.md"


def media_examples() -> list[str]:
    text = README.read_text()
    start = text.index("## Media for Python peers")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else None]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    return [b for b in blocks if b.startswith("# example:")]


def test_the_section_has_examples() -> None:
    assert len(media_examples()) >= 3


@pytest.mark.parametrize("index", range(3))
async def test_readme_example_runs(index: int) -> None:
    code = media_examples()[index]
    namespace: dict[str, Any] = {}
    exec(compile(code, f"README media example {index + 1}", "exec"), namespace)
    async with signaling_server("uvicorn") as server:
        await asyncio.wait_for(namespace["main"](server.url), 60)
