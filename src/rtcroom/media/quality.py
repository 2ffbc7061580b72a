"""Connection quality in Agentuity's ``ConnectionQualitySummary`` shape, from aiortc stats.

Where aiortc's ``getStats()`` has less than a browser, the summary fills the gap honestly:

- ``rtt``: the data-channel ping (``ping.py``); without it, the RTCP round-trip time of an
  outgoing RTP stream. ``rtt_source`` says which.
- inbound bitrate: aiortc counts no received bytes, so the monitor counts RTP payload bytes as
  each receiver handles them (``client/aiortc_fixes.py``'s ``ReceivedBytes``, installed when the
  monitor first sees the receiver). If that aiortc internal is missing, it falls back to the
  sender's RTCP sender reports (byte counts with the sender's own timestamps).
- ``packet_loss_percent``: audio and video, over the interval since the previous summary (the
  first summary covers the whole call). Agentuity's is cumulative and audio-only.
- ``jitter``: audio inbound jitter, converted from RTP clock units to milliseconds.
- ``video``: frames per second and size measured on the received frames (``TrackTap``);
  ``frames_dropped`` counts frames rtcroom's readers dropped because they were too slow.
- ``candidate_pair``: the nominated ICE pair of the connection's transport.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from aiortc import RTCPeerConnection

from .frames import TrackTap
from .ping import RttProbe

if TYPE_CHECKING:
    from ..client.aiortc_fixes import ReceivedBytes


@dataclass
class DirectionalBitrate:
    inbound: float | None = None
    outbound: float | None = None


@dataclass
class BitrateSummary:
    audio: DirectionalBitrate | None = None
    video: DirectionalBitrate | None = None


@dataclass
class VideoQuality:
    frames_per_second: float | None = None
    frames_dropped: int | None = None
    frame_width: int | None = None
    frame_height: int | None = None


@dataclass
class CandidatePairInfo:
    local_type: str | None = None
    remote_type: str | None = None
    protocol: str | None = None
    using_relay: bool | None = None


@dataclass
class ConnectionQualitySummary:
    """Agentuity's summary with snake_case names; every field but ``timestamp`` may be None."""

    timestamp: float = field(default_factory=lambda: time.time() * 1000)
    rtt: float | None = None
    rtt_source: str | None = None
    packet_loss_percent: float | None = None
    jitter: float | None = None
    bitrate: BitrateSummary | None = None
    video: VideoQuality | None = None
    candidate_pair: CandidatePairInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        """Agentuity's camelCase JSON shape, leaving out what is unknown."""
        out: dict[str, Any] = _camel(asdict(self))
        return out


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if item is None:
                continue
            head, *rest = key.split("_")
            out[head + "".join(p.title() for p in rest)] = _camel(item)
        return out
    return value


def candidate_pair_info(pc: RTCPeerConnection) -> CandidatePairInfo | None:
    """The nominated ICE pair (aiortc keeps it in aioice's connection, not in getStats)."""
    transports = []
    if pc.sctp is not None:
        transports.append(pc.sctp.transport)
    transports += [t.sender.transport for t in pc.getTransceivers() if t.sender.transport]
    for dtls in transports:
        connection = getattr(dtls.transport, "_connection", None)
        nominated = getattr(connection, "_nominated", None) or {}
        pair = nominated.get(1)
        if pair is None:
            continue
        local, remote = pair.local_candidate, pair.remote_candidate
        return CandidatePairInfo(
            local_type=local.type,
            remote_type=remote.type,
            protocol=str(local.transport).lower(),
            using_relay=local.type == "relay" or remote.type == "relay",
        )
    return None


def _audio_clock_rate(pc: RTCPeerConnection) -> int:
    for transceiver in pc.getTransceivers():
        if transceiver.kind == "audio":
            for codec in getattr(transceiver, "_codecs", None) or []:
                rate = getattr(codec, "clockRate", None)
                if rate:
                    return int(rate)
    return 48_000


