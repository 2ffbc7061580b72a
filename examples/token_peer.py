"""A Python peer on a token-protected server, relaying through the server's TURN.

    RTCROOM_TOKEN=$(rtcroom token create --room demo --identity bot) \
        python examples/token_peer.py [SIGNAL_URL]

The token goes as ``Authorization: Bearer``; the STUN/TURN servers (and fresh TURN credentials
on a long call) come from the server. A refused token ends the call with ``AuthError``: no
reconnect loop, and the message says what to do without showing the token.
"""

import asyncio
import os
import sys

from rtcroom.client import AuthError, WebRTCCall

URL = "ws://127.0.0.1:8000/api/call/signal"


async def main(url: str = URL) -> None:
    token = os.environ.get("RTCROOM_TOKEN")  # from your app's backend, never hard-coded
    call = WebRTCCall("demo", url, token=token, ice_transport_policy="relay")
    try:
        await call.connect()
    except AuthError as error:
        print(f"refused ({error.code}): {error}")
        return
    try:
        print(f"joined as {call.peer_id}")
    finally:
        await call.hangup()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
