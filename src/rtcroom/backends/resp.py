"""A bare RESP2 connection to Redis, for the two jobs of the relay path.

redis-py runs the Lua scripts; this runs the hot path, where we want full control and no
per-message bookkeeping: one pub/sub listener (whose reconnects we drive ourselves) and one
publishing connection that writes ``PUBLISH`` without waiting for replies, so frames keep a
single order and cost one buffered write each.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

Reply = bytes | int | list[Any] | None

_WRITE_HIGH_WATER = 1 << 20


class RespError(Exception):
    """Redis answered with an error, or the connection broke in a way that is not an OSError."""


@dataclass(slots=True, frozen=True)
class RedisAddress:
    """Where Redis is, parsed from a ``redis://`` or ``rediss://`` URL."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool
    db: int

    @classmethod
    def parse(cls, url: str) -> RedisAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise ValueError(
                f"RedisBackend needs a redis:// or rediss:// URL "
                f"(like redis://127.0.0.1:6379/0), got {url!r}"
            )
        try:
            port = parts.port or 6379
        except ValueError:
            raise ValueError(f"the port in the Redis URL {url!r} is not a number") from None
        path = parts.path.strip("/")
        if path and not path.isdigit():
            raise ValueError(f"the database in the Redis URL {url!r} must be a number, like /0")
        return cls(
            db=int(path or 0),
            host=parts.hostname or "127.0.0.1",
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=parts.scheme == "rediss",
        )

    def display(self) -> str:
        """The address for logs, without the password."""
        scheme = "rediss" if self.tls else "redis"
        return f"{scheme}://{self.host}:{self.port}/{self.db}"


def encode(*args: bytes | str) -> bytes:
    """One command in RESP's array-of-bulk-strings form. Lone surrogates, which JavaScript
    strings (so room ids) may hold, pass through as their UTF-8-style bytes."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode("utf-8", "surrogatepass") if isinstance(arg, str) else arg
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class RespConnection:
    """One socket to Redis: ``send`` is a buffered write, ``read`` parses the next reply."""

    __slots__ = ("_reader", "_writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, address: RedisAddress, timeout: float) -> RespConnection:
        context = ssl.create_default_context() if address.tls else None
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(address.host, address.port, ssl=context), timeout
        )
        conn = cls(reader, writer)
        try:
            if address.password is not None:
                auth = [address.username] if address.username else []
                conn.send("AUTH", *auth, address.password)
                await asyncio.wait_for(conn.read(), timeout)
        except BaseException:
            conn.close()
            raise
        return conn

    def send(self, *args: bytes | str) -> None:
        if self._writer.transport.is_closing():
            raise ConnectionResetError("the connection to Redis is closed")
        self._writer.write(encode(*args))

    def send_packed(self, data: bytes) -> None:
        if self._writer.transport.is_closing():
            raise ConnectionResetError("the connection to Redis is closed")
        self._writer.write(data)

    def congested(self) -> bool:
        return self._writer.transport.get_write_buffer_size() > _WRITE_HIGH_WATER

    async def drain(self) -> None:
        await self._writer.drain()

    async def read(self) -> Reply:
        """The next reply; raises ``asyncio.IncompleteReadError`` (an EOFError) when Redis
        closes the socket, and :class:`RespError` for an error reply."""
        line = await self._reader.readuntil(b"\r\n")
        kind, rest = line[:1], line[1:-2]
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            return (await self._reader.readexactly(size + 2))[:-2]
        if kind == b"*":
            count = int(rest)
            if count < 0:
                return None
            return [await self.read() for _ in range(count)]
        if kind == b":":
            return int(rest)
        if kind == b"+":
            return rest
        if kind == b"-":
            raise RespError(rest.decode(errors="replace"))
        raise RespError(f"unexpected reply from Redis: {line[:40]!r}")

    def close(self) -> None:
        self._writer.close()
