"""rtcroom inside an aiohttp app, with the demo page to try it.

``python examples/aiohttp_app.py``, then open http://127.0.0.1:8080/ in two tabs.
"""

from aiohttp import web

from rtcroom.aiohttp import browser_client, webrtc

app = web.Application()
app.router.add_get("/api/call/signal", webrtc(max_peers=4))
app.router.add_get("/rtcroom.js", browser_client())  # the browser client
app.router.add_get("/", browser_client("index.html"))  # the demo page, which imports it

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=8080)
