"""A bot that watches a peer's video and audio as numpy arrays, and a sender that mutes itself.

``python examples/watch_and_mute.py [SIGNAL_URL]`` with ``rtcroom serve`` running.
"""

import asyncio
import sys

from rtcroom.client import WebRTCCall
from rtcroom.media import TestPatternSource

URL = "ws://127.0.0.1:8000/api/call/signal"
LOOPBACK = {"ice_servers": [], "ice_host_addresses": ["127.0.0.1"]}


async def main(url: str = URL) -> None:
    camera = TestPatternSource(video={"width": 640, "height": 480, "fps": 30})
    async with (
        WebRTCCall("demo", url, media=camera, **LOOPBACK) as sender,
        WebRTCCall("demo", url, **LOOPBACK) as watcher,
    ):
        await watcher.wait_connected(timeout=20)

        video = watcher.remote_video(sender.peer_id)  # waits for the track if needed
        audio = watcher.remote_audio(sender.peer_id, sample_rate=16_000, channels=1)
        frame = await video.next(timeout=20)
        print(frame.to_ndarray().shape)  # (480, 640, 3) uint8 RGB
        print((await audio.next(timeout=20)).to_ndarray().shape)  # (samples, 1) int16

        sender.mute_video(True)  # the watcher now gets black frames, not a frozen picture
        sender.mute_audio(True)  # ... and silence
        print(sender.is_video_muted, sender.is_audio_muted)  # True True
        sender.mute_video(False)
        sender.mute_audio(False)

        count = 0
        async for _frame in video:  # a slow loop skips frames; it never falls behind
            count += 1
            if count == 10:
                break
        video.close()
        print(f"read {count} more frames")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
