"""A Python↔Python call through a signaling outage: ``rtcroom serve`` is killed with SIGKILL
under the call and started again on the same port. With resume the call never notices (same
peer ids, no leave, no state change, every data-channel message delivered); a refused resume
falls back to a full rejoin; a resume token replayed elsewhere ends the call (4410); a server
with resume off behaves as before resume existed."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from rtcroom.client import (
    DisconnectEvent,
    ErrorEvent,
    PeerJoinedEvent,
    PeerLeftEvent,
    ReconnectedEvent,
    ReconnectFailedEvent,
    ReconnectingEvent,
    SignalingClosedError,
    SignalingLostEvent,
    SignalingRestoredEvent,
    StateChangeEvent,
    WebRTCCall,
    inbound,
)
from rtcroom.testing import ServeProcess, free_port
from tests.examples import EXAMPLES, ROOT, example_env
from tests.support import SignalClient

from .helpers import WAIT, Recorder, eventually, make_call

pytestmark = pytest.mark.timeout(150)

SEND_EVERY = 0.05  # seconds between two data-channel messages of one side


@contextlib.asynccontextmanager
async def serving(port: int, *args: str) -> AsyncIterator[ServeProcess]:
    async with ServeProcess(*args, port=port) as server:
        yield server


class Sender:
    """Sends ``{"from": name, "seq": n}`` on "chat" every SEND_EVERY s until stopped; every
    send must be accepted (the data channel stays open while signaling is away)."""

    def __init__(self, call: WebRTCCall, name: str) -> None:
        self.call = call
        self.name = name
        self.sent = 0
        self.refused = 0
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            if self.call.send_json("chat", {"from": self.name, "seq": self.sent}):
                self.sent += 1
            else:
                self.refused += 1
            await asyncio.sleep(SEND_EVERY)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def seqs(rec: Recorder, sender: str) -> list[int]:
    return [
        e.data["seq"]
        for e in rec.messages("chat")
        if isinstance(e.data, dict) and e.data.get("from") == sender
    ]


async def connected_calls(url: str) -> tuple[WebRTCCall, WebRTCCall, Recorder, Recorder]:
    a = make_call(url, reconnect_base_delay=0.2)
    b = make_call(url, reconnect_base_delay=0.2)
    ra, rb = Recorder(a), Recorder(b)
    await a.connect()
    await b.connect()
    await asyncio.gather(a.wait_connected(timeout=WAIT), b.wait_connected(timeout=WAIT))
    assert a.signaling_state == b.signaling_state == "open"
    return a, b, ra, rb


async def renegotiated_after(a: WebRTCCall, b: WebRTCCall, rb: Recorder, label: str) -> None:
    """Signaling works again: a new channel needs an offer and an answer through the server."""
    a.create_data_channel(label)
    await asyncio.gather(
        a.wait_connected(timeout=WAIT), rb.until(lambda: label in b.get_data_channel_labels())
    )
    for _ in range(int(WAIT / 0.05)):
        if a.send_string(label, "over the new channel"):
            break
        await asyncio.sleep(0.05)
    await rb.until(lambda: any(m.data == "over the new channel" for m in rb.messages(label)))


@pytest.mark.parametrize("outage", [0.5, 10.0], ids=["restart-within-2s", "outage-10s"])
async def test_a_killed_server_under_a_call_changes_nothing_the_apps_see(
    tmp_path: Path, outage: float
) -> None:
    port = free_port()
    state = str(tmp_path / "state")
    async with serving(port, "--state-dir", state) as server:
        a, b, ra, rb = await connected_calls(server.url)
        ids = (a.peer_id, b.peer_id)
        seen = (len(ra.events), len(rb.events))
        senders = [Sender(a, "a"), Sender(b, "b")]
        try:
            server.kill()
            await ra.until(lambda: bool(ra.of(SignalingLostEvent)))
            await rb.until(lambda: bool(rb.of(SignalingLostEvent)))
            assert a.signaling_state == b.signaling_state == "lost"
            # An offer made while signaling is away waits for the resumed socket.
            offer = asyncio.get_running_loop().create_task(
                a.sessions[ids[1]].renegotiate(timeout=outage + 30)
            )
            await asyncio.sleep(outage)
            assert not offer.done()
            assert a.state == b.state == "connected"
            sent_while_away = (senders[0].sent, senders[1].sent)
            async with serving(port, "--state-dir", state):
                await ra.until(lambda: bool(ra.of(SignalingRestoredEvent)), timeout=30)
                await rb.until(lambda: bool(rb.of(SignalingRestoredEvent)), timeout=30)
                assert a.signaling_state == b.signaling_state == "open"
                await offer  # answered through the restarted server
                await asyncio.sleep(0.5)  # a few more messages after the resume
                for sender in senders:
                    await sender.stop()
                counts = {"a": senders[0].sent, "b": senders[1].sent}
                await rb.until(lambda: len(seqs(rb, "a")) >= counts["a"])
                await ra.until(lambda: len(seqs(ra, "b")) >= counts["b"])
                # Every message, in order, none twice, in both directions.
                assert seqs(rb, "a") == list(range(counts["a"]))
                assert seqs(ra, "b") == list(range(counts["b"]))
                assert min(sent_while_away) > outage / SEND_EVERY / 2
                assert senders[0].refused == senders[1].refused == 0
                assert (a.peer_id, b.peer_id) == ids
                assert a.remote_peer_ids == [ids[1]] and b.remote_peer_ids == [ids[0]]
                await renegotiated_after(a, b, rb, "after-restart")
                for rec in (ra, rb):
                    later = rec.events[seen[0] if rec is ra else seen[1] :]
                    assert [e for e in later if isinstance(e, StateChangeEvent)] == []
                    assert [
                        e for e in later if isinstance(e, PeerLeftEvent | PeerJoinedEvent)
                    ] == []
                    assert [e for e in later if isinstance(e, ReconnectingEvent)] == []
                    assert [e.resumed for e in rec.of(SignalingRestoredEvent)] == [True]
                    assert len(rec.of(SignalingLostEvent)) == 1
                assert a.state == b.state == "connected"
        finally:
            for sender in senders:
                await sender.stop()
            await asyncio.gather(a.hangup(), b.hangup())
            await ra.close()
            await rb.close()


async def test_a_refused_resume_falls_back_to_a_full_rejoin(tmp_path: Path) -> None:
    port = free_port()
    async with serving(port, "--state-dir", str(tmp_path / "first")) as server:
        a, b, ra, rb = await connected_calls(server.url)
        old = {a.peer_id, b.peer_id}
        try:
            server.kill()
            await ra.until(lambda: bool(ra.of(SignalingLostEvent)))
            # Another state dir: another secret, so the restarted server cannot verify the
            # tokens ("Resume refused: ...") and both calls rejoin as new peers.
            async with serving(port, "--state-dir", str(tmp_path / "second")):
                await ra.until(lambda: bool(ra.of(SignalingRestoredEvent)), timeout=30)
                await rb.until(lambda: bool(rb.of(SignalingRestoredEvent)), timeout=30)
                await asyncio.gather(a.wait_connected(timeout=WAIT), b.wait_connected(timeout=WAIT))
                assert {a.peer_id, b.peer_id}.isdisjoint(old)
                assert a.remote_peer_ids == [b.peer_id] and b.remote_peer_ids == [a.peer_id]
                for rec in (ra, rb):
                    assert [e.resumed for e in rec.of(SignalingRestoredEvent)] == [False]
                    assert rec.of(PeerLeftEvent), "the app must learn that its peers went"
                    refusals = [
                        e.error
                        for e in rec.of(ErrorEvent)
                        if str(e.error).startswith("Resume refused: ")
                    ]
                    assert refusals, [e.error for e in rec.of(ErrorEvent)]
                assert a.send_string("chat", "after the rejoin")
                await rb.until(lambda: any(m.data == "after the rejoin" for m in rb.messages()))
                assert a.signaling_state == b.signaling_state == "open"
        finally:
            await asyncio.gather(a.hangup(), b.hangup())
            await ra.close()
            await rb.close()


async def test_a_token_replayed_on_another_socket_ends_the_call(tmp_path: Path) -> None:
    port = free_port()
    async with serving(port, "--state-dir", str(tmp_path / "state")) as server:
        a, b, ra, rb = await connected_calls(server.url)
        thief: SignalClient | None = None
        try:
            token = a._life._resume_token  # what a copy of this client would present
            assert token is not None
            a_id = a.peer_id
            thief = await SignalClient.connect(server.url)
            await thief.send({"t": "join", "roomId": "room", "resumeToken": token})
            joined = await thief.recv()
            assert joined["t"] == "joined" and joined["peerId"] == a_id, joined
            await ra.until(lambda: bool(ra.of(DisconnectEvent)))
            assert a.state == "idle"
            errors = [e.error for e in ra.of(ErrorEvent)]
            final = [e for e in errors if isinstance(e, SignalingClosedError)]
            assert [e.code for e in final] == [4410], errors
            assert "resumed on another connection" in str(final[0])
            assert ra.of(SignalingLostEvent) == [] and ra.of(ReconnectingEvent) == []
            assert a.signaling_state == "closed"
            # The other call keeps its connection to the peer id; the thief holds it now.
            assert rb.of(PeerLeftEvent) == []
        finally:
            if thief is not None:
                await thief.close()
            await asyncio.gather(a.hangup(), b.hangup())
            await ra.close()
            await rb.close()


async def test_without_resume_on_the_server_a_drop_rejoins_as_before(tmp_path: Path) -> None:
    port = free_port()
    args = ("--state-dir", str(tmp_path / "state"), "--resume-grace", "0")
    async with serving(port, *args) as server:
        a, b, ra, rb = await connected_calls(server.url)
        old = {a.peer_id, b.peer_id}
        try:
            server.kill()
            await ra.until(lambda: bool(ra.of(ReconnectingEvent)))
            assert a.signaling_state == "connecting" and a.state == "connecting"
            assert a.remote_peer_ids == []  # torn down, as Agentuity's client does
            async with serving(port, *args):
                await ra.until(lambda: bool(ra.of(ReconnectedEvent)), timeout=30)
                await rb.until(lambda: bool(rb.of(ReconnectedEvent)), timeout=30)
                await asyncio.gather(a.wait_connected(timeout=WAIT), b.wait_connected(timeout=WAIT))
                assert {a.peer_id, b.peer_id}.isdisjoint(old)
                reasons = [e.reason for e in ra.of(StateChangeEvent)]
                assert "reconnecting:WebSocket closed" in reasons
                for rec in (ra, rb):
                    assert rec.of(SignalingLostEvent) == rec.of(SignalingRestoredEvent) == []
                assert a.send_string("chat", "rejoined")
                await rb.until(lambda: any(m.data == "rejoined" for m in rb.messages()))
        finally:
            await asyncio.gather(a.hangup(), b.hangup())
            await ra.close()
            await rb.close()


async def test_a_peer_that_does_not_come_back_leaves_after_the_grace_window(
    tmp_path: Path,
) -> None:
    """B hangs up while the server is down; A resumes on the restarted server, which does not
    list B: A keeps B until its connection ends or the grace window passes, then B leaves."""
    port = free_port()
    args = ("--state-dir", str(tmp_path / "state"), "--resume-grace", "3")
    async with serving(port, *args) as server:
        a, b, ra, rb = await connected_calls(server.url)
        try:
            server.kill()
            await ra.until(lambda: bool(ra.of(SignalingLostEvent)))
            b_id = b.peer_id
            await b.hangup()
            async with serving(port, *args):
                await ra.until(lambda: bool(ra.of(SignalingRestoredEvent)), timeout=30)
                await ra.until(lambda: [e.peer_id for e in ra.of(PeerLeftEvent)] == [b_id])
                assert a.remote_peer_ids == []
                assert a.state == "signaling" and a.peer_id is not None
                assert [e.resumed for e in ra.of(SignalingRestoredEvent)] == [True]
        finally:
            await asyncio.gather(a.hangup(), b.hangup())
            await ra.close()
            await rb.close()


async def test_resume_false_sends_no_opt_in_and_rejoins_as_before(tmp_path: Path) -> None:
    port = free_port()
    args = ("--state-dir", str(tmp_path / "state"))
    async with serving(port, *args) as server:
        call = make_call(server.url, resume=False, reconnect_base_delay=0.2)
        rec = Recorder(call)
        try:
            await call.connect()
            old = call.peer_id
            server.kill()
            await rec.until(lambda: bool(rec.of(ReconnectingEvent)))
            async with serving(port, *args):
                await eventually(lambda: call.signaling_state == "open", timeout=30)
                assert call.peer_id != old
                assert rec.of(SignalingLostEvent) == []
        finally:
            await call.hangup()
            await rec.close()


async def test_the_keep_call_example_survives_a_server_restart(tmp_path: Path) -> None:
    """examples/keep_call.py as the docs tell a user to run it, with the server killed and
    started again while it runs."""
    port = free_port()
    args = ("--state-dir", str(tmp_path / "state"))
    async with serving(port, *args) as server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(EXAMPLES / "keep_call.py"),
            server.url,
            "6",
            env=example_env(),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), WAIT)
            assert line.decode().strip() == "connected; restart the server now"
            server.kill()
            line = await asyncio.wait_for(proc.stdout.readline(), WAIT)
            assert line.decode().strip() == "signaling lost (WebSocket closed); the call goes on"
            await asyncio.sleep(1.0)
            async with serving(port, *args):
                out, err = await asyncio.wait_for(proc.communicate(), 60)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert lines[0] == "signaling back: resumed, same peer ids", lines
    assert re.fullmatch(r"bob got (\d+) of \1, in order: True; signaling open", lines[1]), lines
    # No "peer ... left" before the end (Bob's hangup at the very end may print one).


async def test_alone_in_the_room_resume_attempts_run_out_as_reconnects_do(
    tmp_path: Path,
) -> None:
    """No peer connection to keep: max_reconnect_attempts bounds the resume attempts."""
    async with serving(free_port(), "--state-dir", str(tmp_path / "state")) as server:
        call = make_call(server.url, reconnect_base_delay=0.02, max_reconnect_attempts=3)
        rec = Recorder(call)
        try:
            await call.connect()
            server.kill()
            await rec.until(lambda: bool(rec.of(DisconnectEvent)))
            assert call.state == "idle"
            assert len(rec.of(SignalingLostEvent)) == 1
            assert len(rec.of(ReconnectFailedEvent)) == 1
            assert [e.reason for e in rec.of(DisconnectEvent)] == ["error"]
            assert rec.of(StateChangeEvent)[-1].reason == "reconnect-failed"
            assert call.signaling_state == "closed"
        finally:
            await call.hangup()
            await rec.close()


def drop_socket(call: WebRTCCall) -> None:
    """A TCP reset under the call's signaling socket (no close frame), as a dead network
    gives; the server stays up and holds the call as away."""
    channel = call._life._signaling
    assert channel is not None and channel._ws is not None
    channel._ws.transport.abort()


async def test_a_peer_that_joins_while_we_are_away_is_answered_after_the_resume(
    tmp_path: Path,
) -> None:
    """The server keeps A as a member while A's socket is down; C joins then and offers to A
    (the server buffers it). A resumes, gets C's peer-joined and offer replayed, and answers:
    no offer of its own to C (no glare), no leave anywhere."""
    args = ("--state-dir", str(tmp_path / "state"), "--max-peers", "3")
    async with serving(free_port(), *args) as server:
        a = make_call(server.url, reconnect_base_delay=2.0)
        b = make_call(server.url)
        c = make_call(server.url)
        ra, rb, rc = Recorder(a), Recorder(b), Recorder(c)
        try:
            await a.connect()
            await b.connect()
            await asyncio.gather(a.wait_connected(timeout=WAIT), b.wait_connected(timeout=WAIT))
            seen = len(ra.events)
            drop_socket(a)
            await ra.until(lambda: bool(ra.of(SignalingLostEvent)))
            await c.connect()
            assert sorted(c.remote_peer_ids) == sorted([a.peer_id, b.peer_id])
            await c.wait_connected(peers=1, timeout=WAIT)  # B; A cannot answer yet
            assert a.signaling_state == "lost"
            await asyncio.gather(
                a.wait_connected(peers=2, timeout=WAIT), c.wait_connected(peers=2, timeout=WAIT)
            )
            assert a.signaling_state == "open"
            assert [e.resumed for e in ra.of(SignalingRestoredEvent)] == [True]
            later = ra.events[seen:]
            assert [e.peer_id for e in later if isinstance(e, PeerJoinedEvent)] == [c.peer_id]
            assert a.sessions[c.peer_id].offer_collisions == 0
            assert c.sessions[a.peer_id].offer_collisions == 0
            assert [e for e in later if isinstance(e, StateChangeEvent)] == []
            assert rb.of(PeerLeftEvent) == [] and rc.of(PeerLeftEvent) == []
            assert c.send_string_to(a.peer_id, "chat", "hello from C")
            await ra.until(lambda: any(m.data == "hello from C" for m in ra.messages()))
        finally:
            await asyncio.gather(a.hangup(), b.hangup(), c.hangup())
            for rec in (ra, rb, rc):
                await rec.close()


@pytest.mark.parametrize(
    ("fields", "token", "grace"),
    [
        ({"resumeToken": "v1.a.b", "resumeGrace": 30}, "v1.a.b", 30.0),
        ({}, None, 0.0),  # an older server, or resume off
        ({"resumeToken": 12, "resumeGrace": 30}, None, 0.0),
        ({"resumeToken": "v1.a.b", "resumeGrace": "30"}, None, 0.0),
        ({"resumeToken": "v1.a.b", "resumeGrace": -1}, None, 0.0),
        ({"resumeToken": "x" * 5000, "resumeGrace": 30}, None, 0.0),
    ],
)
def test_a_joined_without_a_usable_token_means_no_resume(
    fields: dict[str, object], token: str | None, grace: float
) -> None:
    """A bad resume field from a server is ignored (the call joins and simply cannot resume)."""
    raw = orjson.dumps({"t": "joined", "peerId": "p-1", "peers": [], **fields}).decode()
    frame = inbound.parse(raw, None)
    assert isinstance(frame, inbound.Joined)
    assert (frame.resume_token, frame.resume_grace, frame.resumed) == (token, grace, False)


async def test_a_peer_still_away_after_the_grace_window_leaves(tmp_path: Path) -> None:
    """B's connection with A stays up but B is slow to come back (its first resume attempt
    comes ~10 s after the drop); A, resumed on the restarted server that does not list B,
    drops B once the grace window (3 s) has passed."""
    port = free_port()
    args = ("--state-dir", str(tmp_path / "state"), "--resume-grace", "3")
    async with serving(port, *args) as server:
        a = make_call(server.url, reconnect_base_delay=0.2)
        b = make_call(server.url, reconnect_base_delay=30.0)
        ra, rb = Recorder(a), Recorder(b)
        try:
            await a.connect()
            await b.connect()
            await asyncio.gather(a.wait_connected(timeout=WAIT), b.wait_connected(timeout=WAIT))
            b_id = b.peer_id
            server.kill()
            await ra.until(lambda: bool(ra.of(SignalingLostEvent)))
            async with serving(port, *args):
                await ra.until(lambda: bool(ra.of(SignalingRestoredEvent)), timeout=30)
                assert a.remote_peer_ids == [b_id]  # kept while its connection is up
                await ra.until(lambda: [e.peer_id for e in ra.of(PeerLeftEvent)] == [b_id])
                assert b.signaling_state == "lost"  # B never came back in time
                assert a.remote_peer_ids == [] and a.state == "signaling"
        finally:
            await asyncio.gather(a.hangup(), b.hangup())
            await ra.close()
            await rb.close()


async def test_a_peer_that_hung_up_while_we_were_away_leaves_once(tmp_path: Path) -> None:
    """B hangs up while A's socket is down: A learns it twice (B's connection closes; the
    server replays B's peer-left after the resume) and the app hears it once."""
    async with serving(free_port(), "--state-dir", str(tmp_path / "state")) as server:
        a = make_call(server.url, reconnect_base_delay=1.5)
        b = make_call(server.url)
        ra = Recorder(a)
        try:
            await a.connect()
            await b.connect()
            await asyncio.gather(a.wait_connected(timeout=WAIT), b.wait_connected(timeout=WAIT))
            b_id = b.peer_id
            drop_socket(a)
            await ra.until(lambda: bool(ra.of(SignalingLostEvent)))
            await b.hangup()
            await ra.until(lambda: bool(ra.of(SignalingRestoredEvent)), timeout=30)
            await ra.until(lambda: bool(ra.of(PeerLeftEvent)))
            await asyncio.sleep(1.0)  # the replayed peer-left has arrived by now
            assert [e.peer_id for e in ra.of(PeerLeftEvent)] == [b_id]
            assert a.remote_peer_ids == [] and a.state == "signaling"
        finally:
            await asyncio.gather(a.hangup(), b.hangup())
            await ra.close()
