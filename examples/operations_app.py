"""The operator's endpoints in your own FastAPI app: metrics, the admin API, webhooks and
JSON-ready event logs for the rooms of ``signaling``.

    pip install 'rtcroom[metrics]'
    RTCROOM_ADMIN_SECRET=... RTCROOM_WEBHOOK_SECRET=... uvicorn examples.operations_app:app
"""

import os

from fastapi import FastAPI

from rtcroom import webrtc
from rtcroom.admin import admin_api
from rtcroom.logs import log_events
from rtcroom.metrics import metrics_endpoint
from rtcroom.webhooks import Webhooks

signaling = webrtc(max_peers=4)
webhooks = Webhooks(
    [os.environ.get("WEBHOOK_URL", "http://127.0.0.1:8001/rtcroom-events")],
    secret=os.environ["RTCROOM_WEBHOOK_SECRET"],
).attach(signaling.hub)  # signed POSTs for room started/finished, peer joined/left
log_events(signaling.hub)  # a log record per join, leave, refusal and error (rtcroom.events)

app = FastAPI()
app.router.add_websocket_route("/api/call/signal", signaling)
app.router.add_route("/metrics", metrics_endpoint(signaling.hub, webhooks))  # Prometheus
# GET /admin/rooms, POST /admin/peers/{peer id}/kick; Bearer secret (None: local requests only)
app.mount("/admin", admin_api(signaling.hub, secret=os.environ.get("RTCROOM_ADMIN_SECRET")))
