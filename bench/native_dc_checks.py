"""Correctness checks behind the native data-channel evaluation (docs/native-datachannels.md).

In one process, on loopback (run inside a loopback-only namespace, Python >= 3.12 with
``libdatachannel-py``, ``aiolibdatachannel`` and ``rtcroom[client]``)::

    unshare -n sh -c 'ip link set lo up && PY312/bin/python bench/native_dc_checks.py'

1. libdatachannel-py -> aiortc: 20,000 numbered messages on a reliable ordered channel arrive
   complete and in order; the channel's options (unordered, maxRetransmits=0, protocol) reach
   aiortc as negotiated; text and binary both arrive as sent.
2. libdatachannel-py receiver memory: a sender pushes 256 MiB with back-pressure to a receiver
   that reads slowly, once with libdatachannel's message callback (every message hops to the
   loop at once) and once pulling with ``receive()`` only while the loop keeps up; RSS growth.
3. aiolibdatachannel receiver with a slow reader: how many of 3,000 reliable, ordered messages
   its receive queue (1,024 messages, drops the oldest when full) hands to the reader.
4. libdatachannel-py -> Chromium: the same 20,000 numbered messages and channel options, as the
   page's ``RTCDataChannel`` sees them.
"""

from __future__ import annotations

import asyncio
import os
import struct
import sys
import time
from typing import Any

from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from rtcroom import ice
from rtcroom.testing import rss_bytes

MIB = 1024 * 1024


def ldc_pc() -> Any:
    import libdatachannel as ldc

    cfg = ldc.Configuration()
    cfg.ice_servers = []
    cfg.disable_auto_negotiation = True
    cfg.bind_address = "127.0.0.1"  # libjuice skips loopback interfaces otherwise
    return ldc.PeerConnection(cfg)


async def gathered(pc: Any) -> str:
    """The local description once ICE gathering is complete (candidates inline)."""
    import libdatachannel as ldc

    for _ in range(200):
        if pc.gathering_state() == ldc.PeerConnection.GatheringState.Complete:
            return str(pc.local_description())
        await asyncio.sleep(0.01)
    raise TimeoutError("libdatachannel gathered no candidates in 2 s")


async def ldc_offers_to_aiortc(
    options: list[tuple[str, Any]],
) -> tuple[Any, RTCPeerConnection, list[Any], list[RTCDataChannel]]:
    import libdatachannel as ldc

    a = ldc_pc()
    channels = []
    for label, init in options:
        channels.append(a.create_data_channel(label, init))
    a.set_local_description(ldc.Description.Type.Offer)
    offer = await gathered(a)
    b = RTCPeerConnection(ice.rtc_configuration([]))
    remote: list[RTCDataChannel] = []
    b.on("datachannel", remote.append)
    await b.setRemoteDescription(RTCSessionDescription(offer, "offer"))
    with ice.host_addresses(["127.0.0.1"]):
        await b.setLocalDescription(await b.createAnswer())
    a.set_remote_description(ldc.Description(b.localDescription.sdp, "answer"))
    for _ in range(500):
        if len(remote) == len(options) and all(c.is_open() for c in channels):
            break
        await asyncio.sleep(0.01)
    return a, b, channels, remote


async def check_ordered_and_options() -> None:
    import libdatachannel as ldc

    unordered = ldc.DataChannelInit()
    rel = ldc.Reliability()
    rel.unordered = True
    rel.max_retransmits = 0
    unordered.reliability = rel
    unordered.protocol = "telemetry"
    a, b, (reliable, _lossy), remote = await ldc_offers_to_aiortc(
        [("reliable", None), ("lossy", unordered)]
    )
    got = {c.label: c for c in remote}
    r, u = got["reliable"], got["lossy"]
    print(
        f"1. options seen by aiortc: reliable ordered={r.ordered} maxRetransmits="
        f"{r.maxRetransmits}; lossy ordered={u.ordered} maxRetransmits={u.maxRetransmits} "
        f"protocol={u.protocol!r}"
    )
    n = 20_000
    received: list[int] = []
    kinds: list[type] = []
    done = asyncio.Event()

    def on_message(m: str | bytes) -> None:
        kinds.append(type(m))
        if isinstance(m, bytes) and len(m) >= 4:
            received.append(struct.unpack_from("!I", m)[0])
            if len(received) == n:
                done.set()

    r.on("message", on_message)
    reliable.send("hello")
    for i in range(n):
        while reliable.buffered_amount() > 1 * MIB:  # noqa: ASYNC110 - the plain poll is the point
            await asyncio.sleep(0.001)
        reliable.send(struct.pack("!I", i) + os.urandom(1020))
    await asyncio.wait_for(done.wait(), 60)
    print(
        f"   reliable ordered: {len(received)}/{n} arrived, in order: {received == list(range(n))}"
        f", first message a str: {kinds[0] is str}"
    )
    a.close()
    await b.close()


