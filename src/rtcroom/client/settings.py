"""Frozen, checked snapshots of a call's options: for its lifecycle and for each peer session.

``connect()`` takes the snapshot, so an option changed on the call later applies from the next
``connect()`` on, never halfway through a join, a reconnect or a negotiation; a bad value is a
``ValueError`` naming the option (at construction, or at the ``connect()`` after the change).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from aiortc import RTCConfiguration, RTCIceTransportPolicy

from .. import ice
from .channels import DataChannelConfig
from .refusals import redact


@dataclass(frozen=True, slots=True)
class SessionSettings:
    data_channels: tuple[DataChannelConfig, ...] = ()
    """Channels the offering side opens with each peer."""
    polite: bool | None = None
    """Glare rule: None compares peer ids as browsers do (the greater id is impolite)."""
    ice_servers: tuple[Any, ...] | None = None
    """As :func:`rtcroom.ice.rtc_configuration` takes them (None: Agentuity's STUN default)."""
    ice_host_addresses: tuple[str, ...] | None = None
    ice_transport_policy: Literal["all", "relay"] = "all"
    """``relay``: only TURN relay candidates (the browser's ``iceTransportPolicy``)."""
    negotiation_timeout: float = 30.0
    """Default bound of :meth:`PeerSession.renegotiate` (the call's ``connection_timeout``)."""
    ice_gathering_timeout: float = 10.0
    udp_receive_buffer: int | None = None
    large_sctp_packets: bool = True
    """Probe for 16 KiB SCTP packets toward rtcroom peers (docs/protocol.md); False: never."""

    def __post_init__(self) -> None:
        _positive("connection_timeout", self.negotiation_timeout)
        if not isinstance(self.large_sctp_packets, bool):
            raise ValueError(
                f"large_sctp_packets must be True or False, got {self.large_sctp_packets!r}"
            )
        _positive("ice_gathering_timeout", self.ice_gathering_timeout)
        if self.ice_transport_policy not in ("all", "relay"):
            raise ValueError(
                f"ice_transport_policy must be 'all' or 'relay', got {self.ice_transport_policy!r}"
            )
        labels = [config.label for config in self.data_channels]
        if len(set(labels)) != len(labels):
            raise ValueError(f"data channel labels must be unique, got {labels}")
        self.rtc_configuration()  # a bad ICE server fails now, not at the first peer

    def is_polite(self, own_id: str | None, remote_id: str) -> bool:
        return self.polite if self.polite is not None else not (own_id or "") > remote_id

    def rtc_configuration(self) -> RTCConfiguration:
        configuration = ice.rtc_configuration(self.ice_servers)
        if self.ice_transport_policy == "relay":
            configuration.iceTransportPolicy = RTCIceTransportPolicy.RELAY
        return configuration


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
    token: str | None = None
    """Sent as ``Authorization: Bearer`` (a ``?token=`` in ``signal_url`` works too)."""
    resume: bool = True
    """Ask the server for a resume token, so a signaling outage keeps the peer connections."""

    def __post_init__(self) -> None:
        if not isinstance(self.room_id, str) or not self.room_id:
            raise ValueError(f"room_id must be a non-empty string, got {self.room_id!r}")
        url = self.signal_url
        if not isinstance(url, str) or not url.startswith(("ws://", "wss://")):
            raise ValueError(
                f"signal_url must be a ws:// or wss:// URL such as "
                f"'ws://127.0.0.1:8000/api/call/signal', got "
                f"{redact(url) if isinstance(url, str) else url!r}"
            )
        if self.token is not None:
            if not isinstance(self.token, str) or not self.token.strip():
                raise ValueError("token must be a non-empty string (a join token) or None")
            if "token" in parse_qs(urlsplit(url).query):
                raise ValueError(
                    "the token is given twice: as token= and as ?token= in signal_url; pass one"
                )
        _positive("connection_timeout", self.connection_timeout)
        _positive("reconnect_base_delay", self.reconnect_base_delay)
        _positive("reconnect_max_delay", self.reconnect_max_delay)
        if not isinstance(self.resume, bool):
            raise ValueError(f"resume must be True or False, got {self.resume!r}")
        attempts = self.max_reconnect_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 0:
            raise ValueError(f"max_reconnect_attempts must be 0 or more, got {attempts!r}")


def _positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
