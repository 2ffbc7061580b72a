"""Calls that survive a dropped socket and a restart, in a FastAPI app:

    RTCROOM_SECRET=... uvicorn examples.resume_app:app --ws websockets-sansio

Peers that join with ``resume: true`` (rtcroom's clients do) get a resume token. If their socket
dies without a close frame, they stay in the room for ``grace`` seconds and frames sent to them
wait in a buffer; they come back under the same peer id with the token. The key is derived from
a deployment secret, so tokens issued before a restart (or by another process) still verify.
"""

import os

from fastapi import FastAPI

from rtcroom import Resume, webrtc
from rtcroom.resume import derive_secret

signaling = webrtc(
    max_peers=4,
    resume=Resume(
        secret=derive_secret(os.environ["RTCROOM_SECRET"]),  # never the raw secret itself
        grace=60.0,  # seconds an away peer keeps its place (0 turns resume off)
        buffer=256,  # frames kept for an away peer; past it, it is told to renegotiate
    ),
)

app = FastAPI()
app.router.add_websocket_route("/api/call/signal", signaling)
