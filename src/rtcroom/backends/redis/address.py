"""Where Redis is: a URL read by redis-py's own parser, so every connection agrees on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection, parse_url

URL_EXAMPLE = "redis://127.0.0.1:6379/0"


@dataclass(slots=True, frozen=True)
class RedisAddress:
    """A ``redis://``, ``rediss://`` (TLS) or ``unix://`` URL, as redis-py connection options."""

    url: str
    options: dict[str, Any]

    @classmethod
    def parse(cls, url: str) -> RedisAddress:
        try:
            options: dict[str, Any] = dict(parse_url(url))
        except ValueError as exc:
            raise ValueError(
                f"RedisBackend needs a redis:// or rediss:// URL (like {URL_EXAMPLE}) or "
                f"unix:///path/to/redis.sock; got {url!r} ({exc})"
            ) from None
        path = urlsplit(url).path.strip("/")
        if options.get("connection_class") is not UnixDomainSocketConnection and path:
            if "db" not in options:  # redis-py would silently use database 0
                raise ValueError(f"the database in the Redis URL {url!r} must be a number, like /0")
        return cls(url, options)

    @property
    def tls(self) -> bool:
        return self.options.get("connection_class") is SSLConnection

    def display(self) -> str:
        """The address for logs, without the password."""
        o = self.options
        if o.get("connection_class") is UnixDomainSocketConnection:
            return f"unix://{o.get('path', '')}"
        scheme = "rediss" if self.tls else "redis"
        return f"{scheme}://{o.get('host', 'localhost')}:{o.get('port', 6379)}/{o.get('db', 0)}"
