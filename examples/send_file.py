"""Send a file of any size from one peer to another with bounded memory (back-pressure).

``python examples/send_file.py FILE [SIGNAL_URL]`` (with ``rtcroom serve`` running): two peers
in one process; the receiver writes ``FILE.received``.
"""

import asyncio
import sys
from pathlib import Path

from rtcroom.client import DataChannelMessageEvent, WebRTCCall

URL = "ws://127.0.0.1:8000/api/call/signal"
LOCAL = {"ice_servers": [], "ice_host_addresses": ["127.0.0.1"]}  # both peers on this machine


# --8<-- [start:send_file]
async def send_file(call: WebRTCCall, path: Path) -> None:
    with path.open("rb") as f:
        while chunk := f.read(64 * 1024):  # aiortc accepts messages up to 64 KiB from browsers
            call.send_binary("file", chunk)
            await call.drain("file")  # wait while more than 1 MiB is queued
    call.send_json("file", {"done": path.name})
    # --8<-- [end:send_file]


async def receive_file(call: WebRTCCall, target: Path) -> int:
    """Write binary messages on "file" to ``target`` until the JSON end marker arrives."""
    size = 0
    with target.open("wb") as out:
        async with call.events() as events:
            async for event in events:
                if isinstance(event, DataChannelMessageEvent) and event.label == "file":
                    if isinstance(event.data, bytes):
                        size += out.write(event.data)
                    else:
                        return size
    return size


async def main(path: str, url: str = URL) -> None:
    source, target = Path(path), Path(path + ".received")
    async with (
        WebRTCCall("files", url, data_channels=["file"], **LOCAL) as receiver,
        WebRTCCall("files", url, data_channels=["file"], **LOCAL) as sender,
    ):
        await asyncio.gather(sender.wait_connected(timeout=10), receiver.wait_connected(timeout=10))
        received = asyncio.create_task(receive_file(receiver, target))
        await asyncio.sleep(0)  # the receiver listens before anything is sent
        await send_file(sender, source)
        print(f"received {await asyncio.wait_for(received, 60)} bytes into {target}")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
