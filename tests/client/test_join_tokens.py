"""The Python peer on a token-protected server: the token in the signal URL's query or as a
bearer header; refusals end the call with a typed error, never a reconnect loop, and the token
never shows in a message."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from rtcroom import JoinTokens, tokens
from rtcroom.client import (
    AuthError,
    CallState,
    DataChannelMessageEvent,
    ErrorEvent,
    ReconnectFailedError,
    ReconnectingEvent,
    SignalingClosedError,
    SignalingConnectionError,
    WebRTCCall,
)
from rtcroom.testing import ServeProcess, free_port, this_rtcroom_env
from tests.secure_support import SECRET, secure_server

from .helpers import WAIT, Recorder

LOCAL = {"ice_servers": [], "ice_host_addresses": ["127.0.0.1"], "data_channels": ["chat"]}


async def test_two_python_peers_join_with_tokens_and_exchange_data() -> None:
    async with secure_server("uvicorn", auth=JoinTokens(SECRET)) as server:
        urls = [
            f"{server.url}?token={tokens.create(SECRET, room='py-*', identity=who)}"
            for who in ("alice", "bob")
        ]
        async with WebRTCCall("py-room", urls[0], **LOCAL) as alice:
            async with WebRTCCall("py-room", urls[1], **LOCAL) as bob:
                await asyncio.gather(
                    alice.wait_connected(timeout=20), bob.wait_connected(timeout=20)
                )
                identities = server.hub.local_identities()
                assert identities[alice.peer_id or ""].sub == "alice"
                assert identities[bob.peer_id or ""].sub == "bob"
                async with alice.events() as events:
                    bob.send_string("chat", "hi alice")
                    async with asyncio.timeout(20):
                        async for event in events:
                            if isinstance(event, DataChannelMessageEvent):
                                assert (event.peer_id, event.data) == (bob.peer_id, "hi alice")
                                break


async def test_the_token_option_is_sent_as_a_bearer_header() -> None:
    async with secure_server("aiohttp", auth=JoinTokens(SECRET)) as server:
        token = tokens.create(SECRET, room="r", identity="carol")
        async with WebRTCCall("r", server.url, token=token, **LOCAL) as carol:
            assert carol.peer_id is not None
            assert server.hub.local_identities()[carol.peer_id].sub == "carol"


def test_a_token_given_twice_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="given twice") as caught:
        WebRTCCall("r", "ws://127.0.0.1:9/api/call/signal?token=abc.def", token="abc.def")
    assert "abc.def" not in str(caught.value)


def _expired() -> str:
    return tokens.create(SECRET, room="*", identity="old", ttl=60, now=time.time() - 3600)


def _raises(_: object) -> None:
    raise RuntimeError("the session store is down")


REFUSALS = {
    # case: (auth, token in the URL, expected close code, words of the message)
    "missing": (JoinTokens(SECRET), None, 4401, "requires a join token"),
    "malformed": (JoinTokens(SECRET), "not-a-jwt", 4402, "not a join token"),
    "other secret": (
        JoinTokens(SECRET),
        tokens.create("another-secret-" + "x" * 40, room="*", identity="eve"),
        4403,
        "signed with another",
    ),
    "expired": (JoinTokens(SECRET), _expired(), 4404, "token expired: get a new one"),
    "not yet valid": (
        JoinTokens(SECRET),
        tokens.create(SECRET, room="*", identity="early", not_before=time.time() + 3600),
        4405,
        "not valid yet",
    ),
    "not authorized": (lambda _: None, "anything", 4406, "auth refused this client"),
    "auth check failed": (_raises, "anything", 1011, "auth check failed"),
}


@pytest.mark.parametrize("case", REFUSALS)
async def test_a_refused_token_ends_the_call_with_auth_error_and_no_reconnect(case: str) -> None:
    auth, token, code, words = REFUSALS[case]
    async with secure_server("uvicorn", auth=auth) as server:
        url = server.url if token is None else f"{server.url}?token={token}"
        call = WebRTCCall("r", url, reconnect_base_delay=0.05, reconnect_max_delay=0.1, **LOCAL)
        recorder = Recorder(call)
        with pytest.raises(AuthError) as caught:
            await call.connect()
        error = caught.value
        assert (error.code, call.state) == (code, CallState.IDLE)
        assert words in str(error)
        assert error.reason  # the server's own reason
        await asyncio.sleep(0.5)  # well past the first reconnect delay (0.1 s at most)
        assert recorder.of(ReconnectingEvent) == []
        assert [e.error for e in recorder.of(ErrorEvent)] == [error]
        assert server.hub.local_identities() == {}
        if token is not None:
            assert token not in str(error) and "REDACTED" in str(error)
        await recorder.close()
        await call.hangup()


async def test_a_peer_replaced_by_the_same_identity_ends_without_reconnecting() -> None:
    async with secure_server(
        "uvicorn", auth=JoinTokens(SECRET), on_duplicate_identity="replace"
    ) as server:
        url = f"{server.url}?token={tokens.create(SECRET, room='r', identity='dave')}"
        first = WebRTCCall("r", url, **LOCAL)
        recorder = Recorder(first)
        await first.connect()
        async with WebRTCCall("r", url, **LOCAL) as second:
            await recorder.until(lambda: first.state == CallState.IDLE)
            [event] = recorder.of(ErrorEvent)
            assert isinstance(event.error, SignalingClosedError)
            assert not isinstance(event.error, AuthError)
            assert event.error.code == 4409
            assert "same identity" in str(event.error)
            assert recorder.of(ReconnectingEvent) == []
            assert list(server.hub.local_identities()) == [second.peer_id]
        await recorder.close()


async def test_a_kicked_peer_ends_without_reconnecting() -> None:
    """The host app's ``hub.kick`` (close 4000) is final: the client does not rejoin."""
    async with secure_server("uvicorn") as server:
        call = WebRTCCall("r", server.url, reconnect_base_delay=0.05, **LOCAL)
        recorder = Recorder(call)
        await call.connect()
        assert await server.hub.kick(call.peer_id or "")
        await recorder.until(lambda: call.state == CallState.IDLE)
        [event] = recorder.of(ErrorEvent)
        assert isinstance(event.error, SignalingClosedError)
        assert event.error.code == 4000 and "kicked" in str(event.error)
        await asyncio.sleep(0.5)  # well past the first reconnect delay
        assert recorder.of(ReconnectingEvent) == []
        assert await server.hub.get_rooms() == {}
        await recorder.close()
        await call.hangup()


