"""Reuse your app's own login: uvicorn examples.cookie_auth_app:app

``auth`` gets the WebSocket handshake (headers, cookies, query, client address) and returns an
``Identity`` or ``None`` (the socket is then closed with 4406 "Not authorized").
"""

from fastapi import FastAPI

from rtcroom import Identity, RequestInfo, webrtc

SESSIONS = {"s-alice": "alice", "s-bob": "bob"}  # your session store


async def auth(request: RequestInfo) -> Identity | None:
    user = SESSIONS.get(request.cookies.get("session", ""))
    if user is None:
        return None
    return Identity(user, room="*", name=user.title())


signaling = webrtc(max_peers=4, auth=auth)

app = FastAPI()
app.router.add_websocket_route("/api/call/signal", signaling)


@app.get("/who")
async def who() -> dict[str, str]:
    return {peer: identity.sub for peer, identity in signaling.hub.local_identities().items()}
