"""Progress bars and result lines, through rich (the ``[cli]`` extra)."""

from __future__ import annotations

from typing import Any


def transfer_progress() -> Any:
    """A rich Progress showing bytes, rate and ETA; on stderr, so stdout keeps only results."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )


def size_text(n: int) -> str:
    """Bytes in binary units, as the progress bar shows them."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


def rate_text(n: int, seconds: float) -> str:
    return f"{size_text(int(n / seconds))}/s" if seconds > 0 else "-"
