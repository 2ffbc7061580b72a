"""An aiohttp app with an rtcroom signaling endpoint: python examples/aiohttp_app.py"""

from aiohttp import web

from rtcroom.aiohttp import browser_client, webrtc

app = web.Application()
app.router.add_get("/api/call/signal", webrtc(max_peers=4))
# /rtcroom.js, the modules it imports from /rtcroom/, and /rtcroom.d.ts
app.router.add_get("/rtcroom{path:.*}", browser_client())

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=8080)
