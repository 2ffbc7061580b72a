"""Webhooks from a real ``rtcroom serve`` to a real receiving app: every event once, signed;
a receiver that is down or hangs never holds up signaling, and loses nothing it can get later."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web

from rtcroom.testing import ServeProcess, free_port, run_uvicorn
from rtcroom.webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Webhooks,
    WebhookSignatureError,
    sign,
    verify,
)

from .examples import load_example
from .secure_support import SECRET, closed_with, connect
from .support import SignalClient, join_room, run_aiohttp, signaling_server
from .test_cli_security import env, rtcroom
from .test_operations import token

HOOK_SECRET = "hook-" + "w" * 40
ADMIN = "admin-" + "a" * 40


@dataclass
class Receiver:
    """A webhook receiver app: keeps every request, verifies each signature."""

    port: int = field(default_factory=free_port)
    events: list[dict[str, Any]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    ids: list[str] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/rtcroom"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            event = verify(
                HOOK_SECRET,
                body,
                request.headers.get(TIMESTAMP_HEADER),
                request.headers.get(SIGNATURE_HEADER),
            )
        except WebhookSignatureError as exc:
            self.bad.append(str(exc))
            return web.Response(status=401)
        assert request.headers[EVENT_ID_HEADER] == event["id"]
        self.ids.append(event["id"])
        self.events.append(event)
        self.arrived.set()
        return web.Response(status=204)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Receiver]:
        app = web.Application()
        app.router.add_post("/hooks/rtcroom", self.handle)
        async with run_aiohttp(app, self.port):
            yield self

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        async with asyncio.timeout(timeout):
            while len(self.events) < count:
                self.arrived.clear()
                await self.arrived.wait()
        await asyncio.sleep(0.3)  # anything more would arrive now: it must not
        return self.events


def summary(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            e["event"],
            e["roomId"],
            e.get("peerId"),
            (e.get("identity") or {}).get("sub"),
            e.get("reason"),
        )
        for e in events
    ]


async def test_every_event_arrives_once_and_signed() -> None:
    async with (
        Receiver().running() as receiver,
        ServeProcess(
            "--webhook-url",
            receiver.url,
            env=env(
                RTCROOM_SECRET=SECRET,
                RTCROOM_WEBHOOK_SECRET=HOOK_SECRET,
                RTCROOM_ADMIN_SECRET=ADMIN,
            ),
        ) as served,
    ):
        a = await connect(f"{served.url}?token={token('alice', name='Alice')}")
        b = await connect(f"{served.url}?token={token('bob')}")
        await a.join("standup")
        await b.join("standup")
        await a.recv()
        await b.close()
        assert await a.recv() == {"t": "peer-left", "peerId": b.peer_id}
        kicked = await asyncio.to_thread(
            rtcroom, "kick", a.peer_id, "--url", served.http_url, RTCROOM_ADMIN_SECRET=ADMIN
        )
        assert kicked.returncode == 0, kicked.stderr
        assert (await closed_with(a))[0] == 4000
        events = await receiver.wait_for(6)
    assert receiver.bad == []
    assert len(set(receiver.ids)) == len(receiver.ids) == 6
    assert summary(events) == [
        ("room_started", "standup", None, None, None),
        ("peer_joined", "standup", a.peer_id, "alice", None),
        ("peer_joined", "standup", b.peer_id, "bob", None),
        ("peer_left", "standup", b.peer_id, "bob", "disconnect"),
        ("peer_left", "standup", a.peer_id, "alice", "kicked"),
        ("room_finished", "standup", None, None, None),
    ]
    assert events[1]["identity"] == {"sub": "alice", "name": "Alice"}
    assert all(isinstance(e["createdAt"], float) for e in events)


async def test_a_receiver_that_is_down_or_hangs_does_not_hold_signaling_up() -> None:
    """One receiver refuses connections, another accepts and never answers. Meanwhile every
    join completes and every relay is delivered; when the first one comes up, it gets every
    event it missed (retried), once."""
    down = Receiver()

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)
        await asyncio.sleep(60)

    hanging = await asyncio.start_server(hang, "127.0.0.1", 0)
    hang_port = hanging.sockets[0].getsockname()[1]
    async with ServeProcess(
        "--webhook-url", down.url, "--webhook-url", f"http://127.0.0.1:{hang_port}/x",
        env=env(RTCROOM_WEBHOOK_SECRET=HOOK_SECRET),
    ) as served:  # fmt: skip
        pairs = [await join_room(served.url, f"room-{i}", 2) for i in range(5)]
        for first, second in pairs:
            for n in range(10):
                await first.send(
                    {"t": "ice", "to": second.peer_id, "candidate": {"candidate": f"{n}"}}
                )
            for n in range(10):
                assert (await second.recv())["candidate"] == {"candidate": f"{n}"}
        for first, second in pairs:
            await second.close()
            assert (await first.recv())["t"] == "peer-left"
        async with down.running():  # the receiver is back: the retries reach it
            events = await down.wait_for(5 * 4, timeout=30)
        for first, _ in pairs:
            await first.close()
        hanging.close()
    assert down.bad == []
    assert len(set(down.ids)) == 20
    kinds = [e["event"] for e in events]
    assert kinds.count("room_started") == 5 and kinds.count("peer_joined") == 10
    assert kinds.count("peer_left") == 5


async def test_a_full_queue_drops_the_oldest_event_and_counts_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """In an app: ``Webhooks(...).attach(hub)``; the receiver is unreachable and the queue
    holds 2 events, so of 3 rooms' 6 events the oldest 4 are dropped."""
    hooks = Webhooks([f"http://127.0.0.1:{free_port()}/x"], HOOK_SECRET, queue_size=2, backoff=5)
    async with signaling_server("uvicorn") as server:
        hooks.attach(server.hub)
        clients = [await SignalClient.connect(server.url) for _ in range(3)]
        for i, client in enumerate(clients):
            await client.join(f"r{i}")  # room_started + peer_joined
        assert hooks.outcomes["dropped"] == 4
        assert hooks.queued == 2
        assert caplog.text.count("is full") == 1, caplog.text  # one warning, not one per event
        assert "dropped the oldest 1;" in caplog.text
        for client in clients:
            await client.close()
        await hooks.close(timeout=0.1)


