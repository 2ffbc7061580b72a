"""The commands that join a room as a peer: ``join``, ``send``, ``recv``, ``record``,
``doctor``. Each lives in its own module and imports the Python peer only when it runs."""

from __future__ import annotations

from typing import Any

from . import doctor, join, record, recv, send


def add_commands(sub: Any) -> None:
    """Register the peer commands on ``rtcroom``'s subparsers."""
    for command in (join, send, recv, record, doctor):
        command.add_command(sub)
