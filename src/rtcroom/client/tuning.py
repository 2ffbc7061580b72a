"""Socket tuning for bulk data: the UDP receive buffer of ICE's sockets (off by default).

Measured with ``bench/client_bench.py`` on loopback (see the README): with the kernel's default
buffer (208 KiB here) an aiortc receiver drops hundreds to thousands of datagrams per 16 MB
(``RcvbufErrors`` in ``/proc/net/snmp``); with 4 MiB it drops none. Yet throughput did not
improve: it fell from ~24/29 to ~20/23 MB/s (16/64 KiB messages), presumably because the
pure-Python SCTP receiver is CPU-bound and a deeper queue only delays the congestion signal. So
the option exists, for links where loss at the socket is the limit, but defaults to ``None``.
The kernel caps the value at ``net.core.rmem_max`` without an error.
"""

from __future__ import annotations

import logging
import socket

from aiortc import RTCPeerConnection

log = logging.getLogger("rtcroom.client")

DEFAULT_UDP_RECEIVE_BUFFER: int | None = None


def grow_receive_buffers(pc: RTCPeerConnection, size: int | None) -> None:
    """Set ``SO_RCVBUF`` on every UDP socket ICE gathered for ``pc`` (after gathering).

    aiortc exposes no sockets, so this walks aioice's objects; if their shape changes it logs
    and leaves the sockets alone rather than fail the call.
    """
    if not size:
        return
    try:
        transports = pc._RTCPeerConnection__iceTransports  # type: ignore[attr-defined]
        for transport in transports:
            for protocol in transport._connection._protocols:
                sock = protocol.transport.get_extra_info("socket")
                if sock is not None and sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) < size:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    except (AttributeError, OSError) as exc:
        log.debug("could not grow the UDP receive buffer: %r", exc)
