"""What the benchmarks share: free ports, ``rtcroom serve`` processes, their CPU time."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def serve_command(port: int, *extra: str) -> list[str]:
    """``rtcroom serve`` on 127.0.0.1:``port``, quiet, from this checkout."""
    return [
        sys.executable,
        "-m",
        "rtcroom.cli",
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *extra,
    ]


def checkout_env() -> dict[str, str]:
    """The environment with this checkout's ``src`` first on the import path."""
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}
