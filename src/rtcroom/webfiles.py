"""The files shipped in ``rtcroom/web`` (the browser client and its modules, its types, the demo
page).

Shared by the standalone app and the one-line ``browser_client()`` routes for ASGI and aiohttp
apps, so every way of serving ``rtcroom.js`` sends the same bytes and headers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".ts": "text/plain; charset=utf-8",
}


def _walk(folder: Traversable, prefix: str) -> list[str]:
    names: list[str] = []
    for entry in folder.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            names += _walk(entry, f"{prefix}{entry.name}/")
        elif entry.is_file():
            names.append(prefix + entry.name)
    return names


def web_asset_names() -> list[str]:
    """Paths of the shipped files, sorted: ``index.html``, ``rtcroom.d.ts``, ``rtcroom.js`` and
    the modules it imports, ``rtcroom/call.js`` and its siblings."""
    return sorted(_walk(resources.files("rtcroom").joinpath("web"), ""))


def web_asset(name: str) -> bytes:
    """A file shipped in ``rtcroom/web``; ``ValueError`` naming the choices if there is none."""
    names = web_asset_names()
    if name not in names:
        raise ValueError(f"rtcroom ships no web file {name!r}; choose one of {names}")
    return resources.files("rtcroom").joinpath("web", *name.split("/")).read_bytes()


def media_type(name: str) -> str:
    suffix = name[name.rfind(".") :] if "." in name else ""
    return _MEDIA_TYPES.get(suffix, "application/octet-stream")


@dataclass(frozen=True)
class WebFile:
    """One shipped file ready to send: body, media type and a strong ETag."""

    name: str
    body: bytes
    media_type: str
    etag: str

    @classmethod
    def load(cls, name: str) -> WebFile:
        body = web_asset(name)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        return cls(name, body, media_type(name), etag)

    def headers(self) -> dict[str, str]:
        # no-cache: browsers revalidate (cheap, via the ETag), so an upgrade is seen at once.
        return {"content-type": self.media_type, "cache-control": "no-cache", "etag": self.etag}

    def not_modified(self, if_none_match: str | None) -> bool:
        if not if_none_match:
            return False
        return self.etag in (tag.strip() for tag in if_none_match.split(","))


class WebFolder:
    """Every shipped file, found by the end of a request path, so the folder works under any
    route or mount: ``/rtcroom.js``, ``/static/rtcroom.js`` and ``/static/rtcroom/call.js``
    all resolve, and rtcroom.js's relative imports (``./rtcroom/call.js``) resolve next to it."""

    def __init__(self) -> None:
        self.files = {name: WebFile.load(name) for name in web_asset_names()}

    def find(self, path: str) -> WebFile | None:
        parts = path.strip("/").split("/")
        for start in range(len(parts)):
            found = self.files.get("/".join(parts[start:]))
            if found is not None:
                return found
        return None

    def not_found(self, path: str) -> str:
        return (
            f"rtcroom ships no web file at {path!r}. browser_client() serves "
            f"{', '.join(self.files)} under the path it is routed at: route "
            "'/rtcroom{path:path}' (Starlette, FastAPI) or '/rtcroom{path:.*}' (aiohttp) so "
            "that /rtcroom.js and the modules it imports from /rtcroom/ are both found.\n"
        )
