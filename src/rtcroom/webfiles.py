"""The files shipped in ``rtcroom/web`` (the browser client, its types, the demo page).

Shared by the standalone app and the one-line ``browser_client()`` routes for ASGI and aiohttp
apps, so every way of serving ``rtcroom.js`` sends the same bytes and headers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".ts": "text/plain; charset=utf-8",
    ".map": "application/json",
}


def web_asset_names() -> list[str]:
    """Names of the shipped files, sorted (``index.html``, ``rtcroom.d.ts``, ``rtcroom.js``,
    ``rtcroom.js.map``)."""
    folder = resources.files("rtcroom").joinpath("web")
    return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def web_asset(name: str) -> bytes:
    """A file shipped in ``rtcroom/web``; ``ValueError`` naming the choices if there is none."""
    names = web_asset_names()
    if name not in names:
        raise ValueError(f"rtcroom ships no web file {name!r}; choose one of {names}")
    return resources.files("rtcroom").joinpath("web", name).read_bytes()


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
