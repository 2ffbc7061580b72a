"""The operator's view of a running ``rtcroom serve``: /metrics, the admin API with ``rtcroom
rooms``/``rtcroom kick``, JSON logs and ``rtcroom bench``, all against a real server process
and real sockets, with secrets in the environment as an operator sets them."""

from __future__ import annotations

import asyncio
import subprocess

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from rtcroom import tokens
from rtcroom.testing import ServeProcess

from .secure_support import SECRET, closed_with, connect
from .support import SignalClient
from .test_cli_security import rtcroom, serve

ADMIN_SECRET = "admin-" + "s" * 40


def token(identity: str, room: str = "*", name: str | None = None) -> str:
    return tokens.create(SECRET, room=room, identity=identity, name=name)


pytestmark = pytest.mark.usefixtures("serve_layer")


async def scrape(served: ServeProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``/metrics`` as {(sample name, sorted labels): value}."""
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{served.http_url}/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def value(
    metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return metrics.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_what_the_clients_did() -> None:
    async with serve("--metrics", "--max-peers", "2", RTCROOM_SECRET=SECRET) as served:
        url = served.url
        a = await connect(f"{url}?token={token('alice')}")
        b = await connect(f"{url}?token={token('bob')}")
        await a.join("standup")
        await b.join("standup")
        assert (await a.recv())["t"] == "peer-joined"
        # A third peer: refused, the room is full.
        c = await connect(f"{url}?token={token('carol')}")
        await c.send({"t": "join", "roomId": "standup"})
        assert (await c.recv())["message"] == "Room is full (max 2 peers)"
        # A token for another room only.
        d = await connect(f"{url}?token={token('dave', room='other')}")
        await d.send({"t": "join", "roomId": "standup"})
        assert (await d.recv())["t"] == "error"
        # No token at all: refused with 4401 before any join.
        assert (await closed_with(await connect(url)))[0] == 4401
        # Relays: 3 candidates and an offer; their sizes as sent.
        sent = {"ice": 0, "sdp": 0}
        for i in range(3):
            frame = orjson.dumps({"t": "ice", "to": b.peer_id, "candidate": {"candidate": f"c{i}"}})
            await a.send(frame.decode())
            sent["ice"] += len(frame)
        offer = orjson.dumps({"t": "sdp", "description": {"type": "offer", "sdp": "v=0\r\n"}})
        await b.send(offer.decode())
        sent["sdp"] += len(offer)
        for _ in range(3):
            assert (await b.recv())["t"] == "ice"
        assert (await a.recv())["t"] == "sdp"
        await a.send("not json")
        assert (await a.recv())["message"] == "Invalid JSON"

        m = await scrape(served)
        assert value(m, "rtcroom_joins_total") == 2
        assert value(m, "rtcroom_join_refusals_total", reason="room_full") == 1
        assert value(m, "rtcroom_join_refusals_total", reason="room_not_granted") == 1
        assert value(m, "rtcroom_socket_refusals_total", code="4401") == 1
        assert value(m, "rtcroom_relayed_frames_total", kind="ice") == 3
        assert value(m, "rtcroom_relayed_frames_total", kind="sdp") == 1
        assert value(m, "rtcroom_relayed_bytes_total", kind="ice") == sent["ice"]
        assert value(m, "rtcroom_relayed_bytes_total", kind="sdp") == sent["sdp"]
        assert value(m, "rtcroom_errors_total", kind="invalid_json") == 1
        assert (value(m, "rtcroom_rooms"), value(m, "rtcroom_peers")) == (1, 2)
        assert value(m, "rtcroom_rooms_started_total") == 1
        assert value(m, "rtcroom_backend_up") == 1
        assert value(m, "process_cpu_seconds_total") > 0  # the process collector comes along

        await b.close()
        assert (await a.recv())["t"] == "peer-left"
        await a.close()
        for _ in range(100):  # the server sees the last close a moment after the client
            m = await scrape(served)
            if value(m, "rtcroom_rooms_finished_total") == 1:
                break
            await asyncio.sleep(0.05)
        assert value(m, "rtcroom_leaves_total", reason="disconnect") == 2
        assert (value(m, "rtcroom_rooms"), value(m, "rtcroom_peers")) == (0, 0)
        assert value(m, "rtcroom_rooms_finished_total") == 1
        for client in (c, d):
            await client.close()


async def test_serve_without_metrics_has_no_metrics_path() -> None:
    async with serve() as served, httpx.AsyncClient() as http:
        assert (await http.get(f"{served.http_url}/metrics")).status_code == 404
        assert "metrics" not in served.output()


# --- the admin API, rtcroom rooms, rtcroom kick -----------------------------------------------


def add_address(address: str) -> None:
    """Give this (loopback-only) namespace one more, non-loopback, address on ``lo``."""
    subprocess.run(["ip", "addr", "replace", f"{address}/32", "dev", "lo"], check=True)


async def test_admin_api_without_a_secret_answers_only_local_requests() -> None:
    add_address("10.99.0.1")
    async with serve("--host", "0.0.0.0") as served:
        port = served.port
        a = await SignalClient.connect(served.url)
        await a.join("lobby")
        local = f"http://127.0.0.1:{port}/admin/rooms"
        remote = f"http://10.99.0.1:{port}/admin/rooms"
        async with httpx.AsyncClient() as http:
            answer = await http.get(local)
            assert answer.status_code == 200
            assert answer.json()["rooms"][0]["peers"][0]["peerId"] == a.peer_id
            # Through a reverse proxy on this machine, a request looks local: refused.
            proxied = await http.get(local, headers={"X-Forwarded-For": "203.0.113.9"})
            assert proxied.status_code == 403
        transport = httpx.AsyncHTTPTransport(local_address="10.99.0.1")
        async with httpx.AsyncClient(transport=transport) as http:
            refused = await http.get(remote)
            assert refused.status_code == 403
            assert "RTCROOM_ADMIN_SECRET" in refused.json()["error"]
            kick = await http.post(f"http://10.99.0.1:{port}/admin/peers/{a.peer_id}/kick")
            assert kick.status_code == 403
        await a.expect_silence(0.2)  # still in its room
        await a.close()


async def test_admin_api_with_a_secret_and_rtcroom_rooms_and_kick() -> None:
    add_address("10.99.0.1")
    async with serve(
        "--host", "0.0.0.0", RTCROOM_SECRET=SECRET, RTCROOM_ADMIN_SECRET=ADMIN_SECRET
    ) as served:
        url = served.url
        a = await connect(f"{url}?token={token('alice', name='Alice')}")
        b = await connect(f"{url}?token={token('bob')}")
        await a.join("standup")
        await b.join("standup")
        await a.recv()
        remote = f"http://10.99.0.1:{served.port}"
        transport = httpx.AsyncHTTPTransport(local_address="10.99.0.1")
        async with httpx.AsyncClient(transport=transport) as http:
            assert (await http.get(f"{remote}/admin/rooms")).status_code == 401
            wrong = {"Authorization": "Bearer not-the-secret"}
            assert (await http.get(f"{remote}/admin/rooms", headers=wrong)).status_code == 401
            right = {"Authorization": f"Bearer {ADMIN_SECRET}"}
            listing = (await http.get(f"{remote}/admin/rooms", headers=right)).json()
        assert listing == {
            "rooms": [
                {
                    "roomId": "standup",
                    "peers": [
                        {
                            "peerId": a.peer_id,
                            "local": True,
                            "identity": {"sub": "alice", "name": "Alice"},
                        },
                        {
                            "peerId": b.peer_id,
                            "local": True,
                            "identity": {"sub": "bob", "name": None},
                        },
                    ],
                }
            ]
        }
        # The CLI, as an operator runs it: the secret from the environment.
        shown = await asyncio.to_thread(
            rtcroom, "rooms", "--url", remote, RTCROOM_ADMIN_SECRET=ADMIN_SECRET
        )
        assert shown.returncode == 0, shown.stderr
        for text in ("standup", a.peer_id, b.peer_id, "alice", "Alice", "1 rooms, 2 peers"):
            assert text in shown.stdout, shown.stdout
        no_secret = await asyncio.to_thread(rtcroom, "rooms", "--url", remote)
        assert no_secret.returncode == 1
        assert "wrong or missing admin secret" in no_secret.stderr
        kicked = await asyncio.to_thread(
            rtcroom, "kick", b.peer_id, "--url", remote, RTCROOM_ADMIN_SECRET=ADMIN_SECRET
        )
        assert kicked.returncode == 0, kicked.stderr
        assert kicked.stdout.strip() == f"rtcroom: kicked {b.peer_id}"
        assert await closed_with(b) == (4000, "Removed by an administrator")
        assert await a.recv() == {"t": "peer-left", "peerId": b.peer_id}
        again = await asyncio.to_thread(
            rtcroom, "kick", b.peer_id, "--url", remote, RTCROOM_ADMIN_SECRET=ADMIN_SECRET
        )
        assert again.returncode == 3
        assert f"no peer '{b.peer_id}' is connected" in again.stderr
        await a.close()
        await served.send_signal()
        assert ADMIN_SECRET not in served.output()


def test_rtcroom_rooms_says_when_no_server_answers() -> None:
    from rtcroom.testing import free_port

    done = rtcroom("rooms", "--url", f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 1
    assert "cannot reach" in done.stderr and "is rtcroom serve running?" in done.stderr
    bad = rtcroom("kick", "peer-1", "--url", "ws://127.0.0.1:1/x")
    assert bad.returncode == 2 and "--url must be the server's http(s)://host:port" in bad.stderr


# --- JSON logs -------------------------------------------------------------------------------


async def test_json_logs_have_a_line_per_join_leave_and_error() -> None:
    # At debug, the server layer's access lines (one per connection) come as JSON too.
    async with serve(
        "--log-format", "json", "--log-level", "debug", RTCROOM_SECRET=SECRET
    ) as served:
        alice = token("alice", name="Alice")
        a = await connect(f"{served.url}?token={alice}")
        await a.join("standup")
        await a.send({"t": "ice", "candidate": 5})
        assert (await a.recv())["t"] == "error"
        await a.close()
        await asyncio.sleep(0.2)
        await served.send_signal()
        output = served.output()
    lines = [line for line in output.splitlines() if not line.startswith("rtcroom: ")]
    records = [orjson.loads(line) for line in lines]  # every other line is JSON
    events = {r["event"]: r for r in records if r["logger"] == "rtcroom.events"}
    joined, left, error = events["peer_joined"], events["peer_left"], events["error"]
    assert joined["room"] == "standup" and joined["peer"] == a.peer_id
    assert joined["identity"] == {"sub": "alice", "name": "Alice"}
    assert joined["level"] == "info" and joined["ts"].endswith("Z")
    assert left["address"] == joined["address"] == "127.0.0.1"
    assert (left["peer"], left["reason"], left["identity"]["sub"]) == (
        a.peer_id,
        "disconnect",
        "alice",
    )
    assert error["identity"] == {"sub": "alice", "name": "Alice"}
    assert (error["peer"], error["reason"], error["level"]) == (
        a.peer_id,
        "invalid_field",
        "warning",
    )
    assert alice not in output and SECRET not in output
    assert any(
        "token=[redacted]" in r["message"]
        for r in records
        if r["logger"].startswith(("uvicorn", "aiohttp.access"))
    )


# --- rtcroom bench ---------------------------------------------------------------------------


async def test_rtcroom_bench_against_a_real_server() -> None:
    async with serve("--metrics") as served:
        done = await asyncio.to_thread(
            rtcroom,
            "bench",
            "--url",
            served.url,
            "--rooms",
            "3",
            "--messages",
            "40",
            "--duration",
            "20",
        )
        assert done.returncode == 0, done.stderr
        out = done.stdout
        assert "3 rooms x 2 peers" in out
        assert "relayed:  120 of 120 messages" in out
        assert "msg/s" in out and "p50" in out and "p99" in out
        assert "round trip, one at a time (ms)" in out and "(40 round trips)" in out
        m = await scrape(served)
        assert value(m, "rtcroom_relayed_frames_total", kind="ice") == 120 + 2 * 40
        assert value(m, "rtcroom_joins_total") == 6


async def test_rtcroom_bench_with_a_join_token_and_a_clear_refusal() -> None:
    async with serve(RTCROOM_SECRET=SECRET) as served:
        bench_token = token("bench", room="bench-*")
        done = await asyncio.to_thread(
            rtcroom, "bench", "--url", f"{served.url}?token={bench_token}",
            "--rooms", "2", "--messages", "10",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "relayed:  20 of 20 messages" in done.stdout
        assert bench_token not in done.stdout + done.stderr
        refused = await asyncio.to_thread(rtcroom, "bench", "--url", served.url, "--rooms", "1")
        assert refused.returncode == 1
        assert "4401" in refused.stderr and "?token=" in refused.stderr