async def test_the_token_never_shows_in_a_connection_error_or_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = tokens.create(SECRET, room="*", identity="frank")
    url = f"ws://127.0.0.1:{free_port()}/api/call/signal?token={token}"  # nothing listens there
    call = WebRTCCall("r", url, **LOCAL)
    with caplog.at_level(logging.DEBUG), pytest.raises(SignalingConnectionError) as caught:
        await call.connect()
    assert token not in str(caught.value) and "token=REDACTED" in str(caught.value)
    assert token not in caplog.text


async def test_reconnect_failed_error_names_the_server_without_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = tokens.create(SECRET, room="*", identity="gina")
    env = {**this_rtcroom_env(), "RTCROOM_SECRET": SECRET}
    async with ServeProcess(env=env) as server:
        call = WebRTCCall(
            "r",
            f"{server.url}?token={token}",
            max_reconnect_attempts=1,
            reconnect_base_delay=0.05,
            reconnect_max_delay=0.1,
            **LOCAL,
        )
        await call.connect()
        waiting = asyncio.get_running_loop().create_task(call.wait_connected(timeout=WAIT))
        server.kill()  # gone at once: the one reconnect attempt is refused, and the call ends
        with caplog.at_level(logging.DEBUG), pytest.raises(ReconnectFailedError) as caught:
            await waiting
    assert "dropped and 1 reconnect attempts failed" in str(caught.value)
    assert token not in str(caught.value) and "token=REDACTED" in str(caught.value)
    assert token not in caplog.text
