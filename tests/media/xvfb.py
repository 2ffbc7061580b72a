"""A real X display (Xvfb) for screen-capture tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator

XVFB_SIZE = (1024, 768)


@contextlib.contextmanager
def xvfb_display() -> Iterator[str]:
    """Start ``Xvfb :N -screen 0 1024x768x24`` on a free display number; yield ``":N"``."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise RuntimeError("Xvfb is not installed (apt-get install xvfb; scripts/test does it)")
    number = next(
        n
        for n in range(90, 190)
        if not os.path.exists(f"/tmp/.X{n}-lock") and not os.path.exists(f"/tmp/.X11-unix/X{n}")
    )
    width, height = XVFB_SIZE
    proc = subprocess.Popen(
        [binary, f":{number}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(f"/tmp/.X11-unix/X{number}"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Xvfb :{number} did not start (exit code {proc.poll()})")
            time.sleep(0.05)
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
