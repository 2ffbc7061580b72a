"""The data-channel speed-ups rtcroom applies to each peer connection it builds.

Each one lives in its own module and changes one aiortc object (never aiortc's classes, so
other aiortc users in the process are untouched); ``bench/client_bench.py`` measures them one
by one (``rtcroom[name,...]``). tests/client/test_aiortc_canaries.py checks the aiortc internals
each relies on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiortc import RTCPeerConnection
from aiortc.rtcsctptransport import RTCSctpTransport

from . import dtls_records, sctp_delayed_sack, sctp_reassembly, sctp_sack

log = logging.getLogger("rtcroom.client")


def _delayed_sack(sctp: RTCSctpTransport) -> None:
    sctp_delayed_sack.install(sctp)


def _dtls_records(sctp: RTCSctpTransport) -> None:
    dtls_records.install(sctp.transport)


def _reassembly(sctp: RTCSctpTransport) -> None:
    sctp_reassembly.install(sctp)


def _sack(sctp: RTCSctpTransport) -> None:
    sctp_sack.install(sctp)


# name → what it does to the SCTP transport as it starts (DTLS is connected by then).
FIXES: dict[str, Callable[[RTCSctpTransport], None]] = {
    "delayed_sack": _delayed_sack,
    "dtls_records": _dtls_records,
    "reassembly": _reassembly,
    "sack": _sack,
}

ENABLED: frozenset[str] = frozenset(FIXES)


def parse(names: str) -> frozenset[str]:
    """``"a+b"`` (or ``"a,b"``) → those fixes; ``"none"`` or ``""`` → none (for the benchmark)."""
    words = names.replace("+", ",").split(",")
    chosen = frozenset(n.strip() for n in words if n.strip() not in ("", "none"))
    unknown = chosen - FIXES.keys()
    if unknown:
        raise ValueError(f"unknown data-path fixes {sorted(unknown)}; known: {sorted(FIXES)}")
    return chosen


def install(pc: RTCPeerConnection) -> None:
    """Applies the enabled fixes to ``pc``'s SCTP transport when aiortc creates and starts it.

    aiortc creates the transport in a private method that it looks up on the instance, so
    wrapping it there catches every path (our data channel, or the remote offer's).
    """
    enabled = ENABLED
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
        for fix in sorted(enabled):
            FIXES[fix](sctp)
        sctp.start = start  # type: ignore[method-assign]
        await start(*args, **kwargs)

    sctp.start = starting  # type: ignore[method-assign]
