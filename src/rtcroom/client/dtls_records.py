"""The DTLS record calls on aiortc's data path, without pyOpenSSL's per-call overhead.

Every SCTP packet aiortc sends or receives goes through four pyOpenSSL calls on its
``SSL.Connection``: ``send`` (then ``bio_read`` of the record), ``bio_write`` (then ``recv`` of
the plaintext). pyOpenSSL checks its callback helpers and calls ``SSL_get_error`` even when the
call succeeded, allocates a new buffer each time, and ``bio_read`` on an empty BIO, which
aiortc does after every received datagram, raises ``WantReadError`` for aiortc to catch. This
proxy makes the same OpenSSL calls through pyOpenSSL's own cffi bindings, with one reused
buffer, and leaves every error to pyOpenSSL's handling, so what aiortc sees is unchanged
except that an empty ``bio_read`` returns ``b""`` (which aiortc treats as "nothing to send").

``recv`` also reads a whole record even if it is longer than the 1,500 bytes aiortc asks for
(DTLS drops the rest of a record read short), so a peer sending bigger records is not
silently truncated. As an aiortc patch this would be the same four calls in
``RTCDtlsTransport`` (or a pyOpenSSL ``recv_into``/``bio_pending`` based path).
"""

from __future__ import annotations

from typing import Any

from OpenSSL import SSL

# pyOpenSSL's own cffi handles: the same OpenSSL library its Connection uses.
from OpenSSL.SSL import _ffi, _lib  # type: ignore[attr-defined]

RECORD_MAX = 1 << 16  # above any DTLS record (16 KiB plaintext + expansion)


class FastRecords:
    """Wraps an ``SSL.Connection`` made with memory BIOs (as aiortc makes it)."""

    def __init__(self, connection: SSL.Connection) -> None:
        self._connection = connection
        self._ssl = connection._ssl
        self._into_ssl = connection._into_ssl
        self._from_ssl = connection._from_ssl
        self._buffer = _ffi.new("char[]", RECORD_MAX)
        self._view = _ffi.buffer(self._buffer)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def send(self, data: bytes) -> int:
        result: int = _lib.SSL_write(self._ssl, data, len(data))
        if result <= 0:
            self._connection._raise_ssl_error(self._ssl, result)
        return result

    def recv(self, bufsiz: int) -> bytes:
        result: int = _lib.SSL_read(self._ssl, self._buffer, RECORD_MAX)
        if result <= 0:
            self._connection._raise_ssl_error(self._ssl, result)
        data: bytes = self._view[:result]
        return data

    def bio_write(self, data: bytes) -> int:
        result: int = _lib.BIO_write(self._into_ssl, data, len(data))
        if result <= 0:
            self._connection._handle_bio_errors(self._into_ssl, result)
        return result

    def bio_read(self, bufsiz: int) -> bytes:
        # The whole record: after the handshake each write leaves exactly one in the BIO.
        result: int = _lib.BIO_read(self._from_ssl, self._buffer, RECORD_MAX)
        if result <= 0:
            if _lib.BIO_should_retry(self._from_ssl):
                return b""  # empty: nothing to send
            self._connection._handle_bio_errors(self._from_ssl, result)
        data: bytes = self._view[:result]
        return data


def install(dtls: Any) -> None:
    """Puts the proxy in front of a started ``RTCDtlsTransport``'s connection (idempotent)."""
    connection = dtls._ssl
    if connection is not None and not isinstance(connection, FastRecords):
        dtls._ssl = FastRecords(connection)