async def check_receiver_memory(pull: bool, total: int) -> None:
    import libdatachannel as ldc

    loop = asyncio.get_running_loop()
    tx, rx = ldc_pc(), ldc_pc()
    opened = asyncio.Event()
    incoming: list[Any] = []
    rx.on_data_channel(lambda dc: incoming.append(dc))
    ch = tx.create_data_channel("bulk")
    ch.on_open(lambda: loop.call_soon_threadsafe(opened.set))
    tx.set_local_description(ldc.Description.Type.Offer)
    rx.set_remote_description(ldc.Description(await gathered(tx), "offer"))
    rx.set_local_description(ldc.Description.Type.Answer)
    tx.set_remote_description(ldc.Description(await gathered(rx), "answer"))
    await asyncio.wait_for(opened.wait(), 10)
    while not incoming:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    dc = incoming[0]
    count = 0
    done = asyncio.Event()
    slow = 0.002  # the reader's cost per 64 KiB message: ~32 MB/s at most

    if pull:
        wake = asyncio.Event()
        dc.on_available(lambda: loop.call_soon_threadsafe(wake.set))

        async def reader() -> None:
            nonlocal count
            while count < total:
                m = dc.receive()
                if m is None:
                    wake.clear()
                    if dc.available_amount() == 0:
                        await wake.wait()
                    continue
                count += len(m)
                time.sleep(slow)  # noqa: ASYNC251 - the slow reader is the point
                await asyncio.sleep(0)
            done.set()

        reading = asyncio.ensure_future(reader())
    else:

        def on_message(m: bytes) -> None:
            nonlocal count
            count += len(m)
            time.sleep(slow)
            if count >= total:
                done.set()

        dc.on_message(lambda m: loop.call_soon_threadsafe(on_message, m))
    chunk = os.urandom(64 * 1024)

    def push() -> None:  # a sender apart from the reader's loop, as a remote peer would be
        for _ in range(total // len(chunk)):
            while ch.buffered_amount() > 4 * MIB:
                time.sleep(0.001)
            ch.send(chunk)

    rss0 = peak = rss_bytes(os.getpid())
    start = time.perf_counter()
    sending = loop.run_in_executor(None, push)
    while not done.is_set():
        peak = max(peak, rss_bytes(os.getpid()))
        await asyncio.sleep(0.05)
    await sending
    if pull:
        await reading
    rate = total / MIB / (time.perf_counter() - start)
    mode = "pull (receive() while the loop keeps up)" if pull else "message callback"
    print(
        f"2. {mode}: {count // MIB} MiB received at {rate:.0f} MiB/s by a slow reader, "
        f"RSS peak +{(peak - rss0) / MIB:.0f} MiB"
    )
    tx.close()
    rx.close()


async def check_aioldc_slow_reader() -> None:
    import aiolibdatachannel as ald

    pc = ald.PeerConnection(ald.RTCConfiguration(ice_servers=[]))
    b = RTCPeerConnection(ice.rtc_configuration([]))
    ch = b.createDataChannel("reliable")
    with ice.host_addresses(["127.0.0.1"]):
        await b.setLocalDescription(await b.createOffer())
    await pc.set_remote_description(b.localDescription.sdp, "offer")
    answer = await pc.create_answer()
    await b.setRemoteDescription(RTCSessionDescription(answer.sdp, "answer"))
    dc = await asyncio.wait_for(pc.accept_data_channel(), 20)
    await asyncio.wait_for(dc.wait_open(), 20)
    for _ in range(200):
        if ch.readyState == "open":
            break
        await asyncio.sleep(0.01)
    n = 3000
    for i in range(n):
        ch.send(struct.pack("!I", i))
    seen: list[int] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)  # a reader busy elsewhere while the messages arrive
        try:
            while True:
                m = await asyncio.wait_for(dc.recv(), 0.5)
                assert isinstance(m, bytes)
                seen.append(struct.unpack("!I", m)[0])
        except TimeoutError:
            pass
        if seen and seen[-1] == n - 1:
            break
    missing = n - len(set(seen))
    print(
        f"3. aiolibdatachannel slow reader: {len(seen)}/{n} reliable messages handed over, "
        f"{missing} lost, first seen #{seen[0] if seen else None}"
    )
    await pc.aclose()
    await b.close()


