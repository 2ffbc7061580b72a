"""Record what a peer sends, with a pause that is cut out of the file.

``python examples/record.py [SIGNAL_URL]`` with ``rtcroom serve`` running.
"""

import asyncio
import sys

import av

from rtcroom.client import WebRTCCall
from rtcroom.media import TestPatternSource

URL = "ws://127.0.0.1:8000/api/call/signal"
LOOPBACK = {"ice_servers": [], "ice_host_addresses": ["127.0.0.1"]}


async def main(url: str = URL) -> None:
    async with (
        WebRTCCall("rec", url, media=TestPatternSource(), **LOOPBACK) as speaker,
        WebRTCCall("rec", url, **LOOPBACK) as recorder,
    ):
        await recorder.wait_connected(timeout=20)
        await recorder.remote_video(speaker.peer_id).next(timeout=20)  # media is flowing

        handle = recorder.start_recording(speaker.peer_id, video_bits_per_second=1_000_000)
        local = speaker.start_recording("local")  # what the speaker sends
        assert handle is not None and local is not None  # None: no such stream
        await asyncio.sleep(1.0)
        handle.pause()  # state "paused": nothing is written, and the gap is cut out
        await asyncio.sleep(1.0)
        handle.resume()
        await asyncio.sleep(1.0)
        path = await handle.stop()  # -> pathlib.Path of a webm (VP8 + Opus)
        print(handle.mime_type, path)
        with av.open(str(path)) as container:
            print(f"{container.duration / 1e6:.1f} s")  # about 2 seconds, not 3
        print(await speaker.stop_all_recordings())  # {"local": PosixPath(...)}


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