def test_verify_refuses_a_forged_altered_or_replayed_request() -> None:
    body = b'{"id":"1","event":"room_started","createdAt":1.0,"roomId":"r"}'
    now = 1_800_000_000
    good = sign(HOOK_SECRET, str(now), body)
    assert verify(HOOK_SECRET, body, str(now), good, now=now)["roomId"] == "r"
    for secret, sent_body, stamp, signature, message in (
        ("other-secret", body, str(now), good, "signature mismatch"),
        (HOOK_SECRET, body.replace(b'"r"', b'"s"'), str(now), good, "signature mismatch"),
        (HOOK_SECRET, body, str(now - 3600), sign(HOOK_SECRET, str(now - 3600), body), "replay"),
        (HOOK_SECRET, body, None, good, "missing"),
    ):
        with pytest.raises(WebhookSignatureError, match=message):
            verify(secret, sent_body, stamp, signature, now=now)


def test_serve_wants_a_webhook_secret_and_a_real_url() -> None:
    done = rtcroom("serve", "--port", "0", "--webhook-url", "http://127.0.0.1:9/x")
    assert done.returncode == 2
    assert "set the environment variable RTCROOM_WEBHOOK_SECRET" in done.stderr
    bad = rtcroom("serve", "--port", "0", "--webhook-url", "ftp://x", RTCROOM_WEBHOOK_SECRET="s")
    assert bad.returncode == 2 and "must be http(s)://host/path" in bad.stderr


async def test_webhook_metrics_count_deliveries() -> None:
    async with (
        Receiver().running() as receiver,
        ServeProcess(
            "--metrics", "--webhook-url", receiver.url, env=env(RTCROOM_WEBHOOK_SECRET=HOOK_SECRET)
        ) as served,
    ):
        a = await SignalClient.connect(served.url)
        await a.join("solo")
        await receiver.wait_for(2)
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"{served.http_url}/metrics")).text
        assert 'rtcroom_webhook_events_total{outcome="delivered"} 2.0' in text
        assert "rtcroom_webhook_queue 0.0" in text
        await a.close()


