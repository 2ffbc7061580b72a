"""ICE configuration for aiortc peers: explicit servers and a host-address filter.

aiortc has two surprises that matter here. ``RTCConfiguration(iceServers=None)`` means Google's
public STUN server, so rtcroom always passes a list. And its ICE agent (aioice) never offers
127.0.0.1, nor lets a caller choose interfaces, which rules out loopback-only calls and
multi-homed hosts that must use one interface. :func:`host_addresses` fixes the second: inside
it, ICE gathering offers exactly the addresses given.
"""

from __future__ import annotations

from ._extras import require

require("client", __name__, "aiortc")

import contextlib
import contextvars
import ipaddress
from collections.abc import Iterator, Sequence
from typing import Any

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer

AGENTUITY_DEFAULT_ICE_SERVERS: tuple[str, ...] = (
    "stun:stun.l.google.com:19302",
    "stun:stun1.l.google.com:19302",
)
"""What Agentuity's client uses when given no ICE servers (never used by rtcroom's tests)."""

_selected: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar(
    "rtcroom_ice_host_addresses", default=None
)
_original_get_host_addresses = aioice.ice.get_host_addresses


def _get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    chosen = _selected.get()
    if chosen is None:
        return _original_get_host_addresses(use_ipv4=use_ipv4, use_ipv6=use_ipv6)
    out = []
    for address in chosen:
        version = ipaddress.ip_address(address).version
        if (version == 4 and use_ipv4) or (version == 6 and use_ipv6):
            out.append(address)
    return out


def _install() -> None:
    # aioice looks the function up on its module at gathering time; the replacement defers to
    # the original unless a filter is active in the current context, so other code is unaffected.
    if aioice.ice.get_host_addresses is not _get_host_addresses:
        aioice.ice.get_host_addresses = _get_host_addresses


def validate_host_addresses(addresses: Sequence[str]) -> tuple[str, ...]:
    """Check a host-address list early, with a message that says what is wrong."""
    if isinstance(addresses, str):
        raise TypeError(
            f"ice host addresses must be a list of IP addresses, got the string {addresses!r}; "
            f"write [{addresses!r}]"
        )
    out = []
    for address in addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise ValueError(
                f"{address!r} is not an IP address; ICE host addresses are literal addresses "
                "such as '127.0.0.1' or '192.168.1.20'"
            ) from None
        out.append(address)
    if not out:
        raise ValueError("ice host addresses must name at least one address (or pass None)")
    return tuple(out)


@contextlib.contextmanager
def host_addresses(addresses: Sequence[str] | None) -> Iterator[None]:
    """Within this block (and tasks it starts), ICE gathers only ``addresses``.

    ``None`` leaves aioice's own choice (every interface but loopback). Gathering happens in
    ``setLocalDescription``, so wrap that call (and the ``createOffer``/``createAnswer`` before
    it) — rtcroom's peer client does this for you with its ``ice_host_addresses`` option.
    """
    if addresses is None:
        yield
        return
    _install()
    token = _selected.set(validate_host_addresses(addresses))
    try:
        yield
    finally:
        _selected.reset(token)


def ice_server(
    urls: str | Sequence[str], username: str | None = None, credential: str | None = None
) -> RTCIceServer:
    return RTCIceServer(
        urls=urls if isinstance(urls, str) else list(urls), username=username, credential=credential
    )


def rtc_configuration(ice_servers: Sequence[Any] | None) -> RTCConfiguration:
    """An aiortc configuration with exactly these servers (``[]`` = none, never Google's).

    Items may be :class:`aiortc.RTCIceServer`, URL strings, or browser-style dicts
    ``{"urls": ..., "username": ..., "credential": ...}``.
    """
    if ice_servers is None:
        ice_servers = [{"urls": list(AGENTUITY_DEFAULT_ICE_SERVERS)}]
    servers: list[RTCIceServer] = []
    for item in ice_servers:
        if isinstance(item, RTCIceServer):
            servers.append(item)
        elif isinstance(item, str):
            servers.append(ice_server(item))
        elif isinstance(item, dict) and "urls" in item:
            servers.append(ice_server(item["urls"], item.get("username"), item.get("credential")))
        else:
            raise TypeError(
                f"ice server {item!r} is not understood; use an aiortc.RTCIceServer, a URL "
                "string like 'stun:host:3478', or a dict {'urls': ..., 'username': ..., "
                "'credential': ...}"
            )
    return RTCConfiguration(iceServers=servers)
