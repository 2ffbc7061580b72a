"""The operator's endpoints in an aiohttp app (``python examples/operations_aiohttp.py``):
``/metrics`` (``pip install 'rtcroom[metrics]'``) and the admin API at ``/admin``.
"""

import os

from aiohttp import web

from rtcroom.aiohttp import webrtc
from rtcroom.aiohttp_ops import admin_handler, metrics_handler

signaling = webrtc(max_peers=4)

app = web.Application()
app.router.add_get("/api/call/signal", signaling)
app.router.add_get("/metrics", metrics_handler(signaling.hub))
admin = admin_handler(signaling.hub, secret=os.environ.get("RTCROOM_ADMIN_SECRET"))
app.router.add_route("*", "/admin/{rest:.*}", admin)  # GET /admin/rooms, POST .../kick

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=8000)
