"""``rtcroom doctor`` against a real ``rtcroom serve`` and a real coturn, in the namespace."""

from __future__ import annotations

from pathlib import Path

from rtcroom import tokens
from rtcroom.testing import ServeProcess, free_port, this_rtcroom_env

from ..coturn import Coturn, coturn
from .cli import Command, rtcroom

__all__ = ["coturn"]  # the fixture

HOST = ("--ice-host", "127.0.0.1")  # aioice never gathers on loopback otherwise


async def test_relay_found_with_the_credentials_the_server_hands_out(
    coturn: Coturn, tmp_path: Path
) -> None:
    secret = tmp_path / "turn-secret"
    secret.write_text(coturn.secret)
    async with ServeProcess(
        "--stun-url", f"stun:127.0.0.1:{coturn.port}",
        "--turn-url", coturn.url,
        "--turn-secret-file", str(secret),
    ) as server:
        done = await rtcroom("doctor", "--url", server.url, *HOST)
    assert done.status == 0, done
    lines = done.out.splitlines()
    assert lines[0] == f"✓ HTTP {server.http_url}/healthz: 200 in reach", done
    assert lines[1].startswith(f"✓ WebSocket join {server.url}: joined rtcroom-doctor-"), done
    assert "it offers 2 ICE server entries" in lines[1], done
    assert "✓ ICE host candidates: 127.0.0.1" in lines, done
    assert any(line.startswith(f"✓ STUN stun:127.0.0.1:{coturn.port}: server-reflexive")
               for line in lines), done
    assert any(line.startswith(f"✓ TURN {coturn.url}: credentials accepted; relay candidate "
                               "127.0.0.1:") for line in lines), done
    assert lines[-1] == "all 5 checks passed", done


async def test_refused_turn_credentials_are_told_apart_and_explained(coturn: Coturn) -> None:
    async with ServeProcess() as server:
        done = await rtcroom(
            "doctor", "--url", server.url, *HOST,
            "--turn", coturn.url, "--turn-user", "4102444800:mallory", "--turn-password", "guess",
        )
    assert done.status == 1, done
    assert f"✗ TURN {coturn.url}: credentials refused (401 Unauthorized)" in done.out, done
    assert "→ the username/password are wrong or expired" in done.out, done
    assert "✓ WebSocket join" in done.out, done
    assert done.out.splitlines()[-1] == "3 of 4 checks passed", done


async def test_an_unreachable_server_and_silent_turn_say_what_to_do() -> None:
    url = f"ws://127.0.0.1:{free_port()}/api/call/signal"
    done = await rtcroom(
        "doctor", "--url", url, *HOST, "--timeout", "2",
        "--turn", f"turn:127.0.0.1:{free_port()}", "--turn-user", "u", "--turn-password", "p",
    )
    assert done.status == 1, done
    assert "✗ HTTP http://127.0.0.1:" in done.out and "unreachable" in done.out, done
    assert "→ is the server running, and is --url right?" in done.out, done
    assert "✗ WebSocket join" in done.out, done
    assert "no answer within 2 s" in done.out, done
    assert "Traceback" not in done.err, done


async def test_a_server_that_wants_tokens() -> None:
    secret = "s" * 48
    env = {**this_rtcroom_env(), "RTCROOM_SECRET": secret}
    token = tokens.create(secret, room="rtcroom-doctor-*", identity="doctor")
    async with ServeProcess(env=env) as server:
        refused = await rtcroom("doctor", "--url", server.url, *HOST, "--no-ice-servers")
        accepted = await rtcroom("doctor", "--url", server.url, *HOST, "--no-ice-servers",
                                 "--token", token)
    assert refused.status == 1, refused
    assert f"✗ WebSocket join {server.url}: refused: Join token missing" in refused.out, refused
    assert "→ pass a valid --token (or set RTCROOM_TOKEN)" in refused.out, refused
    assert accepted.status == 0, accepted
    assert f"✓ WebSocket join {server.url}: joined rtcroom-doctor-" in accepted.out, accepted
    assert token not in accepted.out + accepted.err  # never printed


async def test_peer_commands_use_the_ice_servers_the_server_hands_out(
    coturn: Coturn, tmp_path: Path
) -> None:
    """No --ice-server, --no-ice-servers or --ice-host: send and recv take the server's TURN
    entry (with fresh credentials). In the namespace only loopback exists, which aioice never
    gathers on, so the file can only travel relayed through the coturn."""
    secret = tmp_path / "turn-secret"
    secret.write_text(coturn.secret)
    source = tmp_path / "note.txt"
    source.write_text("relayed, it arrives\n" * 1000)
    async with ServeProcess("--turn-url", coturn.url, "--turn-secret-file", str(secret)) as server:
        common = ("--room", "ice", "--url", server.url, "--wait", "30")
        recv = await Command.start("recv", "--out", str(tmp_path / "out"), *common)
        await recv.wait_for_output("waiting for a file")
        sent = await rtcroom("send", str(source), *common)
        received = await recv.finish(30)
    assert sent.status == 0, sent
    assert received.status == 0, received
    assert (tmp_path / "out" / "note.txt").read_text() == source.read_text()
