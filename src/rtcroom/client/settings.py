"""Frozen snapshots of a call's options: for the call's lifecycle and for each peer session.

``connect()`` takes the snapshot, so an option changed on the call later applies from the next
``connect()`` on, never halfway through a join, a reconnect or a negotiation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiortc import RTCConfiguration

from .. import ice
from .channels import DataChannelConfig


@dataclass(frozen=True, slots=True)
class SessionSettings:
    data_channels: tuple[DataChannelConfig, ...] = ()
    """Channels the offering side opens with each peer."""
    polite: bool | None = None
    """Glare rule: None compares peer ids as browsers do (the greater id is impolite)."""
    ice_servers: tuple[Any, ...] | None = None
    """As :func:`rtcroom.ice.rtc_configuration` takes them (None: Agentuity's STUN default)."""
    ice_host_addresses: tuple[str, ...] | None = None
    negotiation_timeout: float = 30.0
    """Default bound of :meth:`PeerSession.renegotiate` (the call's ``connection_timeout``)."""
    ice_gathering_timeout: float = 10.0
    udp_receive_buffer: int | None = None

    def is_polite(self, own_id: str | None, remote_id: str) -> bool:
        return self.polite if self.polite is not None else not (own_id or "") > remote_id

    def rtc_configuration(self) -> RTCConfiguration:
        return ice.rtc_configuration(self.ice_servers)


@dataclass(frozen=True, slots=True)
class CallSettings:
    """What one ``connect()`` (and the reconnects it leads to) runs with."""

    room_id: str
    signal_url: str
    session: SessionSettings
    connection_timeout: float = 30.0
    auto_reconnect: bool = True
    max_reconnect_attempts: int = 5
    reconnect_base_delay: float = 1.0
    reconnect_max_delay: float = 30.0
