"""The README's client example runs as written (against a real server, on loopback)."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from tests.support import signaling_server

README = Path(__file__).resolve().parents[2] / "README.md"


def client_examples() -> list[str]:
    text = README.read_text()
    section = text.split("## Python peer client", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    return [b for b in blocks if "asyncio.run(main())" in b]


async def test_readme_example_prints_what_the_readme_says() -> None:
    (example,) = client_examples()
    async with signaling_server("uvicorn") as srv:
        code = example.replace("ws://127.0.0.1:8000/api/call/signal", srv.url)
        assert srv.url in code
        env = {**os.environ, "PYTHONPATH": str(README.parent / "src")}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, env=env, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0
    assert out.decode().strip() == "True {'text': 'hi alice'}"


def test_readme_file_example_compiles() -> None:
    text = README.read_text().split("## Python peer client", 1)[1]
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "send_file" in b]
    compile(block, "README", "exec")
