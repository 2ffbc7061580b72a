"""Join tokens and TURN in a FastAPI app:

    RTCROOM_SECRET=... RTCROOM_TURN_SECRET=... uvicorn examples.tokens_app:app

Your backend mints a token for a signed-in user (``GET /token``); the browser puts it in the
signal URL (``/api/call/signal?token=...``), which Agentuity's client passes through untouched.
"""

import os

from fastapi import FastAPI

from rtcroom import IceServers, JoinTokens, Limits, tokens, webrtc

SECRET = os.environ[
    "RTCROOM_SECRET"
]  # at least 32 bytes: python -c 'import secrets; print(secrets.token_urlsafe(32))'

signaling = webrtc(
    max_peers=4,
    auth=JoinTokens(SECRET),
    limits=Limits(allowed_origins=("https://app.example.com",)),
    ice_servers=IceServers(
        stun=["stun:turn.example.com:3478"],
        turn=["turn:turn.example.com:3478"],
        turn_secret=os.environ["RTCROOM_TURN_SECRET"],  # coturn's static-auth-secret
    ),
    on_duplicate_identity="replace",
)

app = FastAPI()
app.router.add_websocket_route("/api/call/signal", signaling)
app.router.add_route("/api/call/signal/ice-servers", signaling.ice_servers, methods=["GET"])


@app.get("/token")
async def token(user: str, room: str) -> dict[str, str]:
    # Check here that `user` is signed in and may enter `room` (your app's own rules).
    return {"token": tokens.create(SECRET, room=room, identity=user, ttl=3600)}
