"""``GET /metrics``: one hub's counters in the Prometheus text format (``rtcroom[metrics]``).

The hub keeps plain counters (:mod:`rtcroom.telemetry`); this collector turns them into metric
families only when Prometheus scrapes, so signaling pays nothing for metrics it is not asked
for. Values are per process: scrape every process of a ``--redis`` cluster and sum.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from ._extras import MissingExtraError, require

if TYPE_CHECKING:
    from .hub import SignalingHub
    from .webhooks import Webhooks

EXTRA: Final = "metrics"
NOT_INSTALLED: Final = (
    "metrics need prometheus-client, which is not installed; run: pip install 'rtcroom[metrics]'\n"
)
"""The 404 body of ``/metrics`` without the extra (and ``rtcroom serve --metrics``'s warning)."""

METRICS: Final[dict[str, tuple[str, str, tuple[str, ...]]]] = {
    # name (as exposed): (type, help, labels)
    "rtcroom_rooms": ("gauge", "Rooms with at least one peer connected to this process", ()),
    "rtcroom_peers": ("gauge", "Peers connected to this process", ()),
    "rtcroom_away_peers": (
        "gauge",
        "Peers of this process whose socket dropped, held for a resume",
        (),
    ),
    "rtcroom_joins_total": ("counter", "Joins admitted", ()),
    "rtcroom_join_refusals_total": ("counter", "Joins refused, by reason", ("reason",)),
    "rtcroom_leaves_total": ("counter", "Peers that left, by reason", ("reason",)),
    "rtcroom_rooms_started_total": ("counter", "Rooms opened by a first join here", ()),
    "rtcroom_rooms_finished_total": ("counter", "Rooms closed by a last leave here", ()),
    "rtcroom_relayed_frames_total": ("counter", "sdp/ice frames relayed, by kind", ("kind",)),
    "rtcroom_relayed_bytes_total": (
        "counter",
        "Size of the relayed sdp/ice frames as received, by kind",
        ("kind",),
    ),
    "rtcroom_errors_total": ("counter", "Errors, by kind", ("kind",)),
    "rtcroom_socket_refusals_total": (
        "counter",
        "Sockets refused before joining, by close code (auth, 44xx) or HTTP status (403, 429)",
        ("code",),
    ),
    "rtcroom_backend_up": ("gauge", "1 while the room backend admits joins, else 0", ()),
    "rtcroom_webhook_events_total": (
        "counter",
        "Webhook events, by outcome (delivered, failed after retries, dropped: queue full)",
        ("outcome",),
    ),
    "rtcroom_webhook_queue": ("gauge", "Webhook events waiting to be sent", ()),
}
"""Every metric rtcroom exposes (documented in docs/operations.md)."""


def available() -> bool:
    """Whether prometheus-client is installed."""
    try:
        require(EXTRA, __name__, "prometheus_client")
    except MissingExtraError:
        return False
    return True


class HubCollector:
    """A prometheus-client collector reading one hub (and its webhooks) at scrape time."""

    def __init__(self, hub: SignalingHub, webhooks: Webhooks | None = None) -> None:
        require(EXTRA, __name__, "prometheus_client")
        self.hub = hub
        self.webhooks = webhooks

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        def family(name: str) -> Any:
            kind, help_text, labels = METRICS[name]
            if kind == "counter":
                return CounterMetricFamily(name.removesuffix("_total"), help_text, labels=labels)
            return GaugeMetricFamily(name, help_text, labels=labels)

        def single(name: str, value: float) -> Any:
            metric = family(name)
            metric.add_metric([], value)
            return metric

        def labelled(name: str, values: dict[Any, int]) -> Any:
            metric = family(name)
            for label, value in sorted(values.items()):
                metric.add_metric([str(label)], value)
            return metric

        hub, t = self.hub, self.hub.telemetry
        local = hub.local_peers()
        yield single("rtcroom_rooms", len(set(local.values())))
        yield single("rtcroom_peers", len(local))
        yield single("rtcroom_away_peers", len(hub.away_peers()))
        yield single("rtcroom_joins_total", t.joins)
        yield labelled("rtcroom_join_refusals_total", t.join_refusals)
        yield labelled("rtcroom_leaves_total", t.leaves)
        yield single("rtcroom_rooms_started_total", t.rooms_started)
        yield single("rtcroom_rooms_finished_total", t.rooms_finished)
        yield labelled("rtcroom_relayed_frames_total", t.relayed_frames)
        yield labelled("rtcroom_relayed_bytes_total", t.relayed_bytes)
        yield labelled("rtcroom_errors_total", t.errors)
        yield labelled("rtcroom_socket_refusals_total", t.socket_refusals)
        yield single("rtcroom_backend_up", 1 if getattr(hub.backend, "available", True) else 0)
        if self.webhooks is not None:
            yield labelled("rtcroom_webhook_events_total", self.webhooks.outcomes)
            yield single("rtcroom_webhook_queue", self.webhooks.queued)


def exposition(hub: SignalingHub, webhooks: Webhooks | None = None) -> tuple[bytes, str]:
    """The scrape body and its content type: the hub's metrics, then the process's default
    registry (``process_*``, ``python_*`` and whatever the host app registered)."""
    require(EXTRA, __name__, "prometheus_client")
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(HubCollector(hub, webhooks))
    return generate_latest(registry) + generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class MetricsEndpoint:
    """An ASGI app for ``GET /metrics``; 404 with what to install when the extra is missing."""

    def __init__(self, hub: SignalingHub, webhooks: Webhooks | None = None) -> None:
        self.hub = hub
        self.webhooks = webhooks

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if available():
            status, (body, content_type) = 200, exposition(self.hub, self.webhooks)
        else:
            status, body, content_type = 404, NOT_INSTALLED.encode(), "text/plain; charset=utf-8"
        headers = [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def metrics_endpoint(hub: SignalingHub, webhooks: Webhooks | None = None) -> MetricsEndpoint:
    """Mount at ``/metrics`` in your app: ``app.router.add_route("/metrics",
    metrics_endpoint(signaling.hub))``."""
    return MetricsEndpoint(hub, webhooks)
