"""The built React apps the end-to-end tests open, each served by ``vite preview`` (a static
server whose proxy forwards ``/api/call/signal`` to a real ``rtcroom serve``), as a React
developer runs them."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "js" / "react"
EXAMPLE = ROOT / "examples" / "react"
AGENTUITY = Path(__file__).resolve().parent / "agentuity-app"
BUILD = "bash tests/react/build.sh"


def _newest(*trees: Path) -> float:
    """The latest modification time of the source files under ``trees``."""
    newest = 0.0
    for tree in trees:
        files = [tree] if tree.is_file() else tree.rglob("*")
        for f in files:
            if f.is_file() and "node_modules" not in f.parts and "dist" not in f.parts:
                newest = max(newest, f.stat().st_mtime)
    return newest


def require_built() -> None:
    """Fail (not skip) with the command to run when an app is missing or older than its
    sources: npm needs the registry, which the tests' network namespace cannot reach."""
    if shutil.which("node") is None:
        raise RuntimeError("node is not installed: the React tests need Node.js >= 20.19")
    inputs = {
        PACKAGE: _newest(PACKAGE / "src", ROOT / "src" / "rtcroom" / "web"),
        EXAMPLE: max(_newest(EXAMPLE / "src", EXAMPLE / "index.html"), 0.0),
        AGENTUITY: _newest(AGENTUITY / "src", AGENTUITY / "index.html"),
    }
    inputs[EXAMPLE] = max(inputs[EXAMPLE], inputs[PACKAGE])
    for app, newest_input in inputs.items():
        name = app.relative_to(ROOT)
        built = app / "dist" / ("index.js" if app == PACKAGE else "index.html")
        if not (app / "node_modules").is_dir():
            raise RuntimeError(f"{name}/node_modules is missing: run `{BUILD}` first")
        if not built.is_file():
            raise RuntimeError(f"{name} is not built ({built.name} missing): run `{BUILD}` first")
        if built.stat().st_mtime < newest_input:
            raise RuntimeError(f"{name}/dist is older than its sources: run `{BUILD}` again")


@contextmanager
def vite_preview(app: Path, port: int, rtcroom_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """``vite preview`` of ``app``'s production build on 127.0.0.1:``port``, forwarding the
    signaling path to ``rtcroom_url``."""
    with _vite(app, ["preview"], port, rtcroom_url) as proc:
        yield proc


@contextmanager
def vite_dev(app: Path, port: int, rtcroom_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """``npm run dev`` of ``app``: React's development build, where StrictMode mounts every
    component twice."""
    with _vite(app, [], port, rtcroom_url) as proc:
        yield proc


@contextmanager
def _vite(
    app: Path, command: list[str], port: int, rtcroom_url: str
) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [
            "node",
            str(app / "node_modules" / "vite" / "bin" / "vite.js"),
            *command,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--strictPort",
        ],
        cwd=app,
        env={**os.environ, "RTCROOM_URL": rtcroom_url, "NO_COLOR": "1"},
        stdout=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


async def wait_listening(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    """Until ``port`` accepts connections (at most 30 s); fails if ``proc`` exits first."""
    for _ in range(600):
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode} before listening")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise AssertionError(f"{what} did not listen on port {port} within 30 s")
