"""The server examples run as the docs say, and every code block in the docs is a tested file.

Docs pages include files from examples/ (``--8<-- "examples/..."``), so the page shows the file
a test runs; README.md cannot include files, so each of its code blocks must be a verbatim part
of one. Shell commands are text and are not checked here.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest

from rtcroom.webfiles import web_asset

from .examples import EXAMPLES, ROOT, load_example
from .support import SIGNAL_PATH, join_room, run_aiohttp, run_uvicorn

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
CHECKED_LANGUAGES = {"python", "py", "js", "javascript", "html", "toml"}
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)
INCLUDE = re.compile(r'^--8<-- "([^":]+)(?::(\w+))?"$')
TESTS = ROOT / "tests"


def code_blocks(page: Path) -> list[tuple[str, str]]:
    return [(lang, body) for lang, body in FENCE.findall(page.read_text())]


def example_files() -> list[Path]:
    return sorted(
        p
        for p in EXAMPLES.rglob("*")
        if p.is_file()
        and p.suffix in (".py", ".html")
        and p.name != "__init__.py"
        and "__pycache__" not in p.parts
        and not {"node_modules", "dist"} & set(p.parts)  # npm installs and builds (React)
    )


def test_readme_is_short() -> None:
    assert len((ROOT / "README.md").read_text().splitlines()) <= 160


@pytest.mark.parametrize("page", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_code_block_is_an_example_file(page: Path) -> None:
    texts = {path: path.read_text() for path in example_files()}
    for lang, body in code_blocks(page):
        if lang not in CHECKED_LANGUAGES:
            continue  # shell commands, program output, trees: text
        include = INCLUDE.match(body.strip())
        if include:
            path, section = ROOT / include.group(1), include.group(2)
            assert path in texts, f"{page.name} includes {include.group(1)}, not an example file"
            if section:
                assert f"--8<-- [start:{section}]" in texts[path], (page.name, include.group(0))
            continue
        assert page.name == "README.md", f"{page.name}: include the example file instead:\n{body}"
        assert any(body.strip() in text for text in texts.values()), (
            f"README.md has a code block that is not part of any file under examples/:\n{body}"
        )


@pytest.mark.parametrize("path", example_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_example_file_is_run_by_a_test(path: Path) -> None:
    name = str(path.relative_to(EXAMPLES))
    module = f'"{path.stem}"' if path.suffix == ".py" else None  # load_example("fastapi_app")
    users = [
        t
        for t in TESTS.rglob("test_*.py")
        if f'"{name}"' in (text := t.read_text()) or (module is not None and module in text)
    ]
    assert users, f"no test runs examples/{name}"


def example_server(module: str) -> Callable[[], AbstractAsyncContextManager[int]]:
    def serve() -> AbstractAsyncContextManager[int]:
        app = load_example(module).app
        return run_aiohttp(app) if module == "aiohttp_app" else run_uvicorn(app)

    return serve


@pytest.fixture(params=["fastapi_app", "aiohttp_app"])
async def example_port(request: pytest.FixtureRequest) -> AsyncIterator[int]:
    async with example_server(request.param)() as port:
        yield port


async def test_server_examples_relay_and_serve_the_demo_page(example_port: int) -> None:
    a, b = await join_room(f"ws://127.0.0.1:{example_port}{SIGNAL_PATH}", "example", 2)
    await b.send({"t": "ice", "candidate": {"candidate": ""}})
    assert await a.recv() == {"t": "ice", "from": b.peer_id, "candidate": {"candidate": ""}}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{example_port}") as http:
        page, client = await http.get("/"), await http.get("/rtcroom.js")
    assert page.status_code == 200 and page.content == web_asset("index.html")
    assert "import { WebRTCCall } from '/rtcroom.js'" in page.text  # the script it needs ...
    assert client.status_code == 200 and client.content == web_asset("rtcroom.js")  # ... is there
    await a.close()
    await b.close()


async def test_fastapi_example_lists_rooms() -> None:
    async with example_server("fastapi_app")() as port:
        a, b = await join_room(f"ws://127.0.0.1:{port}{SIGNAL_PATH}", "fastapi", 2)
        async with httpx.AsyncClient() as http:
            rooms = (await http.get(f"http://127.0.0.1:{port}/rooms")).json()
        assert rooms == {"fastapi": [a.peer_id, b.peer_id]}
        await a.close()
        await b.close()