class QualityMonitor:
    """Summaries for one peer connection; bitrates come from deltas between calls."""

    def __init__(
        self,
        pc: RTCPeerConnection,
        rtt_probe: RttProbe | None = None,
        video_tap: Callable[[], TrackTap | None] | None = None,
        frames_dropped: Callable[[], int] | None = None,
    ) -> None:
        self.pc = pc
        self.rtt_probe = rtt_probe
        self.video_tap = video_tap
        self.frames_dropped = frames_dropped
        self._last_time: float | None = None
        self._last: dict[str, Any] = {}
        self._sender_reports: dict[str, tuple[float, int]] = {}  # id -> (remote time, bytes)
        self._inbound_rate: dict[str, float] = {}
        self._frames: tuple[float, int] | None = None
        self._counters: dict[int, ReceivedBytes] = {}
        self._counted: dict[int, int] = {}
        self.watch_receivers()

    def watch_receivers(self) -> None:
        """Start counting received bytes of receivers added since (call on each new track)."""
        # Imported here: rtcroom.client imports rtcroom.media.
        from ..client.aiortc_fixes import ReceivedBytes

        for receiver in self.pc.getReceivers():
            key = id(receiver)
            if key not in self._counters and ReceivedBytes.can_count(receiver):
                self._counters[key] = ReceivedBytes(receiver)

    async def get_raw_stats(self) -> dict[str, Any]:
        report: dict[str, Any] = {**await self.pc.getStats()}
        return report

    async def summary(self) -> ConnectionQualitySummary:
        stats = await self.get_raw_stats()
        now = time.monotonic()
        elapsed = now - self._last_time if self._last_time is not None else 0.0
        summary = ConnectionQualitySummary()
        rates: dict[str, DirectionalBitrate] = {}
        lost = received = 0
        for sid, s in stats.items():
            prev = self._last.get(sid)
            if s.type == "outbound-rtp" and prev is not None and elapsed > 0:
                bits = (s.bytesSent - prev.bytesSent) * 8 / elapsed
                rates.setdefault(s.kind, DirectionalBitrate()).outbound = max(0.0, bits)
            elif s.type == "remote-outbound-rtp" and not self._counters:
                rate = self._sender_report_rate(sid, s)
                if rate is not None:
                    rates.setdefault(s.kind, DirectionalBitrate()).inbound = rate
            elif s.type == "inbound-rtp":
                if prev is not None:
                    lost += max(0, s.packetsLost - prev.packetsLost)
                    received += max(0, s.packetsReceived - prev.packetsReceived)
                else:
                    lost += max(0, s.packetsLost)
                    received += s.packetsReceived
                if s.kind == "audio":
                    summary.jitter = s.jitter / _audio_clock_rate(self.pc) * 1000
            elif s.type == "remote-inbound-rtp" and s.roundTripTime and summary.rtt is None:
                summary.rtt, summary.rtt_source = s.roundTripTime * 1000, "rtcp"
        for key, counter in self._counters.items():
            before = self._counted.get(key)
            if before is not None and elapsed > 0:
                bits = (counter.bytes - before) * 8 / elapsed
                rates.setdefault(counter.kind, DirectionalBitrate()).inbound = bits
            self._counted[key] = counter.bytes
        self.watch_receivers()
        if lost + received > 0:
            summary.packet_loss_percent = lost / (lost + received) * 100
        if self.rtt_probe is not None and self.rtt_probe.rtt is not None:
            summary.rtt, summary.rtt_source = self.rtt_probe.rtt, "ping"
        if rates:
            summary.bitrate = BitrateSummary(audio=rates.get("audio"), video=rates.get("video"))
        summary.video = self._video_quality(now)
        summary.candidate_pair = candidate_pair_info(self.pc)
        self._last, self._last_time = stats, now
        return summary

    def _sender_report_rate(self, sid: str, s: Any) -> float | None:
        remote_time = s.remoteTimestamp.timestamp() if s.remoteTimestamp else None
        if remote_time is None:
            return self._inbound_rate.get(sid)
        base = self._sender_reports.get(sid)
        if base is None:
            self._sender_reports[sid] = (remote_time, s.bytesSent)
            return None
        if remote_time > base[0]:
            self._inbound_rate[sid] = max(
                0.0, (s.bytesSent - base[1]) * 8 / (remote_time - base[0])
            )
            self._sender_reports[sid] = (remote_time, s.bytesSent)
        return self._inbound_rate.get(sid)

    def _video_quality(self, now: float) -> VideoQuality | None:
        tap = self.video_tap() if self.video_tap is not None else None
        if tap is None:
            return None
        quality = VideoQuality()
        if tap.last_frame_size is not None:
            quality.frame_width, quality.frame_height = tap.last_frame_size
        if self._frames is not None and now > self._frames[0]:
            quality.frames_per_second = (tap.frames_received - self._frames[1]) / (
                now - self._frames[0]
            )
        self._frames = (now, tap.frames_received)
        quality.frames_dropped = (
            self.frames_dropped() if self.frames_dropped else tap.frames_dropped
        )
        return quality
