"""What a call reports: typed event objects, delivered to callbacks and to async iterators.

Every event goes to the matching callback of :class:`CallCallbacks` (with Agentuity's
arguments), to ``on_event`` (with the event object) and to every open :meth:`events` stream.
Sync callbacks run inline, in order. Async callbacks run one after another on a background
task, so a slow one delays later async callbacks but never the network. A callback that raises
is logged and changes nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

log = logging.getLogger("rtcroom.client")

AnyCallback = Callable[..., Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class CallEvent:
    """Base class of all call events. ``callback`` names the matching :class:`CallCallbacks`
    field; ``args()`` gives its positional arguments."""

    callback: ClassVar[str] = ""

    def args(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True, slots=True)
class StateChangeEvent(CallEvent):
    callback: ClassVar[str] = "on_state_change"
    previous: str
    state: str
    reason: str


@dataclass(frozen=True, slots=True)
class ConnectEvent(CallEvent):
    callback: ClassVar[str] = "on_connect"


@dataclass(frozen=True, slots=True)
class DisconnectEvent(CallEvent):
    """``reason`` is ``"hangup"``, ``"timeout"`` or ``"error"`` (Agentuity's mapping)."""

    callback: ClassVar[str] = "on_disconnect"
    reason: str


@dataclass(frozen=True, slots=True)
class PeerJoinedEvent(CallEvent):
    callback: ClassVar[str] = "on_peer_joined"
    peer_id: str


@dataclass(frozen=True, slots=True)
class PeerLeftEvent(CallEvent):
    callback: ClassVar[str] = "on_peer_left"
    peer_id: str


@dataclass(frozen=True, slots=True)
class NegotiationStartEvent(CallEvent):
    callback: ClassVar[str] = "on_negotiation_start"
    peer_id: str


@dataclass(frozen=True, slots=True)
class NegotiationCompleteEvent(CallEvent):
    callback: ClassVar[str] = "on_negotiation_complete"
    peer_id: str


@dataclass(frozen=True, slots=True)
class IceStateChangeEvent(CallEvent):
    callback: ClassVar[str] = "on_ice_state_change"
    peer_id: str
    state: str


@dataclass(frozen=True, slots=True)
class DataChannelOpenEvent(CallEvent):
    callback: ClassVar[str] = "on_data_channel_open"
    peer_id: str
    label: str


@dataclass(frozen=True, slots=True)
class DataChannelCloseEvent(CallEvent):
    callback: ClassVar[str] = "on_data_channel_close"
    peer_id: str
    label: str


@dataclass(frozen=True, slots=True)
class DataChannelMessageEvent(CallEvent):
    """``data``: ``bytes`` for binary, the parsed value for text that is JSON, else the text.
    ``raw``: what travelled (``str`` or ``bytes``), so ``"42"`` sent as a string stays
    recoverable."""

    callback: ClassVar[str] = "on_data_channel_message"
    peer_id: str
    label: str
    data: Any
    raw: str | bytes = field(repr=False)

    def args(self) -> tuple[Any, ...]:
        return (self.peer_id, self.label, self.data)


@dataclass(frozen=True, slots=True)
class DataChannelErrorEvent(CallEvent):
    callback: ClassVar[str] = "on_data_channel_error"
    peer_id: str
    label: str
    error: BaseException


@dataclass(frozen=True, slots=True)
class ErrorEvent(CallEvent):
    """An error the call handled itself (``state`` is the state when it happened)."""

    callback: ClassVar[str] = "on_error"
    error: BaseException
    state: str


@dataclass(frozen=True, slots=True)
class ReconnectingEvent(CallEvent):
    callback: ClassVar[str] = "on_reconnecting"
    attempt: int


@dataclass(frozen=True, slots=True)
class ReconnectedEvent(CallEvent):
    callback: ClassVar[str] = "on_reconnected"


@dataclass(frozen=True, slots=True)
class ReconnectFailedEvent(CallEvent):
    callback: ClassVar[str] = "on_reconnect_failed"


@dataclass(frozen=True, slots=True)
class PeerReconnectingEvent(CallEvent):
    """The network path to this peer broke (ICE failed); the call is repairing it, and the
    peer is still in the room. Its data channels are closed until :class:`PeerReconnectedEvent`."""

    callback: ClassVar[str] = "on_peer_reconnecting"
    peer_id: str


@dataclass(frozen=True, slots=True)
class PeerReconnectedEvent(CallEvent):
    """The connection to this peer works again: ICE connected and its data channels open,
    under the same labels."""

    callback: ClassVar[str] = "on_peer_reconnected"
    peer_id: str


@dataclass(frozen=True, slots=True)
class SignalingLostEvent(CallEvent):
    """The signaling socket dropped and the call is resuming: the peer connections, data
    channels and media carry on; offers and candidates made meanwhile wait in a queue.
    ``reason`` is why the socket ended (``"WebSocket closed"``, ``"join-refused"``)."""

    callback: ClassVar[str] = "on_signaling_lost"
    reason: str


@dataclass(frozen=True, slots=True)
class SignalingRestoredEvent(CallEvent):
    """Signaling is back after a :class:`SignalingLostEvent`. ``resumed``: True if the server
    took us back under the same peer id; False if it refused and the call rejoined as a new
    peer (the app saw ``peer-left`` for every old peer)."""

    callback: ClassVar[str] = "on_signaling_restored"
    resumed: bool


@dataclass(frozen=True, slots=True)
class TrackAddedEvent(CallEvent):
    """A remote media track arrived (``track`` is an ``aiortc.MediaStreamTrack``)."""

    callback: ClassVar[str] = "on_track_added"
    peer_id: str
    track: Any


@dataclass(frozen=True, slots=True)
class ScreenShareStartEvent(CallEvent):
    callback: ClassVar[str] = "on_screen_share_start"


@dataclass(frozen=True, slots=True)
class ScreenShareStopEvent(CallEvent):
    callback: ClassVar[str] = "on_screen_share_stop"


@dataclass(slots=True)
class CallCallbacks:
    """Agentuity's client callbacks in snake_case; each may be a function or a coroutine
    function. ``on_event`` receives every event object."""

    on_state_change: AnyCallback | None = None
    on_connect: AnyCallback | None = None
    on_disconnect: AnyCallback | None = None
    on_peer_joined: AnyCallback | None = None
    on_peer_left: AnyCallback | None = None
    on_negotiation_start: AnyCallback | None = None
    on_negotiation_complete: AnyCallback | None = None
    on_ice_state_change: AnyCallback | None = None
    on_data_channel_open: AnyCallback | None = None
    on_data_channel_close: AnyCallback | None = None
    on_data_channel_message: AnyCallback | None = None
    on_data_channel_error: AnyCallback | None = None
    on_error: AnyCallback | None = None
    on_reconnecting: AnyCallback | None = None
    on_reconnected: AnyCallback | None = None
    on_reconnect_failed: AnyCallback | None = None
    on_peer_reconnecting: AnyCallback | None = None
    on_peer_reconnected: AnyCallback | None = None
    on_signaling_lost: AnyCallback | None = None
    on_signaling_restored: AnyCallback | None = None
    on_track_added: AnyCallback | None = None
    on_screen_share_start: AnyCallback | None = None
    on_screen_share_stop: AnyCallback | None = None
    on_event: AnyCallback | None = None


class EventStream:
    """``async for event in call.events()``: every event from the moment of the call on.

    The buffer is unbounded while the stream is open, so read it or close it (leaving an
    ``async for`` with ``break`` closes it; so does ``async with call.events() as stream``).
    """

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[CallEvent] = asyncio.Queue()
        bus._streams.add(self)

    def _put(self, event: CallEvent) -> None:
        self._queue.put_nowait(event)

    def close(self) -> None:
        self._bus._streams.discard(self)

    def __aiter__(self) -> AsyncIterator[CallEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[CallEvent]:
        try:
            while True:
                yield await self._queue.get()
        finally:
            self.close()

    async def next(self, timeout: float | None = None) -> CallEvent:
        """The next event (``TimeoutError`` after ``timeout`` seconds)."""
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a cancellation that
        # races a ready event, so a Ctrl-C during a fast transfer went unnoticed.
        try:
            async with asyncio.timeout(timeout):
                return await self._queue.get()
        except TimeoutError:
            raise TimeoutError(f"no call event within {timeout:g} s") from None

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class EventBus:
    """Fans each event out to callbacks and streams, preserving order."""

    def __init__(self, callbacks: CallCallbacks | None) -> None:
        self.callbacks = callbacks or CallCallbacks()
        self._streams: set[EventStream] = set()
        self._async_queue: asyncio.Queue[tuple[AnyCallback, tuple[Any, ...]]] | None = None
        self._async_task: asyncio.Task[None] | None = None

    def emit(self, event: CallEvent) -> None:
        for stream in tuple(self._streams):
            stream._put(event)
        self._invoke(getattr(self.callbacks, event.callback), event.args())
        self._invoke(self.callbacks.on_event, (event,))

    def _invoke(self, fn: AnyCallback | None, args: tuple[Any, ...]) -> None:
        if fn is None:
            return
        if inspect.iscoroutinefunction(fn):
            self._queue_async(fn, args)
            return
        try:
            result = fn(*args)
        except Exception:
            log.exception("callback %s raised; the call carries on", _name(fn))
            return
        if inspect.isawaitable(result):  # a sync function that returned a coroutine
            self._queue_async(lambda: result, ())

    def _queue_async(self, fn: AnyCallback, args: tuple[Any, ...]) -> None:
        if self._async_queue is None:
            self._async_queue = asyncio.Queue()
        self._async_queue.put_nowait((fn, args))
        if self._async_task is None or self._async_task.done():
            self._async_task = asyncio.get_running_loop().create_task(self._run_async())

    async def _run_async(self) -> None:
        queue = self._async_queue
        assert queue is not None
        while not queue.empty():
            fn, args = queue.get_nowait()
            try:
                await fn(*args)  # type: ignore[misc]
            except Exception:
                log.exception("async callback %s raised; the call carries on", _name(fn))

    async def aclose(self) -> None:
        """Let queued async callbacks finish (bounded), e.g. at the end of ``async with``."""
        task = self._async_task
        if task is not None and not task.done():
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), 5.0)


def _name(fn: object) -> str:
    return getattr(fn, "__qualname__", repr(fn))
