"""Optional parts of rtcroom and the pip extra each one needs.

The base install is the signaling server only. A part that needs more (the Python peer, media,
Redis, aiohttp) calls :func:`require` first, so a missing dependency fails at once with the
command that fixes it instead of a bare ``ModuleNotFoundError`` from deep inside.
"""

from __future__ import annotations

import importlib


class MissingExtraError(ImportError):
    """This part of rtcroom needs an optional dependency that is not installed."""

    def __init__(self, part: str, extra: str, missing: str) -> None:
        self.part = part
        self.extra = extra
        self.missing = missing
        super().__init__(
            f"{part} needs {missing!r}, which is not installed; "
            f"run: pip install 'rtcroom[{extra}]'",
            name=missing,
        )


def require(extra: str, part: str, *modules: str) -> None:
    """Import each of ``modules``; if one is not installed, raise :class:`MissingExtraError`
    telling to install ``rtcroom[extra]`` to use ``part`` (a module name)."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            top = module.partition(".")[0]
            if exc.name is None or exc.name.partition(".")[0] != top:
                raise  # the module is there but one of *its* imports is broken: show that
            raise MissingExtraError(part, extra, module) from exc