async def test_the_example_receiver_verifies_and_prints_each_event(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RTCROOM_WEBHOOK_SECRET", HOOK_SECRET)
    example = load_example("webhook_receiver")
    async with run_uvicorn(example.app) as port:
        url = f"http://127.0.0.1:{port}/rtcroom-events"
        async with ServeProcess(
            "--webhook-url", url, env=env(RTCROOM_WEBHOOK_SECRET=HOOK_SECRET)
        ) as served:
            a = await SignalClient.connect(served.url)
            await a.join("lobby")
            await a.close()
            async with asyncio.timeout(20):
                while len(example.handled) < 4:  # noqa: ASYNC110 - the example's own state
                    await asyncio.sleep(0.05)
        async with httpx.AsyncClient() as http:
            forged = await http.post(
                url,
                content=b'{"id":"x","event":"room_started","roomId":"lobby"}',
                headers={"X-Rtcroom-Timestamp": "1", "X-Rtcroom-Signature": "sha256=00"},
            )
    assert forged.status_code == 401
    assert capsys.readouterr().out.splitlines() == [
        "room_started lobby  ",
        f"peer_joined lobby {a.peer_id} ",
        f"peer_left lobby {a.peer_id} disconnect",
        "room_finished lobby  ",
    ]


async def test_the_operations_example_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """Metrics, the admin API (local only without its secret) and webhooks in a FastAPI app."""
    async with Receiver().running() as receiver:
        monkeypatch.setenv("RTCROOM_WEBHOOK_SECRET", HOOK_SECRET)
        monkeypatch.setenv("WEBHOOK_URL", receiver.url)
        monkeypatch.delenv("RTCROOM_ADMIN_SECRET", raising=False)
        example = load_example("operations_app")
        async with run_uvicorn(example.app) as port:
            a, b = await join_room(f"ws://127.0.0.1:{port}/api/call/signal", "ops", 2)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                rooms = (await http.get("/admin/rooms")).json()["rooms"]
                assert [p["peerId"] for p in rooms[0]["peers"]] == [a.peer_id, b.peer_id]
                kicked = await http.post(f"/admin/peers/{b.peer_id}/kick")
                assert kicked.json() == {"kicked": b.peer_id}
                assert await a.recv() == {"t": "peer-left", "peerId": b.peer_id}
                events = list(await receiver.wait_for(4))
                metrics = (await http.get("/metrics")).text
            await a.close()
            await example.signaling.hub.close()
    assert [e["event"] for e in events] == [
        "room_started",
        "peer_joined",
        "peer_joined",
        "peer_left",
    ]
    assert "rtcroom_joins_total 2.0" in metrics
    assert 'rtcroom_leaves_total{reason="kicked"} 1.0' in metrics
    assert 'rtcroom_webhook_events_total{outcome="delivered"} 4.0' in metrics


async def test_the_operations_example_for_aiohttp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTCROOM_ADMIN_SECRET", ADMIN)
    example = load_example("operations_aiohttp")
    async with run_aiohttp(example.app) as port:
        a, b = await join_room(f"ws://127.0.0.1:{port}/api/call/signal", "aio", 2)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/admin/rooms")).status_code == 401
            auth = {"Authorization": f"Bearer {ADMIN}"}
            rooms = (await http.get("/admin/rooms", headers=auth)).json()["rooms"]
            assert [p["peerId"] for p in rooms[0]["peers"]] == [a.peer_id, b.peer_id]
            kicked = await http.post(f"/admin/peers/{b.peer_id}/kick", headers=auth)
            assert kicked.json() == {"kicked": b.peer_id}
            assert await a.recv() == {"t": "peer-left", "peerId": b.peer_id}
            metrics = await http.get("/metrics")
        assert metrics.headers["content-type"].startswith("text/plain; version=")
        assert "rtcroom_joins_total 2.0" in metrics.text
        assert 'rtcroom_leaves_total{reason="kicked"} 1.0' in metrics.text
        await a.close()
        await example.signaling.hub.close()
