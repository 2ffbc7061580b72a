"""Run the files under examples/ the way the docs tell a user to: as programs or as apps."""

from __future__ import annotations

import asyncio
import importlib
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
    """A fresh import of ``examples.<module>`` (so environment variables are read again)."""
    name = f"examples.{module}"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if name in sys.modules:
        return importlib.reload(sys.modules[name])
    return importlib.import_module(name)