ANSWER_JS = """
async (offer) => {
  const pc = new RTCPeerConnection({iceServers: []});
  window.pc = pc; window.got = {}; window.meta = {};
  pc.ondatachannel = (e) => {
    const ch = e.channel; ch.binaryType = 'arraybuffer';
    window.meta[ch.label] = {ordered: ch.ordered, maxRetransmits: ch.maxRetransmits,
                             protocol: ch.protocol};
    const got = window.got[ch.label] = [];
    ch.onmessage = (m) => got.push(typeof m.data === 'string'
      ? m.data : new DataView(m.data).getUint32(0));
  };
  await pc.setRemoteDescription({type: 'offer', sdp: offer});
  await pc.setLocalDescription();
  await new Promise((done) => {
    if (pc.iceGatheringState === 'complete') done();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && done();
  });
  return pc.localDescription.sdp;
}
"""

SEEN_JS = """
() => {
  const got = window.got.reliable || [];
  const numbers = got.filter((v) => typeof v === 'number');
  return {meta: window.meta, count: numbers.length, first: got[0],
          inOrder: numbers.every((v, i) => v === i)};
}
"""


async def check_chromium() -> None:
    import libdatachannel as ldc

    from rtcroom.app import create_app
    from rtcroom.testing import run_uvicorn
    from rtcroom.testing.browser import chromium

    a = ldc_pc()
    unordered = ldc.DataChannelInit()
    rel = ldc.Reliability()
    rel.unordered = True
    rel.max_retransmits = 0
    unordered.reliability = rel
    unordered.protocol = "telemetry"
    reliable = a.create_data_channel("reliable")
    lossy = a.create_data_channel("lossy", unordered)
    a.set_local_description(ldc.Description.Type.Offer)
    offer = await gathered(a)
    n = 20_000
    async with run_uvicorn(create_app()) as port, chromium() as ctx:
        page = await ctx.new_page()
        # An http origin (not about:blank), or Chromium gathers no ICE candidates.
        await page.goto(f"http://127.0.0.1:{port}/healthz")
        answer = await page.evaluate(ANSWER_JS, offer)
        a.set_remote_description(ldc.Description(answer, "answer"))
        for _ in range(500):
            if reliable.is_open():
                break
            await asyncio.sleep(0.01)
        reliable.send("hello")
        for i in range(n):
            while reliable.buffered_amount() > 1 * MIB:  # noqa: ASYNC110
                await asyncio.sleep(0.001)
            reliable.send(struct.pack("!I", i) + os.urandom(1020))
        seen: dict[str, Any] = {}
        for _ in range(600):
            seen = await page.evaluate(SEEN_JS)
            if seen["count"] >= n:
                break
            await asyncio.sleep(0.1)
    print(
        f"4. Chromium sees: {seen['meta']}; reliable ordered: {seen['count']}/{n} arrived, in "
        f"order: {seen['inOrder']}, first message {seen['first']!r}; lossy open here: "
        f"{lossy.is_open()} (stream {lossy.stream()}), reliable stream {reliable.stream()}"
    )
    a.close()


async def main() -> None:
    which = sys.argv[1:] or ["1", "2", "3", "4"]
    if "1" in which:
        await check_ordered_and_options()
    if "2" in which:
        for total in (128 * MIB, 256 * MIB):  # bounded: the peak does not grow with the total
            await check_receiver_memory(pull=False, total=total)
            await check_receiver_memory(pull=True, total=total)
    if "3" in which:
        await check_aioldc_slow_reader()
    if "4" in which:
        await check_chromium()


if __name__ == "__main__":
    asyncio.run(main())
