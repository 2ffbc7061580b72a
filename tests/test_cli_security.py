"""``rtcroom token create`` and ``rtcroom serve``'s token, ICE-server and limit options, run as
an operator runs them (subprocesses, secrets in the environment)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from rtcroom import JoinTokens
from rtcroom.testing import ServeProcess

from .secure_support import SECRET, closed_with, connect, refused_status
from .support import free_port, serve_layer_option
from .test_serve import ROOT

TURN_SECRET = "turn-" + "q" * 40


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("RTCROOM_")}
    return {**base, "PYTHONPATH": str(ROOT / "src"), **extra}


def rtcroom(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rtcroom.cli", *args],
        capture_output=True,
        text=True,
        env=env(**extra),
        timeout=30,
        check=False,
    )


def test_token_create_prints_a_token_the_server_accepts(tmp_path: Path) -> None:
    done = rtcroom(
        "token", "create", "--room", "team-*", "--identity", "alice", "--ttl", "1h",
        "--name", "Alice", "--metadata", '{"role": "host"}', RTCROOM_SECRET=SECRET,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    identity = JoinTokens(SECRET).verify(done.stdout.strip())
    assert (identity.sub, identity.room, identity.name) == ("alice", "team-*", "Alice")
    assert identity.metadata == {"role": "host"}
    assert identity.expires_at is not None and 3590 < identity.expires_at - time.time() <= 3600
    # The secret from another variable, or from a file.
    other = rtcroom(
        "token", "create", "--room", "r", "--identity", "bob", "--secret-env", "MY_SECRET",
        MY_SECRET=SECRET,
    )  # fmt: skip
    assert JoinTokens(SECRET).verify(other.stdout.strip()).sub == "bob"
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    filed = rtcroom(
        "token", "create", "--room", "r", "--identity", "carol", "--secret-file", str(secret_file)
    )
    assert JoinTokens(SECRET).verify(filed.stdout.strip()).sub == "carol"


def test_token_create_says_what_is_wrong() -> None:
    for args, extra, message in (
        ([], {}, "set the environment variable RTCROOM_SECRET"),
        ([], {"RTCROOM_SECRET": "short"}, "needs at least 32"),
        (["--ttl", "soon"], {"RTCROOM_SECRET": SECRET}, "'soon' is not a duration"),
        (["--metadata", "{"], {"RTCROOM_SECRET": SECRET}, "--metadata must be JSON"),
    ):
        done = rtcroom("token", "create", "--room", "r", "--identity", "a", *args, **extra)
        assert done.returncode == 2, done
        assert message in done.stderr
        assert "short" not in done.stderr or "short" not in extra.get("RTCROOM_SECRET", "")


pytestmark = pytest.mark.usefixtures("serve_layer")


@contextlib.asynccontextmanager
async def serve(*args: str, **extra: str) -> AsyncIterator[ServeProcess]:
    """``rtcroom serve`` with ``extra`` in its environment, once it is ready."""
    layer = serve_layer_option()
    async with ServeProcess(*args, *layer, log_level="info", env=env(**extra)) as served:
        yield served


def banner(served: ServeProcess) -> str:
    """The second start-up line: join tokens and the ICE servers clients are told."""
    return served.output().splitlines()[1]


async def test_serve_turns_tokens_and_ice_servers_on_from_the_environment() -> None:
    async with serve(
        "--turn-url", "turn:127.0.0.1:3478", "--stun-url", "stun:127.0.0.1:3478",
        "--turn-ttl", "3600",
        RTCROOM_SECRET=SECRET, RTCROOM_TURN_SECRET=TURN_SECRET,
    ) as served:  # fmt: skip
        port = served.port
        assert banner(served) == (
            "rtcroom: join tokens required (HS256, key from $RTCROOM_SECRET); ICE servers for "
            "clients: stun:127.0.0.1:3478, turn:127.0.0.1:3478 (credentials for 1 h)"
        )
        url = f"ws://127.0.0.1:{port}/api/call/signal"
        assert await closed_with(await connect(url)) == (
            4401,
            "Join token missing (pass ?token=... or Authorization: Bearer)",
        )
        token = rtcroom(
            "token", "create", "--room", "r", "--identity", "dave", RTCROOM_SECRET=SECRET
        ).stdout.strip()
        client = await connect(f"{url}?token={token}")
        joined = await client.join("r")
        assert joined["iceServers"][1]["username"].endswith(":dave")
        async with httpx.AsyncClient() as http:
            fetched = await http.get(f"{url.replace('ws:', 'http:')}/ice-servers?token={token}")
        assert fetched.status_code == 200
        assert fetched.json()["iceServers"][0] == {"urls": ["stun:127.0.0.1:3478"]}
        await client.close()
        await served.send_signal()
        everything = served.output()
    assert SECRET not in everything and TURN_SECRET not in everything
    assert token not in everything


async def test_tokens_are_redacted_from_access_logs() -> None:
    """Access lines (shown at --log-level debug) carry ``token=[redacted]``, never the token."""
    async with serve("--log-level", "debug", RTCROOM_SECRET=SECRET) as served:
        token = rtcroom(
            "token", "create", "--room", "r", "--identity", "erin", RTCROOM_SECRET=SECRET
        ).stdout.strip()
        client = await connect(f"{served.url}?token={token}")
        await client.join("r")
        async with httpx.AsyncClient() as http:
            url = served.url.replace("ws:", "http:")
            assert (await http.get(f"{url}/ice-servers?token={token}")).status_code == 200
        await client.close()
        await served.send_signal()
        everything = served.output()
    assert SECRET not in everything and token not in everything
    assert "token=[redacted]" in everything


async def test_serve_with_no_security_options_says_so_and_keeps_todays_behaviour() -> None:
    async with serve() as served:
        assert banner(served) == (
            "rtcroom: no join tokens (anyone who reaches the server may join any room); "
            "no ICE servers given to clients (they use their own defaults)"
        )
        client = await connect(served.url)
        assert set(await client.join("r")) == {"t", "peerId", "roomId", "peers"}
        await client.close()


async def test_serve_limits_options_reach_the_server() -> None:
    async with serve(
        "--allow-origin", "https://app.example.com", "--max-sockets-per-address", "2"
    ) as served:  # fmt: skip
        url, port = served.url, served.port
        assert (await refused_status(url, origin="https://evil.example.com"))[0] == 403
        same_host = f"http://127.0.0.1:{port}"  # the demo page, served by this server
        held = [await connect(url, origin=same_host) for _ in range(2)]
        assert (await refused_status(url))[0] == 429
        for client in held:
            await client.close()


def test_serve_refuses_bad_security_options() -> None:
    for args, extra, message in (
        (["--turn-url", "turn:127.0.0.1:3478"], {}, "RTCROOM_TURN_SECRET"),
        (["--stun-url", "http://x"], {}, "is not a stun or stuns URL"),
        ([], {"RTCROOM_SECRET": "short"}, "$RTCROOM_SECRET: the token secret is 5 bytes"),
        (["--secret-file", "/nonexistent/secret"], {}, "--secret-file /nonexistent/secret"),
        (["--frame-rate", "-1"], {}, "--frame-rate must be a number >= 0"),
    ):
        done = rtcroom("serve", "--port", str(free_port()), *args, **extra)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr, done.stderr


def test_token_create_signs_with_a_private_key_for_es256(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = tmp_path / "signing.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    done = rtcroom(
        "token", "create", "--room", "r", "--identity", "svc", "--private-key-file", str(private)
    )
    assert done.returncode == 0, done.stderr
    assert JoinTokens(public_key=public).verify(done.stdout.strip()).sub == "svc"
