"""Two Python peers keep their call while the signaling server restarts.

Start a server (``rtcroom serve``), then ``python examples/keep_call.py [SIGNAL_URL [SECONDS]]``
and restart the server while it runs (stop it and start it again within 30 s). Alice sends Bob
a number every 100 ms the whole time: signaling goes and comes back, the call does not notice.
"""

import asyncio
import sys

from rtcroom.client import CallCallbacks, WebRTCCall

URL = "ws://127.0.0.1:8000/api/call/signal"  # `rtcroom serve`
# Both peers on this machine: no ICE servers, gather only on loopback. Drop both on a network.
LOCAL = {"ice_servers": [], "ice_host_addresses": ["127.0.0.1"]}


def say(*words: object) -> None:
    print(*words, flush=True)


async def main(url: str = URL, seconds: str = "30") -> None:
    got: list[int] = []
    alice_sees = CallCallbacks(
        on_signaling_lost=lambda reason: say(f"signaling lost ({reason}); the call goes on"),
        on_signaling_restored=lambda resumed: say(
            "signaling back:", "resumed, same peer ids" if resumed else "rejoined as a new peer"
        ),
        on_peer_left=lambda peer_id: say(f"peer {peer_id} left"),
    )
    bob_sees = CallCallbacks(on_data_channel_message=lambda peer_id, label, n: got.append(n))
    async with (
        WebRTCCall("demo", url, data_channels=["chat"], callbacks=alice_sees, **LOCAL) as alice,
        WebRTCCall("demo", url, data_channels=["chat"], callbacks=bob_sees, **LOCAL) as bob,
    ):
        await asyncio.gather(alice.wait_connected(timeout=10), bob.wait_connected(timeout=10))
        say("connected; restart the server now")
        sent = 0
        for _ in range(int(float(seconds) * 10)):
            if alice.send_json("chat", sent):  # works while signaling is away, too
                sent += 1
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # the last numbers arrive
        in_order = got == list(range(sent))
        say(
            f"bob got {len(got)} of {sent}, in order: {in_order}; signaling {alice.signaling_state}"
        )


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
