"""rtcroom.client.datapath: data channels stay correct with every speed-up on.

Real aiortc peer connections over loopback, with a lossy link where it matters: a share of the
encrypted SCTP datagrams is dropped on arrival (after the DTLS handshake), so retransmission,
gap SACKs, FORWARD TSN and the packet-size fallback all run.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from aiortc import RTCDataChannel, RTCPeerConnection

from rtcroom.client import WebRTCCall, datapath, sctp_packets
from rtcroom.testing import rss_bytes

from ..media.peers import Peer, negotiate, wait_connected

DTLS_APPLICATION_DATA = 23  # the first byte of a DTLS record carrying SCTP
WAIT = 60.0


def drop_datagrams(pc: RTCPeerConnection, share: float, seed: int) -> list[int]:
    """Drops ``share`` of the SCTP datagrams ``pc`` receives (a lossy path); returns the
    count of dropped ones, as a one-item list that keeps counting."""
    rng = random.Random(seed)
    ice = pc.sctp.transport.transport  # type: ignore[union-attr]
    receive = ice._recv
    dropped = [0]

    async def lossy() -> bytes:
        while True:
            data: bytes = await receive()
            if data[:1] != bytes([DTLS_APPLICATION_DATA]) or rng.random() >= share:
                return data
            dropped[0] += 1

    ice._recv = lossy
    return dropped


@asynccontextmanager
async def pair(
    channels: Callable[[RTCPeerConnection], list[RTCDataChannel]],
    fast: tuple[bool, bool] = (True, True),
    *,
    large_packets: bool = True,
) -> AsyncIterator[tuple[list[RTCDataChannel], list[RTCDataChannel], Peer, Peer]]:
    """Offerer and answerer (each with rtcroom's speed-ups or bare aiortc), the offerer's
    channels and the answerer's matching ones, open."""
    offerer, answerer = Peer("offerer"), Peer("answerer")
    for peer, on in zip((offerer, answerer), fast, strict=True):
        if on:
            datapath.install(peer.pc, large_packets=large_packets)
    remote: list[RTCDataChannel] = []
    answerer.pc.on("datachannel", remote.append)
    try:
        local = channels(offerer.pc)
        await negotiate(offerer, answerer)
        await wait_connected(offerer, answerer)
        await until(
            lambda: len(remote) == len(local) and all(c.readyState == "open" for c in local),
            "the channels to open",
        )
        remote.sort(key=lambda c: [x.label for x in local].index(c.label))
        yield local, remote, offerer, answerer
    finally:
        await offerer.pc.close()
        await answerer.pc.close()


def message(n: int, rng: random.Random) -> bytes:
    body = rng.randbytes(rng.choice([1, 100, 1200, 5000, 16 * 1024, 64 * 1024 - 40]))
    head = n.to_bytes(4, "big")
    return head + hashlib.sha256(head + body).digest() + body


def intact(data: bytes) -> int:
    """The message number, after checking the checksum."""
    head, digest, body = data[:4], data[4:36], data[36:]
    assert hashlib.sha256(head + body).digest() == digest, "a message arrived corrupted"
    return int.from_bytes(head, "big")


def collect(channel: RTCDataChannel) -> list[int]:
    got: list[int] = []
    channel.on("message", lambda data: got.append(intact(data)))
    return got


async def send_all(channel: RTCDataChannel, messages: list[bytes]) -> None:
    """With back-pressure, as an application would."""
    low = asyncio.Event()
    channel.bufferedAmountLowThreshold = 512 * 1024
    channel.on("bufferedamountlow", low.set)
    for data in messages:
        if channel.bufferedAmount > 2 * 1024 * 1024:
            low.clear()
            await asyncio.wait_for(low.wait(), WAIT)
        channel.send(data)


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(int(WAIT / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out after {WAIT:.0f} s waiting for {what}")


def user_data(pc: RTCPeerConnection) -> int:
    assert pc.sctp is not None
    size = sctp_packets.packet_size(pc.sctp)
    return size.user_data if size is not None else 0


async def test_two_rtcroom_peers_use_big_packets_and_lose_nothing() -> None:
    rng = random.Random(1)
    messages = [message(n, rng) for n in range(200)]
    async with pair(lambda pc: [pc.createDataChannel("bulk")]) as (local, remote, a, b):
        await until(lambda: user_data(a.pc) > 1500 and user_data(b.pc) > 1500, "the probe")
        got = collect(remote[0])
        back = collect(local[0])
        await asyncio.gather(send_all(local[0], messages), send_all(remote[0], messages[:50]))
        await until(lambda: len(got) == 200 and len(back) == 50, "every message")
        assert got == list(range(200)) and back == list(range(50))


async def test_reliable_ordered_channel_loses_nothing_on_a_lossy_path() -> None:
    rng = random.Random(2)
    messages = [message(n, rng) for n in range(300)]
    async with pair(lambda pc: [pc.createDataChannel("bulk")]) as (local, remote, a, b):
        await until(lambda: user_data(a.pc) > 1500, "the probe")
        data_lost = drop_datagrams(b.pc, 0.03, seed=3)
        sacks_lost = drop_datagrams(a.pc, 0.03, seed=4)
        got = collect(remote[0])
        await send_all(local[0], messages)
        await until(lambda: len(got) == len(messages), "every message")
        assert got == list(range(len(messages))), "lost, duplicated or reordered"
        assert data_lost[0] > 5 and sacks_lost[0] > 0, "the path lost nothing: no test"


async def test_unordered_and_partially_reliable_channels_on_a_lossy_path() -> None:
    rng = random.Random(5)
    counts = {"unordered": 200, "rexmit0": 200, "lifetime": 200, "final": 1}

    def channels(pc: RTCPeerConnection) -> list[RTCDataChannel]:
        return [
            pc.createDataChannel("unordered", ordered=False),
            pc.createDataChannel("rexmit0", maxRetransmits=0),
            pc.createDataChannel("lifetime", ordered=False, maxPacketLifeTime=30),
            pc.createDataChannel("final"),
        ]

    async with pair(channels) as (local, remote, _, b):
        lost = drop_datagrams(b.pc, 0.05, seed=6)
        got: dict[str, list[int]] = {c.label: collect(c) for c in remote}
        for channel in local:
            batch = [message(n, rng) for n in range(counts[channel.label])]
            await send_all(channel, batch)
        await until(lambda: len(got["unordered"]) == 200 and got["final"] == [0], "reliable ones")
        # Reliable unordered: all of them, once each, any order.
        assert sorted(got["unordered"]) == list(range(200))
        # maxRetransmits 0, ordered: a subset, in order, none twice.
        assert got["rexmit0"] == sorted(set(got["rexmit0"]))
        assert set(got["rexmit0"]) <= set(range(200))
        # maxPacketLifeTime: a subset, none twice (checksums checked on arrival).
        assert len(got["lifetime"]) == len(set(got["lifetime"])) <= 200
        assert lost[0] > 5, "the path lost nothing: no test"


async def test_large_packets_off_keeps_small_packets_between_rtcroom_peers() -> None:
    rng = random.Random(3)
    messages = [message(n, rng) for n in range(100)]
    channels = lambda pc: [pc.createDataChannel("bulk")]  # noqa: E731
    async with pair(channels, large_packets=False) as (local, remote, a, _):
        sizes = datagram_sizes(a.pc)
        got = collect(remote[0])
        await send_all(local[0], messages)
        await until(lambda: len(got) == 100, "every message")
        assert got == list(range(100))
        assert 1000 < max(sizes) <= 1500, f"datagrams of up to {max(sizes)} bytes"


def datagram_sizes(pc: RTCPeerConnection) -> list[int]:
    """The sizes of the UDP datagrams ``pc`` sends from now on (a list that keeps growing)."""
    ice = pc.sctp.transport.transport  # type: ignore[union-attr]
    send = ice._send
    sizes: list[int] = []

    async def sending(data: bytes) -> None:
        sizes.append(len(data))
        await send(data)

    ice._send = sending
    return sizes


def test_large_sctp_packets_option_must_be_a_bool() -> None:
    with pytest.raises(ValueError, match="large_sctp_packets must be True or False"):
        WebRTCCall("room", "ws://127.0.0.1:1/api/call/signal", large_sctp_packets="no")  # type: ignore[arg-type]


async def test_rtcroom_and_bare_aiortc_peers_keep_small_packets_and_interoperate() -> None:
    rng = random.Random(7)
    messages = [message(n, rng) for n in range(100)]
    for fast in ((True, False), (False, True)):
        async with pair(lambda pc: [pc.createDataChannel("bulk")], fast) as (local, remote, a, b):
            got, back = collect(remote[0]), collect(local[0])
            await asyncio.gather(send_all(local[0], messages), send_all(remote[0], messages))
            await until(lambda g=got, k=back: len(g) == len(k) == 100, "every message")
            assert got == back == list(range(100))
            fixed = a if fast[0] else b
            base = sctp_packets.user_data_for(1189)
            assert user_data(fixed.pc) == base, "probed a peer that did not offer big records"


async def test_memory_stays_bounded_through_256_mb_with_back_pressure() -> None:
    chunk = os.urandom(64 * 1024)
    total = 256 * 1024 * 1024
    async with pair(lambda pc: [pc.createDataChannel("bulk")]) as (local, remote, _, __):
        received = [0]
        remote[0].on("message", lambda data: received.__setitem__(0, received[0] + len(data)))
        before = peak = rss_bytes(os.getpid())

        async def watch() -> None:
            nonlocal peak
            while received[0] < total:
                peak = max(peak, rss_bytes(os.getpid()))
                await asyncio.sleep(0.05)

        watcher = asyncio.ensure_future(watch())
        await send_all(local[0], [chunk] * (total // len(chunk)))
        await until(lambda: received[0] == total, "256 MB")
        await watcher
        # Both ends live in this process: the buffers of both are in this bound.
        assert peak - before < 96 * 1024 * 1024, f"grew by {(peak - before) >> 20} MB"


def test_fix_names_parse_and_unknown_ones_say_which_exist() -> None:
    assert datapath.parse("sack+packets") == {"sack", "packets"}
    assert datapath.parse("none") == frozenset()
    try:
        datapath.parse("sack,turbo")
    except ValueError as exc:
        assert "turbo" in str(exc) and "delayed_sack" in str(exc)
    else:
        raise AssertionError("an unknown fix name was accepted")
