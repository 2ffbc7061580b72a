"""A chat bot for the demo page of ``rtcroom serve``: it joins a room and answers every message.

Run ``rtcroom serve``, open http://127.0.0.1:8000/#lobby, press "Join data-only (chat)", then
``python examples/chat_bot.py lobby``. Ctrl-C stops the bot.
"""

import argparse
import asyncio
import json

from rtcroom.client import (
    DataChannelConfig,
    DataChannelMessageEvent,
    DataChannelOpenEvent,
    WebRTCCall,
)

URL = "ws://127.0.0.1:8000/api/call/signal"  # `rtcroom serve`


# --8<-- [start:bot]
CHAT = DataChannelConfig("chat", ordered=True)  # the demo page's channel


def chat_text(data: object) -> str:
    """A chat message as the demo page shows it: a string as is, anything else as JSON."""
    return data if isinstance(data, str) else json.dumps(data)


async def run_bot(room: str, url: str, ice_host_addresses: list[str] | None = None) -> None:
    async with WebRTCCall(
        room, url, data_channels=[CHAT], ice_servers=[], ice_host_addresses=ice_host_addresses
    ) as call:
        print(f"chat bot {call.peer_id} is in room {room!r}", flush=True)
        async with call.events() as events:
            async for event in events:
                if isinstance(event, DataChannelOpenEvent) and event.label == "chat":
                    call.send_json_to(event.peer_id, "chat", "Hello! I am a bot. Say something.")
                elif isinstance(event, DataChannelMessageEvent) and event.label == "chat":
                    text = chat_text(event.data)
                    print(f"{event.peer_id}: {text}", flush=True)
                    call.send_json_to(event.peer_id, "chat", f"You said: {text}")
                    # --8<-- [end:bot]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("room", help="the room name (what follows # in the demo page's address)")
    parser.add_argument("--url", default=URL, help=f"signaling URL (default {URL})")
    parser.add_argument(
        "--ice-host",
        action="append",
        metavar="ADDRESS",
        help="gather ICE candidates only on this address (repeatable; 127.0.0.1 when the "
        "browser is on this machine and there is no network)",
    )
    args = parser.parse_args()
    try:
        asyncio.run(run_bot(args.room, args.url, args.ice_host))
    except KeyboardInterrupt:
        print("chat bot stopped")


if __name__ == "__main__":
    main()
