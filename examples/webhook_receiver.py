"""Receive rtcroom's webhooks in your app (Starlette here; any framework reads the same three
headers):

    RTCROOM_WEBHOOK_SECRET=... uvicorn examples.webhook_receiver:app --port 8001
    RTCROOM_WEBHOOK_SECRET=... rtcroom serve --webhook-url http://127.0.0.1:8001/rtcroom-events
"""

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from rtcroom.webhooks import WebhookSignatureError, verify

SECRET = os.environ["RTCROOM_WEBHOOK_SECRET"]  # the same value rtcroom serve has
handled: set[str] = set()  # event ids; a real app keeps them in its database


async def rtcroom_events(request: Request) -> Response:
    body = await request.body()  # the raw bytes: the signature covers them exactly
    try:
        event = verify(
            SECRET,
            body,
            request.headers.get("X-Rtcroom-Timestamp"),
            request.headers.get("X-Rtcroom-Signature"),
        )
    except WebhookSignatureError as exc:  # not from rtcroom, altered, or replayed
        return PlainTextResponse(str(exc), status_code=401)
    if event["id"] not in handled:  # a retry of an event already handled: answer 2xx again
        handled.add(event["id"])
        who = (event.get("identity") or {}).get("sub") or event.get("peerId") or ""
        print(event["event"], event["roomId"], who, event.get("reason") or "", flush=True)
    return Response(status_code=204)  # any 2xx stops the retries


app = Starlette(routes=[Route("/rtcroom-events", rtcroom_events, methods=["POST"])])
