"""The data-channel speed-ups rtcroom applies to each peer connection it builds.

Each one lives in its own module and changes one aiortc object (never aiortc's classes, so
other aiortc users in the process are untouched); ``bench/client_bench.py`` measures them one
by one (``rtcroom[name,...]``). tests/client/test_aiortc_canaries.py checks the aiortc internals
each relies on.
"""

from __future__ import annotations

import logging
from typing import Any

from aiortc import RTCPeerConnection
from aiortc.rtcsctptransport import RTCSctpTransport

from . import dtls_records, sctp_delayed_sack, sctp_packets, sctp_reassembly, sctp_sack

log = logging.getLogger("rtcroom.client")


# In the order they are installed; "packets" needs "dtls_records" (whole records).
FIXES = ("packets", "sack", "delayed_sack", "reassembly", "dtls_records")

# "sack" (SACK handling by index) is correct but measured no faster on the paths tried, so it
# is off unless asked for (docs/benchmarks.md).
ENABLED: frozenset[str] = frozenset(FIXES) - {"sack"}


def apply(sctp: RTCSctpTransport, enabled: frozenset[str]) -> None:
    """Installs ``enabled`` on an SCTP transport about to start (DTLS is connected)."""
    size = None
    if "packets" in enabled and "dtls_records" in enabled:
        size = sctp_packets.install(sctp)
    if "sack" in enabled:
        handler = sctp_sack.install(sctp)
        if size is not None:
            handler.user_data = lambda: size.user_data
    if "delayed_sack" in enabled:
        sctp_delayed_sack.install(sctp)
    if "reassembly" in enabled:
        sctp_reassembly.install(sctp)
    if "dtls_records" in enabled:
        dtls_records.install(sctp.transport)


def parse(names: str) -> frozenset[str]:
    """``"a+b"`` (or ``"a,b"``) → those fixes; ``"none"`` or ``""`` → none (for the benchmark)."""
    words = names.replace("+", ",").split(",")
    chosen = frozenset(n.strip() for n in words if n.strip() not in ("", "none"))
    unknown = chosen - set(FIXES)
    if unknown:
        raise ValueError(f"unknown data-path fixes {sorted(unknown)}; known: {sorted(FIXES)}")
    return chosen


def install(pc: RTCPeerConnection, *, large_packets: bool = True) -> None:
    """Applies the enabled fixes to ``pc``'s SCTP transport when aiortc creates and starts it.

    aiortc creates the transport in a private method that it looks up on the instance, so
    wrapping it there catches every path (our data channel, or the remote offer's).
    ``large_packets=False`` keeps aiortc's 1,189-byte packets even toward an rtcroom peer, for
    paths that drop IP fragments after the probe succeeded.
    """
    enabled = ENABLED if large_packets else ENABLED - {"packets"}
    if not enabled:
        return
    name = "_RTCPeerConnection__createSctpTransport"
    create = getattr(pc, name, None)
    if create is None:
        log.warning("aiortc changed: data channels run without rtcroom's speed-ups")
        return

    def create_sctp() -> None:
        create()
        sctp = pc.sctp
        if sctp is not None:
            _on_start(sctp, enabled)

    setattr(pc, name, create_sctp)


def _on_start(sctp: RTCSctpTransport, enabled: frozenset[str]) -> None:
    start = sctp.start

    async def starting(*args: Any, **kwargs: Any) -> None:
        apply(sctp, enabled)
        sctp.start = start  # type: ignore[method-assign]
        await start(*args, **kwargs)

    sctp.start = starting  # type: ignore[method-assign]
