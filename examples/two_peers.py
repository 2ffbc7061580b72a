"""Two Python peers in one room send each other a chat message over a data channel.

Start a server (``rtcroom serve``), then ``python examples/two_peers.py [SIGNAL_URL]``.
"""

import asyncio
import sys

from rtcroom.client import DataChannelConfig, DataChannelMessageEvent, WebRTCCall

URL = "ws://127.0.0.1:8000/api/call/signal"  # `rtcroom serve`
# Both peers on this machine: no ICE servers, gather only on loopback. Drop both on a network.
LOCAL = {"ice_servers": [], "ice_host_addresses": ["127.0.0.1"]}


async def main(url: str = URL) -> None:
    chat = [DataChannelConfig("chat")]
    async with WebRTCCall("demo", url, data_channels=chat, **LOCAL) as alice:
        async with WebRTCCall("demo", url, data_channels=chat, **LOCAL) as bob:
            await asyncio.gather(alice.wait_connected(timeout=10), bob.wait_connected(timeout=10))
            async with alice.events() as events:
                bob.send_json("chat", {"text": "hi alice"})
                async for event in events:
                    if isinstance(event, DataChannelMessageEvent):
                        print(event.peer_id == bob.peer_id, event.data)
                        break


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
