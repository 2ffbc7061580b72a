"""Frames between processes: one pub/sub channel per room, one per node (for kicks).

A process subscribes to the rooms it has members in; a frame between two peers of the same
process never touches Redis. Frames from Redis go to each local peer through its own outbox,
so one client that stops reading cannot stall the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ... import protocol
from ..base import BackendUnavailable, Deliver, Detach, Kick
from .address import RedisAddress
from .frames import GONE, KICK, RELAY, TAKEOVER, Channels, Frame
from .outbox import Outboxes
from .peers import LocalPeers
from .resp import RespLink

log = logging.getLogger("rtcroom.redis")

Link = RespLink
"""The pub/sub connection the relay uses (see ``bench/redis_pubsub_bench.py`` for why)."""

Holds = Callable[[str], Awaitable[bool]]
"""``holds(peer_id)``: whether Redis says this node holds the peer now."""


@dataclass(slots=True)
class _Subscription:
    """A room's channel, subscribed while this process has members there."""

    channel: bytes
    refs: int = 0
    confirmed: asyncio.Event = field(default_factory=asyncio.Event)


class Relay:
    """Publishes this process's frames and delivers the other processes' to local peers."""

    def __init__(self, node_id: str, key_prefix: str, peers: LocalPeers, timeout: float):
        self.node_id = node_id
        self.peers = peers
        self.timeout = timeout
        self.channels = Channels(key_prefix)
        self.dropped = 0  # frames for other processes lost while Redis was away
        self._node_channel = self.channels.node(node_id)
        self._subscriptions: dict[str, _Subscription] = {}
        self._link: Link | None = None
        self._deliver: Deliver | None = None
        self._kick: Kick | None = None
        self._detach: Detach | None = None
        self._holds: Holds | None = None
        self._outboxes: Outboxes | None = None

    def start(
        self, deliver: Deliver, kick: Kick, detach: Detach | None = None, holds: Holds | None = None
    ) -> None:
        self._deliver, self._kick, self._detach, self._holds = deliver, kick, detach, holds
        self._outboxes = Outboxes(deliver)

    def stop(self) -> None:
        self.disconnect()
        self._subscriptions.clear()
        if self._outboxes is not None:
            self._outboxes.clear()

    # --- the link's life (driven by liveness) ------------------------------------------------

    async def connect(self, address: RedisAddress) -> None:
        """Open the link and (re)subscribe to this node's channel and every held room's."""
        self._link = link = await Link.open(address, self.timeout)
        for sub in self._subscriptions.values():
            sub.confirmed.clear()
        link.subscribe(self._node_channel, *(s.channel for s in self._subscriptions.values()))

    def disconnect(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None
        for sub in self._subscriptions.values():
            sub.confirmed.clear()

    def force_reconnect(self) -> None:
        """Break the link: :meth:`listen` raises and liveness starts over."""
        if self._link is not None:
            self._link.close()

    async def listen(self) -> None:
        """Deliver what arrives until the link breaks (then raise)."""
        link = self._link
        assert link is not None
        channels = self.channels
        while True:
            kind, channel, data = await link.message()
            if kind == b"message" and isinstance(data, bytes):
                try:
                    frame = Frame.decode(data)
                    if channel == self._node_channel:
                        await self._on_node_frame(frame)
                    elif (room_id := channels.room_of(channel)) is not None:
                        self._on_room_frame(room_id, frame)
                except Exception:
                    log.exception("a frame from Redis on %r could not be delivered", channel)
            elif kind == b"subscribe" and (room_id := channels.room_of(channel)) is not None:
                sub = self._subscriptions.get(room_id)
                if sub is not None:
                    sub.confirmed.set()

    async def drain(self) -> None:
        """Wait (up to ``timeout``) for published frames to be written."""
        if self._link is not None:
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(self._link.drain(), self.timeout)

    # --- local peers and their rooms' subscriptions ------------------------------------------

    async def subscribe(self, room_id: str) -> None:
        """Hold the room's channel, confirmed by Redis (so no frame for a new peer is missed);
        raises :class:`BackendUnavailable` when Redis does not confirm in time."""
        sub = self._subscriptions.get(room_id)
        if sub is None:
            sub = self._subscriptions[room_id] = _Subscription(self.channels.room(room_id))
            self._write(Link.subscribe, sub.channel)
        sub.refs += 1
        if sub.confirmed.is_set():
            return
        try:
            await asyncio.wait_for(sub.confirmed.wait(), self.timeout)
        except TimeoutError:
            self.unsubscribe(room_id)
            raise BackendUnavailable(protocol.UNAVAILABLE) from None

    def unsubscribe(self, room_id: str) -> None:
        sub = self._subscriptions.get(room_id)
        if sub is None:
            return
        sub.refs -= 1
        if sub.refs <= 0:
            del self._subscriptions[room_id]
            self._write(Link.unsubscribe, sub.channel)

    def forget(self, peer_id: str, room_id: str) -> None:
        """The peer is no longer held here: drop it, its subscription share and its outbox."""
        self.peers.remove(peer_id, room_id)
        self.unsubscribe(room_id)
        if self._outboxes is not None:
            self._outboxes.discard(peer_id)

    def _write(self, command: Callable[[Link, bytes], None], channel: bytes) -> None:
        if self._link is not None:
            with contextlib.suppress(OSError):
                command(self._link, channel)  # if the socket is gone, the reconnect resubscribes

    # --- sending -----------------------------------------------------------------------------

    async def publish(self, room_id: str, sender: str, to: str | None, text: str) -> None:
        """Local members directly, the rest through Redis."""
        deliver = self._deliver
        if deliver is None:
            return
        members = self.peers.members(room_id)
        if to is not None:
            if members is not None and to in members:
                await deliver(to, text)  # same process: no Redis round trip
            elif "\n" not in to:  # no peer id has one; it would break the frame's fields
                self.send(room_id, RELAY, sender, to, text)
        else:
            if members:
                for peer_id in list(members):
                    if peer_id != sender:
                        await deliver(peer_id, text)
            self.send(room_id, RELAY, sender, "", text)
        link = self._link
        if link is not None and link.congested():
            await self.drain()

    def send(self, room_id: str, kind: str, sender: str, to: str, text: str) -> None:
        """Publish a frame for the room's members on other processes (fire and forget, on one
        connection, so frames keep the order they were sent in)."""
        self._publish(self.channels.room(room_id), Frame(kind, self.node_id, sender, to, text))

    def announce_gone(self, peer_id: str, room_id: str) -> None:
        """Tell the room's members elsewhere that ``peer_id`` vanished with its process."""
        self.send(room_id, GONE, peer_id, "", "")

    def kick(self, node_id: str, peer_id: str, reason: str) -> None:
        """Ask the node holding ``peer_id`` to kick it; raises ``OSError`` when Redis is away."""
        link = self._link
        if link is None:
            raise ConnectionResetError("no connection to Redis")
        frame = Frame(KICK, self.node_id, peer_id, "", reason)
        link.publish(self.channels.node(node_id), frame.encode())

    def take_over(self, node_id: str, peer_id: str, room_id: str) -> None:
        """Tell the node that held ``peer_id`` it resumed here; raises ``OSError`` when Redis
        is away (that node then learns it on its next resync)."""
        link = self._link
        if link is None:
            raise ConnectionResetError("no connection to Redis")
        frame = Frame(TAKEOVER, self.node_id, peer_id, room_id, "")
        link.publish(self.channels.node(node_id), frame.encode())

    async def taken_over(self, peer_id: str, room_id: str) -> None:
        """``peer_id`` resumed on another process: drop it here and close its socket silently."""
        if not self.peers.holds(room_id, peer_id):
            return
        self.forget(peer_id, room_id)
        if self._detach is not None:
            try:
                await self._detach(peer_id)
            except Exception:
                log.exception("closing %s after it resumed elsewhere failed", peer_id)

    def _publish(self, channel: bytes, frame: Frame) -> None:
        link = self._link
        if link is None:
            self.dropped += 1  # the outage was logged; the count is reported on return
            return
        try:
            link.publish(channel, frame.encode())
        except OSError:
            self.dropped += 1

    # --- receiving ---------------------------------------------------------------------------

    def _on_room_frame(self, room_id: str, frame: Frame) -> None:
        members = self.peers.members(room_id)
        outboxes = self._outboxes
        if not members or outboxes is None or frame.origin == self.node_id:
            return  # no one here, or delivered locally when it was sent
        text = frame.text
        if frame.kind == GONE:  # a peer of a dead process: what the hub's peer_gone sends
            text = protocol.peer_left(frame.sender)
        elif frame.to:
            if frame.to in members:
                outboxes.post(frame.to, text)
            return
        for peer_id in members:
            if peer_id != frame.sender:
                outboxes.post(peer_id, text)

    async def _back_here(self, peer_id: str) -> bool:
        """A takeover notice may be late: the peer may have resumed here again since."""
        if self._holds is None:
            return False
        try:
            return await self._holds(peer_id)
        except Exception:  # Redis is away: the notice is the best knowledge there is
            return False

    async def _on_node_frame(self, frame: Frame) -> None:
        """A request from another process for a peer held here: kick it, or let it go (it
        resumed there)."""
        if frame.kind == TAKEOVER:
            if not await self._back_here(frame.sender):
                await self.taken_over(frame.sender, frame.to)
        elif frame.kind == KICK and self._kick is not None:
            try:
                await self._kick(frame.sender, frame.text)
            except Exception:
                log.exception("kicking %s for another process failed", frame.sender)
