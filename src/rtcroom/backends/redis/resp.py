"""A bare RESP2 pub/sub link to Redis: the relay's hot path.

redis-py runs the Lua scripts; this carries the frames, with no per-message bookkeeping: one
listening connection (whose reconnects the relay drives) and one publishing connection that
writes ``PUBLISH`` without waiting for replies, so frames keep a single order and cost one
buffered write each.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from redis.asyncio.connection import RedisSSLContext, UnixDomainSocketConnection

from .address import RedisAddress

Reply = bytes | int | list[Any] | None

_WRITE_HIGH_WATER = 1 << 20


class RespError(Exception):
    """Redis answered with an error, or the connection broke in a way that is not an OSError."""


def _tls_context(options: dict[str, Any]) -> ssl.SSLContext:
    """The TLS settings of a rediss:// URL (``?ssl_ca_certs=...`` and the like), built by
    redis-py as for its own connections, with its defaults: verify the certificate and host."""
    given = {key[4:]: value for key, value in options.items() if key.startswith("ssl_")}
    context: ssl.SSLContext = RedisSSLContext(
        **{"cert_reqs": "required", "check_hostname": True, **given}
    ).get()
    return context


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
        o = address.options
        if o.get("connection_class") is UnixDomainSocketConnection:
            opening = asyncio.open_unix_connection(o["path"])
        else:
            context = _tls_context(o) if address.tls else None
            host, port = o.get("host", "localhost"), o.get("port", 6379)
            opening = asyncio.open_connection(host, port, ssl=context)
        reader, writer = await asyncio.wait_for(opening, timeout)
        conn = cls(reader, writer)
        try:
            if o.get("password") is not None:
                auth = [o["username"]] if o.get("username") else []
                conn.send("AUTH", *auth, o["password"])
                await asyncio.wait_for(conn.read(), timeout)
        except BaseException:
            conn.close()
            raise
        return conn

    def send(self, *args: bytes | str) -> None:
        if self._writer.transport.is_closing():
            raise ConnectionResetError("the connection to Redis is closed")
        self._writer.write(encode(*args))

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


class RespLink:
    """The relay's two connections: ``message`` yields what the subscriptions receive."""

    def __init__(self, sub: RespConnection, pub: RespConnection) -> None:
        self._sub = sub
        self._pub = pub
        self._replies = asyncio.create_task(self._read_publish_replies())

    @classmethod
    async def open(cls, address: RedisAddress, timeout: float) -> RespLink:
        sub = await RespConnection.open(address, timeout)
        try:
            pub = await RespConnection.open(address, timeout)
        except BaseException:
            sub.close()
            raise
        return cls(sub, pub)

    def subscribe(self, *channels: bytes) -> None:
        self._sub.send("SUBSCRIBE", *channels)

    def unsubscribe(self, *channels: bytes) -> None:
        self._sub.send("UNSUBSCRIBE", *channels)

    def publish(self, channel: bytes, payload: bytes) -> None:
        """Queued in order behind earlier frames; raises ``OSError`` when the link is down."""
        self._pub.send("PUBLISH", channel, payload)

    def congested(self) -> bool:
        return self._pub.congested()

    async def drain(self) -> None:
        await self._pub.drain()

    async def message(self) -> tuple[bytes, bytes, bytes | int]:
        """The next ``(kind, channel, data)`` push: a message, or a (un)subscribe
        confirmation; raises when the link breaks."""
        while True:
            msg = await self._sub.read()
            if isinstance(msg, list) and len(msg) == 3:
                return msg[0], msg[1], msg[2]

    def close(self) -> None:
        self._replies.cancel()
        self._sub.close()
        self._pub.close()

    async def _read_publish_replies(self) -> None:
        """PUBLISH answers with a subscriber count we do not need; a broken publishing socket
        ends the listener too, so both reconnect together."""
        try:
            while True:
                await self._pub.read()
        except asyncio.CancelledError:
            raise
        except Exception:
            self._sub.close()
