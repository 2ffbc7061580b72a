"""Join tokens and custom auth, over real sockets on both transports."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from rtcroom import (
    AuthCloseCode,
    AuthRefused,
    Identity,
    JoinTokens,
    RequestInfo,
    SignalingCallbacks,
    tokens,
)
from rtcroom.auth import AUTH_MESSAGES
from rtcroom.tokens import TokenConfigError

from .secure_support import (
    SECRET,
    closed_with,
    connect,
    refused_close,
    secure_server,
)
from .support import join_room

OTHER_SECRET = "another-secret-" + "z" * 40


def token(**claims: Any) -> str:
    options: dict[str, Any] = {"room": "r1", "identity": "alice"} | claims
    return tokens.create(SECRET, **options)


def raw_jwt(claims: dict[str, Any], key: str = SECRET) -> str:
    return jwt.encode(claims, key, algorithm="HS256")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


NOW = time.time()
DAY = 86400  # the suite may run these long after collection built the tokens
FAILURES: list[tuple[str, str | None, AuthCloseCode]] = [
    ("missing", None, AuthCloseCode.TOKEN_MISSING),
    ("not a JWT", "hello", AuthCloseCode.TOKEN_MALFORMED),
    ("no room claim", raw_jwt({"sub": "a", "exp": int(NOW) + DAY}), AuthCloseCode.TOKEN_MALFORMED),
    ("no exp claim", raw_jwt({"sub": "a", "room": "r1"}), AuthCloseCode.TOKEN_MALFORMED),
    (
        "max_peers not a number",
        raw_jwt({"sub": "a", "room": "r1", "exp": int(NOW) + DAY, "max_peers": "lots"}),
        AuthCloseCode.TOKEN_MALFORMED,
    ),
    (
        "another secret",
        tokens.create(OTHER_SECRET, room="r1", identity="a"),
        AuthCloseCode.TOKEN_BAD_SIGNATURE,
    ),
    (
        "unsigned (alg none)",
        b64(b'{"alg":"none","typ":"JWT"}')
        + "."
        + b64(b'{"sub":"a","room":"r1","exp":%d}' % (int(NOW) + DAY))
        + ".",
        AuthCloseCode.TOKEN_BAD_SIGNATURE,
    ),
    (
        "expired",
        tokens.create(SECRET, room="r1", identity="a", ttl=60, now=NOW - 3600),
        AuthCloseCode.TOKEN_EXPIRED,
    ),
    (
        "not yet valid",
        tokens.create(SECRET, room="r1", identity="a", not_before=NOW + 3600, ttl=7200),
        AuthCloseCode.TOKEN_NOT_YET_VALID,
    ),
]


@pytest.mark.parametrize(("case", "bad_token", "code"), FAILURES, ids=[f[0] for f in FAILURES])
async def test_each_bad_token_is_refused_with_its_own_code_and_reason(
    transport: str,
    case: str,
    bad_token: str | None,
    code: AuthCloseCode,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with secure_server(transport, auth=JoinTokens(SECRET)) as server:
        url = server.url if bad_token is None else f"{server.url}?token={bad_token}"
        assert await refused_close(url) == (int(code), AUTH_MESSAGES[code])
        # Refused before any room logic: no room, no peer.
        assert await server.hub.get_rooms() == {}
        assert server.hub.addresses.sockets("127.0.0.1") == 0
    # What the server logged (the client library logs its own request line, token included).
    logged = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("websockets")
    )
    assert SECRET not in logged
    assert bad_token is None or len(bad_token) < 12 or bad_token not in logged


async def test_a_valid_token_joins_and_the_protocol_is_unchanged(transport: str) -> None:
    async with secure_server(transport, auth=JoinTokens(SECRET)) as server:
        url = f"{server.url}?token={token(room='r1')}"
        a, b = await join_room(url, "r1", 2)
        await a.send({"t": "sdp", "to": b.peer_id, "description": {"type": "offer", "sdp": "x"}})
        assert await b.recv() == {
            "t": "sdp",
            "from": a.peer_id,
            "description": {"type": "offer", "sdp": "x"},
        }
        await a.close()
        await b.close()


async def test_the_bearer_header_carries_a_token_for_non_browser_clients(transport: str) -> None:
    async with secure_server(transport, auth=JoinTokens(SECRET)) as server:
        client = await connect(
            server.url, additional_headers={"Authorization": f"Bearer {token()}"}
        )
        assert (await client.join("r1"))["t"] == "joined"
        await client.close()


async def test_a_room_the_token_does_not_grant_gets_an_error_and_the_socket_stays_open(
    transport: str,
) -> None:
    errors: list[Exception] = []
    callbacks = SignalingCallbacks(on_error=lambda e, p, r: errors.append(e))
    async with secure_server(transport, auth=JoinTokens(SECRET), callbacks=callbacks) as server:
        client = await connect(f"{server.url}?token={token(room='team-*')}")
        await client.send({"t": "join", "roomId": "other"})
        assert await client.recv() == {
            "t": "error",
            "message": "Not allowed to join this room (your token grants room 'team-*')",
        }
        assert await server.hub.get_rooms() == {}
        assert len(errors) == 1
        # Same socket, a granted room: the pattern's * matches any run of characters.
        assert (await client.join("team-blue/standup"))["roomId"] == "team-blue/standup"
        await client.close()


async def test_star_alone_grants_every_room_and_max_peers_overrides_the_server(
    transport: str,
) -> None:
    async with secure_server(transport, auth=JoinTokens(SECRET), max_peers=2) as server:
        url = f"{server.url}?token={token(room='*', max_peers=3)}"
        clients = await join_room(url, "any-room", 3)  # 3 > the server's 2
        fourth = await connect(url)
        await fourth.send({"t": "join", "roomId": "any-room"})
        assert await fourth.recv() == {"t": "error", "message": "Room is full (max 3 peers)"}
        for c in [*clients, fourth]:
            await c.close()


async def test_es256_and_eddsa_tokens_minted_elsewhere_verify_with_the_public_key(
    transport: str,
) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ed_key = ed25519.Ed25519PrivateKey.generate()

    def pem(private: Any) -> tuple[bytes, bytes]:
        priv = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        pub = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return priv, pub

    for private, algorithm in ((ec_key, "ES256"), (ed_key, "EdDSA")):
        priv, pub = pem(private)
        signed = tokens.create(priv, room="r1", identity="bob")
        assert jwt.get_unverified_header(signed)["alg"] == algorithm
        async with secure_server(transport, auth=JoinTokens(public_key=pub)) as server:
            client = await connect(f"{server.url}?token={signed}")
            await client.join("r1")
            await client.close()
            # The public key used as an HMAC secret (algorithm confusion) is refused.
            forged = jwt.encode(
                {"sub": "eve", "room": "*", "exp": int(time.time()) + 60},
                b"x" * 40,
                algorithm="HS256",
            )
            code, _ = await refused_close(f"{server.url}?token={forged}")
            assert code == AuthCloseCode.TOKEN_BAD_SIGNATURE


def test_create_refuses_a_short_secret_and_bad_claims_with_what_to_do() -> None:
    with pytest.raises(TokenConfigError, match="at least 32"):
        tokens.create("short", room="r", identity="a")
    with pytest.raises(ValueError, match=r"Identity\.sub"):
        tokens.create(SECRET, room="r", identity="")
    with pytest.raises(ValueError, match="ttl"):
        tokens.create(SECRET, room="r", identity="a", ttl=0)
    with pytest.raises(TokenConfigError, match="at least 32"):
        JoinTokens("short")
    assert "k" * 20 not in repr(JoinTokens(SECRET))


def test_a_token_carries_name_metadata_and_expiry_to_the_identity() -> None:
    signed = tokens.create(
        SECRET, room="r*", identity="carol", ttl=120, name="Carol", metadata={"role": "host"}
    )
    identity = JoinTokens(SECRET).verify(signed)
    assert identity.sub == "carol" and identity.name == "Carol"
    assert identity.metadata == {"role": "host"} and identity.room == "r*"
    assert identity.expires_at is not None and 100 < identity.expires_at - time.time() <= 120


# --- custom auth ---------------------------------------------------------------------------


async def cookie_auth(request: RequestInfo) -> Identity | None:
    """What an app with its own login writes: its session cookie names the user."""
    await asyncio.sleep(0)  # an async lookup
    user = {"s-alice": "alice", "s-bob": "bob"}.get(request.cookies.get("session", ""))
    if user is None:
        return None
    return Identity(user, room="*", name=user.title(), metadata={"ip": request.address})


async def test_custom_auth_reads_cookies_and_refuses_with_4406(transport: str) -> None:
    async with secure_server(transport, auth=cookie_auth) as server:
        client = await connect(server.url, additional_headers={"Cookie": "session=s-alice"})
        await client.join("r")
        identity = server.hub.peer_identity(client.peer_id or "")
        assert identity == Identity("alice", room="*", name="Alice", metadata={"ip": "127.0.0.1"})
        await client.close()
        code = AuthCloseCode.NOT_AUTHORIZED
        refused = await refused_close(server.url, additional_headers={"Cookie": "session=nope"})
        assert refused == (int(code), "Not authorized")


async def test_a_sync_auth_that_raises_closes_with_1011_and_logs_why(
    transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(request: RequestInfo) -> Identity | None:
        raise RuntimeError("user database is down")

    async with secure_server(transport, auth=broken) as server:
        code = AuthCloseCode.AUTH_FAILED
        assert await refused_close(server.url) == (1011, AUTH_MESSAGES[code])
    assert "user database is down" in caplog.text


def test_auth_must_be_callable() -> None:
    from rtcroom import webrtc

    with pytest.raises(TypeError, match="auth must be a callable"):
        webrtc(auth="secret")  # type: ignore[arg-type]


# --- identity seen by the host app --------------------------------------------------------


async def test_identity_is_visible_in_callbacks_and_kick_by_identity(transport: str) -> None:
    seen: list[tuple[str, str, str | None]] = []
    holder: dict[str, Any] = {}

    def on_join(peer_id: str, room_id: str) -> None:
        identity = holder["hub"].peer_identity(peer_id)
        seen.append(("join", room_id, identity.name if identity else None))

    def on_leave(peer_id: str, room_id: str, reason: str) -> None:
        identity = holder["hub"].peer_identity(peer_id)
        seen.append((reason, room_id, identity.sub if identity else None))

    callbacks = SignalingCallbacks(on_peer_join=on_join, on_peer_leave=on_leave)
    async with secure_server(transport, auth=JoinTokens(SECRET), callbacks=callbacks) as server:
        holder["hub"] = server.hub
        a = await connect(f"{server.url}?token={token(identity='alice', name='Alice')}")
        b = await connect(f"{server.url}?token={token(identity='bob')}")
        await a.join("r1")
        await b.join("r1")
        assert await a.recv() == {"t": "peer-joined", "peerId": b.peer_id}
        subs = {p: i.sub for p, i in server.hub.local_identities().items()}
        assert subs == {a.peer_id: "alice", b.peer_id: "bob"}
        assert await server.hub.kick_identity("bob") == [b.peer_id]
        assert await closed_with(b) == (4000, "kicked")
        assert await a.recv() == {"t": "peer-left", "peerId": b.peer_id}
        assert seen == [("join", "r1", "Alice"), ("join", "r1", None), ("kicked", "r1", "bob")]
        await a.close()


async def test_duplicate_identity_allow_is_the_default(transport: str) -> None:
    async with secure_server(transport, auth=JoinTokens(SECRET), max_peers=3) as server:
        url = f"{server.url}?token={token()}"
        clients = await join_room(url, "r1", 2)
        assert len((await server.hub.get_rooms())["r1"]) == 2
        for c in clients:
            await c.close()


async def test_duplicate_identity_reject_answers_an_error_frame(transport: str) -> None:
    async with secure_server(
        transport, auth=JoinTokens(SECRET), on_duplicate_identity="reject"
    ) as server:
        url = f"{server.url}?token={token()}"
        first = await connect(url)
        await first.join("r1")
        second = await connect(url)
        await second.send({"t": "join", "roomId": "r1"})
        assert await second.recv() == {
            "t": "error",
            "message": "Identity 'alice' is already in this room (one connection per identity)",
        }
        assert (await server.hub.get_rooms())["r1"] == [first.peer_id]
        await first.close()
        await second.close()


async def test_duplicate_identity_replace_closes_the_older_socket(transport: str) -> None:
    leaves: list[str] = []
    callbacks = SignalingCallbacks(on_peer_leave=lambda p, r, why: leaves.append(why))
    async with secure_server(
        transport,
        auth=JoinTokens(SECRET),
        on_duplicate_identity="replace",
        callbacks=callbacks,
    ) as server:
        alice_url = f"{server.url}?token={token()}"
        bob = await connect(f"{server.url}?token={token(identity='bob')}")
        old = await connect(alice_url)
        await bob.join("r1")
        await old.join("r1")
        assert await bob.recv() == {"t": "peer-joined", "peerId": old.peer_id}
        new = await connect(alice_url)  # max_peers 2: only fits once the old one is gone
        joined = await new.join("r1")
        assert joined["peers"] == [bob.peer_id]
        assert await closed_with(old) == (
            4409,
            "Replaced by a newer connection with the same identity",
        )
        assert await bob.recv() == {"t": "peer-left", "peerId": old.peer_id}
        assert await bob.recv() == {"t": "peer-joined", "peerId": new.peer_id}
        assert leaves == ["replaced"]
        await bob.close()
        await new.close()


# --- the examples ----------------------------------------------------------------------------


def _example(name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    import importlib
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    monkeypatch.syspath_prepend(root)
    monkeypatch.setenv("RTCROOM_SECRET", SECRET)
    monkeypatch.setenv("RTCROOM_TURN_SECRET", "turn-" + SECRET)
    sys.modules.pop(f"examples.{name}", None)
    return importlib.import_module(f"examples.{name}")


async def test_the_tokens_example(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    from .support import run_uvicorn

    app = _example("tokens_app", monkeypatch).app
    async with run_uvicorn(app) as port:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as http:
            minted = (await http.get(f"{base}/token", params={"user": "a", "room": "r"})).json()
            ice = await http.get(f"{base}/api/call/signal/ice-servers?token={minted['token']}")
        assert ice.json()["iceServers"][1]["username"].endswith(":a")
        url = f"ws://127.0.0.1:{port}/api/call/signal?token={minted['token']}"
        client = await connect(url, origin="https://app.example.com")
        assert (await client.join("r"))["iceServers"][0] == {"urls": ["stun:turn.example.com:3478"]}
        await client.close()


async def test_the_cookie_auth_example(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    from .support import run_uvicorn

    app = _example("cookie_auth_app", monkeypatch).app
    async with run_uvicorn(app) as port:
        url = f"ws://127.0.0.1:{port}/api/call/signal"
        client = await connect(url, additional_headers={"Cookie": "session=s-bob"})
        await client.join("r")
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{port}/who")).json() == {
                client.peer_id: "bob"
            }
        await client.close()
        assert (await refused_close(url))[0] == 4406


async def test_an_auth_callable_may_refuse_with_its_own_code_and_reason(transport: str) -> None:
    def expired_session(request: RequestInfo) -> Identity | None:
        raise AuthRefused(
            AuthCloseCode.TOKEN_EXPIRED, "Session expired, sign in again " + "!" * 200
        )

    async with secure_server(transport, auth=expired_session) as server:
        code, reason = await refused_close(server.url)
        assert code == 4404
        assert reason.startswith("Session expired, sign in again !!!") and reason.endswith("...")
        assert len(reason.encode()) <= 123
