"""A broken network path for tests: every UDP datagram dropped, TCP untouched.

This kernel has no ``netem``, so the break is an nftables rule on the output hook: the media and
data of peer connections (UDP) stop, the signaling WebSocket (TCP) lives on. Only inside a
network namespace of its own (``unshare -n``): the rule applies to the whole namespace.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator

__all__ = ["udp_dropped"]

TABLE = "rtcroom_break"


def _nft(*args: str) -> None:
    nft = shutil.which("nft")
    if nft is None:
        raise RuntimeError("nft is not installed: scripts/setup installs nftables")
    subprocess.run([nft, *args], check=True, capture_output=True, timeout=10)


@contextlib.contextmanager
def udp_dropped() -> Iterator[None]:
    """Drop every outgoing UDP datagram of this namespace until the block ends (the table is
    deleted even if the block raises)."""
    _nft("add", "table", "inet", TABLE)
    try:
        _nft("add", "chain", "inet", TABLE, "out", "{ type filter hook output priority 0; }")
        _nft("add", "rule", "inet", TABLE, "out", "meta", "l4proto", "udp", "drop")
        yield
    finally:
        _nft("delete", "table", "inet", TABLE)
