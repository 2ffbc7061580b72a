"""Run the files under examples/ the way the docs tell a user to: as programs or as apps."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def example_env() -> dict[str, str]:
    """This checkout's rtcroom first on the path, as after ``pip install .``."""
    path = os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


async def run_example(name: str, *args: str, timeout: float = 90.0) -> str:
    """``python examples/<name> ARGS``; returns its stdout, fails with its stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / name),
        *args,
        env=example_env(),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"examples/{name} did not finish within {timeout} s") from None
    assert proc.returncode == 0, f"examples/{name} exited {proc.returncode}:\n{err.decode()}"
    return out.decode()


def load_example(module: str) -> ModuleType:
    """A fresh copy of ``examples/<module>.py`` (its apps bound to no event loop yet, its
    environment variables read now), kept out of ``sys.modules``."""
    spec = importlib.util.spec_from_file_location(f"examples.{module}", EXAMPLES / f"{module}.py")
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded
