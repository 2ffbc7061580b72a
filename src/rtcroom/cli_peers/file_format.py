"""The file-transfer format of ``rtcroom send`` / ``rtcroom recv`` and the demo page.

One ordered data channel labelled ``rtcroom-file``; control messages are JSON text, file bytes
are binary messages. Per file and receiver:

1. sender → ``{"type": "offer", "name", "size", "sha256"}``
2. receiver → ``{"type": "accept", "sha256", "offset"}``: the bytes it already has (its
   ``.part`` file), or ``{"type": "reject", "sha256", "reason"}``
3. sender → ``{"type": "header", "name", "size", "sha256", "offset"}``, then binary chunks
   (at most :data:`CHUNK_SIZE` bytes) from ``offset`` to the end, then ``{"type": "end",
   "sha256"}``
4. receiver → ``{"type": "done", "sha256", "ok", "reason"}`` once it checked the sha256
5. sender → ``{"type": "bye", "sha256"}``: the verdict arrived, the receiver may leave (it
   waits for this, or for the sender to leave, at most 5 s).

An interrupted transfer leaves the receiver's ``.part`` file; the next offer of the same file
(same sha256) is accepted at its length, so only the rest travels.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

LABEL = "rtcroom-file"
CHUNK_SIZE = 64 * 1024
"""aiortc accepts messages up to 64 KiB, browsers more; so 64 KiB works both ways."""
SHA256_HEX = 64
MAX_NAME = 255


class FormatError(ValueError):
    """A control message that breaks the format (dropped, the transfer fails)."""


def message(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, **fields}


def kind_of(data: object) -> str | None:
    """The ``type`` of a control message, or None for anything else."""
    if isinstance(data, dict) and isinstance(data.get("type"), str):
        return str(data["type"])
    return None


def checked_offer(data: dict[str, Any]) -> tuple[str, int, str]:
    """(name, size, sha256) of an offer or header, with the name made safe to write."""
    name, size, digest = data.get("name"), data.get("size"), data.get("sha256")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise FormatError(f"bad size {size!r}")
    if not isinstance(digest, str) or len(digest) != SHA256_HEX:
        raise FormatError("bad sha256")
    try:
        int(digest, 16)
    except ValueError:
        raise FormatError("bad sha256") from None
    return safe_name(name), size, digest.lower()


def safe_name(name: object) -> str:
    """A file name from a peer, reduced to a plain name in the output directory."""
    if not isinstance(name, str):
        raise FormatError("the file name is not a string")
    base = name.replace("\\", "/").rsplit("/", 1)[-1].replace("\x00", "").strip()
    if base in ("", ".", "..") or len(base) > MAX_NAME:
        raise FormatError(f"unusable file name {name!r}")
    return base


def part_path(out_dir: Path, name: str, digest: str) -> Path:
    """Where the bytes of an unfinished file wait: one per content, so resuming never mixes
    two different files of the same name."""
    return out_dir / f"{name}.{digest[:12]}.part"


def free_target(out_dir: Path, name: str) -> Path:
    """``name`` in ``out_dir``, or ``name (2)``, ``name (3)``...: never overwrite a file."""
    target = out_dir / name
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in range(2, 10_000):
        if not target.exists():
            return target
        target = out_dir / f"{stem} ({n}){suffix}"
    raise FileExistsError(f"too many files named like {name!r} in {out_dir}")


def sha256_of(path: Path, limit: int | None = None) -> hashlib._Hash:
    """The sha256 state of a file (or its first ``limit`` bytes); run it in a thread."""
    h = hashlib.sha256()
    remaining = limit
    with path.open("rb") as f:
        while remaining is None or remaining > 0:
            want = 1 << 20 if remaining is None else min(1 << 20, remaining)
            block = f.read(want)
            if not block:
                break
            h.update(block)
            if remaining is not None:
                remaining -= len(block)
    return h
