"""rtcroom inside a FastAPI app, with the demo page to try it.

FastAPI is not a dependency of rtcroom: ``pip install fastapi``, then, from the repository root,
``uvicorn examples.fastapi_app:app`` and open http://127.0.0.1:8000/ in two tabs.
"""

from fastapi import FastAPI

from rtcroom import SignalingCallbacks
from rtcroom.asgi import browser_client, webrtc


def on_peer_join(peer_id: str, room_id: str) -> None:
    print(f"{peer_id} joined {room_id}")


signaling = webrtc(max_peers=4, callbacks=SignalingCallbacks(on_peer_join=on_peer_join))

app = FastAPI()
app.router.add_websocket_route("/api/call/signal", signaling)
app.router.add_route("/rtcroom.js", browser_client())  # the browser client
app.router.add_route("/", browser_client("index.html"))  # the demo page, which imports it


@app.get("/rooms")
async def rooms() -> dict[str, list[str]]:
    return await signaling.hub.get_rooms()
