"""Resume across a crash of ``rtcroom serve`` (kill -9, restarted on the same port), on each
serve layer: peer ids survive, rooms re-form from the peers that come back with ``max_peers``
exact, and the resume key lives in a 0600 state file (or comes from the join-token secret)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed

from rtcroom import protocol
from rtcroom.testing import ServeProcess, this_rtcroom_env
from rtcroom.tokens import create

from .support import WAIT, SignalClient, serve_layer_option

pytestmark = pytest.mark.usefixtures("serve_layer")

ROOM = "standup"


@contextlib.asynccontextmanager
async def serve(*args: str, **env: str) -> AsyncIterator[ServeProcess]:
    environment = {**this_rtcroom_env(), **env}
    async with ServeProcess(*args, *serve_layer_option(), log_level="info", env=environment) as p:
        yield p


async def opted_in(url: str, room: str = ROOM) -> tuple[SignalClient, str]:
    """Joined with ``resume: true``; returns the client and its resume token."""
    client = await SignalClient.connect(url)
    await client.send({"t": "join", "roomId": room, "resume": True})
    joined = await client.recv()
    assert joined["t"] == "joined", joined
    client.peer_id = joined["peerId"]
    token: str = joined["resumeToken"]
    return client, token


async def resume(url: str, token: str, room: str = ROOM) -> tuple[SignalClient, dict[str, Any]]:
    client = await SignalClient.connect(url)
    await client.send({"t": "join", "roomId": room, "resumeToken": token})
    return client, await client.recv()


async def crash(server: ServeProcess, *clients: SignalClient) -> ServeProcess:
    """kill -9, wait until every client saw its socket die; returns the restart (same options,
    same port) for ``async with``."""
    server.kill()
    for client in clients:
        with pytest.raises(ConnectionClosed):
            while True:  # whatever was in flight, then the end
                await client.recv(WAIT)
    return server.relaunch()


async def test_both_peers_resume_their_ids_after_kill_9_and_nobody_hears_a_leave() -> None:
    async with serve("--max-peers", "2") as server:
        a, token_a = await opted_in(server.url)
        b, token_b = await opted_in(server.url)
        assert await a.recv() == {"t": "peer-joined", "peerId": b.peer_id}
        await a.send({"t": "sdp", "to": b.peer_id, "description": {"type": "offer"}})
        assert (await b.recv())["from"] == a.peer_id
        async with await crash(server, a, b) as again:
            a2, joined_a = await resume(again.url, token_a)
            assert joined_a["t"] == "joined" and joined_a["resumed"] is True
            assert joined_a["peerId"] == a.peer_id and joined_a["peers"] == []
            # The restarted server cannot know what a missed: it says so.
            assert await a2.recv() == {"t": "error", "message": protocol.FRAMES_LOST}
            b2, joined_b = await resume(again.url, token_b)
            assert joined_b["peerId"] == b.peer_id and joined_b["peers"] == [a.peer_id]
            assert await b2.recv() == {"t": "error", "message": protocol.FRAMES_LOST}
            # a learns b is back; rtcroom clients that still have a live connection to b
            # ignore this join.
            assert await a2.recv() == {"t": "peer-joined", "peerId": b.peer_id, "resumed": True}
            await b2.send({"t": "ice", "to": a.peer_id, "candidate": {"n": 1}})
            assert await a2.recv() == {"t": "ice", "from": b.peer_id, "candidate": {"n": 1}}
            await a2.send({"t": "ice", "candidate": {"n": 2}})
            assert await b2.recv() == {"t": "ice", "from": a.peer_id, "candidate": {"n": 2}}
            await a2.expect_silence(0.2)  # never a peer-left
            await b2.expect_silence(0.2)


async def test_after_a_restart_a_room_full_again_refuses_the_resume() -> None:
    async with serve("--max-peers", "2") as server:
        a, token_a = await opted_in(server.url)
        b, token_b = await opted_in(server.url)
        async with await crash(server, a, b) as again:
            # A stranger takes a seat before anyone is back.
            c = await SignalClient.connect(again.url)
            assert (await c.join(ROOM))["peers"] == []
            _, joined_a = await resume(again.url, token_a)
            assert joined_a["peerId"] == a.peer_id and joined_a["peers"] == [c.peer_id]
            assert await c.recv() == {"t": "peer-joined", "peerId": a.peer_id, "resumed": True}
            b2, refused = await resume(again.url, token_b)
            assert refused == {"t": "error", "message": protocol.resume_room_full(2)}
            # The fallback, a plain join on the same socket, meets the same full room.
            await b2.send({"t": "join", "roomId": ROOM})
            assert await b2.recv() == {"t": "error", "message": protocol.room_full(2)}
            await b2.close()  # an unjoined socket would hold up the aiohttp layer's stop


async def test_a_fresh_joiner_meets_a_room_re_formed_by_resumed_peers() -> None:
    async with serve("--max-peers", "3") as server:
        a, token_a = await opted_in(server.url)
        b, token_b = await opted_in(server.url)
        async with await crash(server, a, b) as again:
            a2, _ = await resume(again.url, token_a)
            assert await a2.recv() == {"t": "error", "message": protocol.FRAMES_LOST}
            c = await SignalClient.connect(again.url)
            assert (await c.join(ROOM))["peers"] == [a.peer_id]
            assert await a2.recv() == {"t": "peer-joined", "peerId": c.peer_id}
            b2, joined_b = await resume(again.url, token_b)
            assert joined_b["peers"] == [a.peer_id, c.peer_id]
            assert await b2.recv() == {"t": "error", "message": protocol.FRAMES_LOST}
            announced = {"t": "peer-joined", "peerId": b.peer_id, "resumed": True}
            assert await a2.recv() == announced
            assert await c.recv() == announced
            await c.send({"t": "sdp", "to": b.peer_id, "description": {"type": "offer"}})
            assert (await b2.recv()) == {
                "t": "sdp",
                "from": c.peer_id,
                "description": {"type": "offer"},
            }


async def test_an_away_peer_times_out_and_metrics_count_it() -> None:
    async with serve("--resume-grace", "0.5", "--metrics") as server:
        a, token_a = await opted_in(server.url)
        b, _ = await opted_in(server.url)
        await a.recv()
        a.ws.transport.abort()
        await b.expect_silence(0.2)
        assert await scrape(server, "rtcroom_away_peers") == 1.0
        assert await b.recv() == {"t": "peer-left", "peerId": a.peer_id}
        assert await scrape(server, "rtcroom_leaves_total", reason="timeout") == 1.0
        assert await scrape(server, "rtcroom_away_peers") == 0.0
        late, refused = await resume(server.url, token_a)
        assert refused == {"t": "error", "message": protocol.RESUME_ENDED}
        await late.close()
        assert await scrape(server, "rtcroom_join_refusals_total", reason="resume_ended") == 1.0


async def test_the_resume_key_is_kept_in_a_private_state_file_and_reused() -> None:
    with tempfile.TemporaryDirectory() as home:
        state = Path(home) / "state"
        async with serve("--state-dir", str(state)) as server:
            key = state / "resume-secret"
            assert stat.S_IMODE(key.stat().st_mode) == 0o600
            first = key.read_text()
            assert f"resume on (grace 30 s; key in {key})" in server.output()
            a, token = await opted_in(server.url)
            server.kill()
            async with server.relaunch() as again:
                assert key.read_text() == first  # the same key: the old token verifies
                _, joined = await resume(again.url, token)
                assert joined["t"] == "joined" and joined["peerId"] == a.peer_id
        # Without --state-dir: $XDG_STATE_HOME/rtcroom, else ~/.local/state/rtcroom. (A
        # launcher of its own keeps ServeProcess from adding a temporary --state-dir.)
        cli = [sys.executable, "-m", "rtcroom.cli"]
        xdg = Path(home) / "xdg"
        env = {k: v for k, v in this_rtcroom_env().items() if k != "XDG_STATE_HOME"}
        for environment, expected in (
            ({**env, "XDG_STATE_HOME": str(xdg)}, xdg / "rtcroom" / "resume-secret"),
            ({**env, "HOME": home}, Path(home) / ".local/state/rtcroom/resume-secret"),
        ):
            args = serve_layer_option()
            async with ServeProcess(*args, launcher=cli, env=environment) as default:
                assert stat.S_IMODE(expected.stat().st_mode) == 0o600
                assert f"key in {expected})" in default.output()
        # A default place it cannot write (a read-only home): it serves, resume per process.
        not_a_dir = Path(home) / "plain-file"
        not_a_dir.write_text("")
        environment = {**env, "HOME": str(not_a_dir)}
        async with ServeProcess(*serve_layer_option(), launcher=cli, env=environment) as served:
            banner = next(
                line for line in served.output().splitlines() if line.startswith("rtcroom: resume")
            )
            assert banner.startswith("rtcroom: resume on within this process only (grace 30 s)")
            assert str(not_a_dir) in banner and "pass --state-dir" in banner
            _, token = await opted_in(served.url)  # tokens still work within this process
            assert token.startswith("v1.")


async def test_a_state_file_others_can_read_is_refused() -> None:
    with tempfile.TemporaryDirectory() as state:
        key = Path(state) / "resume-secret"
        key.write_text("ab" * 32 + "\n")
        os.chmod(key, 0o644)
        proc = ServeProcess("--state-dir", state, *serve_layer_option())
        try:
            assert await asyncio.to_thread(proc.proc.wait, 20) == 2
            assert f"chmod 600 {key}" in proc.output()
        finally:
            proc.close()


async def test_resume_grace_0_issues_no_token_and_keeps_no_state() -> None:
    with tempfile.TemporaryDirectory() as state:
        async with serve("--resume-grace", "0", "--state-dir", state) as server:
            assert "resume off (--resume-grace 0)" in server.output()
            client = await SignalClient.connect(server.url)
            await client.send({"t": "join", "roomId": ROOM, "resume": True})
            joined = await client.recv()
            assert joined["t"] == "joined" and "resumeToken" not in joined
            assert os.listdir(state) == []


async def test_with_a_join_token_secret_the_key_is_derived_and_no_file_is_written() -> None:
    secret = "resume-serve-secret-" + "z" * 40
    with tempfile.TemporaryDirectory() as state:
        async with serve("--state-dir", state, RTCROOM_SECRET=secret) as server:
            assert "key derived from $RTCROOM_SECRET" in server.output()
            url = f"{server.url}?token={create(secret, room='*', identity='alice')}"
            a, token = await opted_in(url)
            assert os.listdir(state) == []
            server.kill()
            async with server.relaunch() as again:
                alice = f"{again.url}?token={create(secret, room='*', identity='alice')}"
                _, joined = await resume(alice, token)
                assert joined["t"] == "joined" and joined["peerId"] == a.peer_id


async def scrape(served: ServeProcess, name: str, **labels: str) -> float:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{served.http_url}/metrics")
    assert answer.status_code == 200, answer.text
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


async def test_bad_resume_options_exit_2_with_what_to_fix() -> None:
    with tempfile.TemporaryDirectory() as home:
        not_a_dir = Path(home) / "file"
        not_a_dir.write_text("x")
        for args, says in (
            (["--resume-grace", "-1"], "--resume-grace must be a number of seconds >= 0"),
            (["--resume-grace", "nan"], "--resume-grace must be a number of seconds >= 0"),
            (["--state-dir", str(not_a_dir)], "pass --state-dir with a writable directory"),
        ):
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "rtcroom.cli",
                "serve",
                "--port",
                "0",
                *args,
                env=this_rtcroom_env(),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 30)
            assert proc.returncode == 2, (args, out, err)
            assert says in err.decode(), (args, err)
            assert not out  # refused before announcing anything


async def test_a_graceful_stop_lets_opted_in_peers_resume_on_the_next_process() -> None:
    """SIGTERM (a deploy): opted-in peers are closed with 1012 and nobody hears them leave, so
    they resume on the restarted server; a peer that did not opt in leaves as before."""
    async with serve("--max-peers", "3", "--log-format", "json") as server:
        a, token_a = await opted_in(server.url)
        b, token_b = await opted_in(server.url)
        plain = await SignalClient.connect(server.url)
        await plain.join(ROOM)
        waiting = await SignalClient.connect(server.url)  # never joins
        assert await server.send_signal() == 0
        for client in (a, b):
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await client.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        with pytest.raises(ConnectionClosed):
            await waiting.recv()
        events = [orjson.loads(line) for line in server.output().splitlines() if line[:1] == "{"]
        left = [e["peer"] for e in events if e.get("event") == "peer_left"]
        assert left == [plain.peer_id]
        async with server.relaunch() as again:
            _, joined_a = await resume(again.url, token_a)
            _, joined_b = await resume(again.url, token_b)
            assert (joined_a["peerId"], joined_b["peerId"]) == (a.peer_id, b.peer_id)
            assert joined_b["peers"] == [a.peer_id]
