"""A FastAPI app with an rtcroom signaling endpoint: uvicorn examples.fastapi_app:app"""

from fastapi import FastAPI

from rtcroom import SignalingCallbacks, webrtc
from rtcroom.asgi import browser_client


def on_peer_join(peer_id: str, room_id: str) -> None:
    print(f"{peer_id} joined {room_id}")


signaling = webrtc(max_peers=4, callbacks=SignalingCallbacks(on_peer_join=on_peer_join))

app = FastAPI()
app.router.add_websocket_route("/api/call/signal", signaling)
# /rtcroom.js, the modules it imports from /rtcroom/, and /rtcroom.d.ts
app.router.add_route("/rtcroom{path:path}", browser_client())


@app.get("/rooms")
async def rooms() -> dict[str, list[str]]:
    return await signaling.hub.get_rooms()
