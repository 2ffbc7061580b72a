"""The operator's endpoints for aiohttp apps: ``/metrics`` and the admin API::

    app.router.add_get("/metrics", metrics_handler(handler.hub))
    app.router.add_route("*", "/admin/{rest:.*}", admin_handler(handler.hub, secret=...))

They are the ASGI endpoints of :mod:`rtcroom.metrics` and :mod:`rtcroom.admin`, run by a small
bridge, so both frameworks answer alike.
"""

from __future__ import annotations

from ._extras import require

require("aiohttp", __name__, "aiohttp")

from typing import Any

from aiohttp import web

from .admin import DEFAULT_PREFIX, admin_api
from .aiohttp import _mark_async
from .hub import SignalingHub
from .metrics import metrics_endpoint
from .webhooks import Webhooks


class AsgiHttpHandler:
    """An aiohttp handler running a plain ASGI HTTP app that answers with one body."""

    def __init__(self, app: Any, root_path: str = "") -> None:
        self.app = app
        self.root_path = root_path
        _mark_async(self)

    async def __call__(self, request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        body = await request.read()
        scope = {
            "type": "http",
            "method": request.method,
            "path": request.path,
            "root_path": self.root_path,
            "query_string": request.query_string.encode("latin-1"),
            "headers": [
                (k.lower().encode("latin-1"), v.encode("latin-1"))
                for k, v in request.headers.items()
            ],
            "client": (str(peer[0]), int(peer[1])) if peer else None,
        }
        answer: dict[str, Any] = {"status": 500, "headers": {}, "body": []}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["headers"] = {
                    k.decode("latin-1"): v.decode("latin-1")
                    for k, v in message.get("headers", [])
                    if k.lower() != b"content-length"  # aiohttp counts the body itself
                }
            elif message["type"] == "http.response.body":
                answer["body"].append(message.get("body", b""))

        await self.app(scope, receive, send)
        return web.Response(
            status=answer["status"], headers=answer["headers"], body=b"".join(answer["body"])
        )


def metrics_handler(hub: SignalingHub, webhooks: Webhooks | None = None) -> AsgiHttpHandler:
    """``GET /metrics`` for aiohttp (see :func:`rtcroom.metrics.metrics_endpoint`)."""
    return AsgiHttpHandler(metrics_endpoint(hub, webhooks))


def admin_handler(
    hub: SignalingHub, secret: str | None = None, prefix: str = DEFAULT_PREFIX
) -> AsgiHttpHandler:
    """The admin API for aiohttp; route ``"*"`` on ``<prefix>/{rest:.*}`` to it."""
    return AsgiHttpHandler(admin_api(hub, secret), root_path=prefix.rstrip("/"))
