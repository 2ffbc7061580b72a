"""Typed exceptions of the peer client.

The rule (documented in the README): a mistake in the program (a name that does not exist, a
call in the wrong state) raises; a condition of the network that comes and goes (a channel that
is not open yet, a peer that has no such channel) makes a send return ``False``.
"""

from __future__ import annotations


class CallError(Exception):
    """Base class of every error the peer client raises."""


class SignalingError(CallError):
    """The signaling server answered with an ``error`` frame (its exact text is ``message``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class JoinRefusedError(SignalingError):
    """The signaling server answered the ``join`` with an ``error`` frame (room id too long,
    rooms unavailable, a token refused, ...): ``message`` is its reason; nobody was registered."""


class SignalingClosedError(SignalingError):
    """The server closed the signaling socket with a code that says a reconnect would only be
    refused again (``code`` and ``reason`` as the server sent them); the call ended instead of
    reconnecting. 4409: another socket with the same identity replaced this one; 1008: this
    client sent frames faster than the server allows."""

    def __init__(self, message: str, code: int, reason: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


class AuthError(SignalingClosedError):
    """The server's auth refused the socket (close codes 4401-4406, 1011): no token, a malformed
    one, a bad signature, expired (4404: get a new token from your app), not yet valid, not
    authorized, or the server's auth check failed. Reconnecting with the same token cannot help."""


class InvalidSignalError(CallError):
    """The signaling server sent a frame that breaks the protocol (wrong shape or type, an
    oversized SDP, a malformed peer id); it was dropped. ``peer_id`` names the peer it claimed
    to come from, ``frame_type`` its ``t``, if any."""

    def __init__(self, message: str, peer_id: str | None = None) -> None:
        super().__init__(message)
        self.peer_id = peer_id
        self.frame_type: str | None = None


class RoomFullError(JoinRefusedError):
    """The room already holds ``max_peers`` members; nobody was registered."""


class SignalingConnectionError(CallError):
    """The signaling WebSocket could not be opened (wrong URL, server down, refused)."""


class ConnectionTimeoutError(CallError, TimeoutError):
    """``connection_timeout`` (or ``wait_connected``'s timeout) ran out before the connection
    was up; the message says what was missing (no other peer, no ICE path, a closed channel)."""


class ReconnectFailedError(CallError):
    """The signaling socket dropped and every reconnect attempt failed."""


class CallEndedError(CallError):
    """The call went back to ``idle`` (``hangup()``, a timeout) while this operation waited."""


class NotConnectedError(CallError):
    """The operation needs a call that is connecting or connected; call ``connect()`` first."""


class UnknownPeerError(CallError, LookupError):
    """No remote peer of this call has that id (see ``call.remote_peer_ids``)."""


class UnknownChannelError(CallError, LookupError):
    """No data channel of this call has that label (see ``call.get_data_channel_labels()``)."""


class BufferFullError(CallError):
    """A send would queue more than ``max_buffered_amount`` bytes on one channel;
    ``await call.drain(label)`` before sending more."""


class NegotiationError(CallError):
    """An offer/answer exchange with one peer failed or did not finish in time, or the peer's
    SDP is not valid. ``peer_id`` names that peer (None if unknown)."""

    def __init__(self, message: str, peer_id: str | None = None) -> None:
        super().__init__(message)
        self.peer_id = peer_id
