"""An agent that answers with a tone and a red picture: media the program pushes itself.

``python examples/push_media.py [SIGNAL_URL]`` with ``rtcroom serve`` running.
"""

import asyncio
import sys

import numpy as np

from rtcroom.client import WebRTCCall
from rtcroom.media import PushSource

URL = "ws://127.0.0.1:8000/api/call/signal"
LOOPBACK = {"ice_servers": [], "ice_host_addresses": ["127.0.0.1"]}  # both peers on this machine


async def main(url: str = URL) -> None:
    source = PushSource(video={"fps": 15}, audio={"sample_rate": 48_000})
    async with (
        WebRTCCall("push-demo", url, media=source, **LOOPBACK) as agent,
        WebRTCCall("push-demo", url, **LOOPBACK) as listener,
    ):
        await listener.wait_connected(timeout=20)
        t = np.arange(24_000) / 48_000
        await source.audio.push(0.3 * np.sin(2 * np.pi * 440 * t))  # half a second of A4
        red = np.zeros((240, 320, 3), np.uint8)
        red[..., 0] = 255
        for _ in range(5):
            await source.video.push(red)
        frame = await listener.remote_video(agent.peer_id).next(timeout=20)
        print("the listener sees red:", frame.to_ndarray()[..., 0].mean() > 200)
        source.audio.clear()  # interrupted: drop whatever is still queued


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
