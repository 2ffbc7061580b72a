"""Rooms shared by many server processes (or hosts) through one Redis server.

Membership lives in Redis and changes only inside Lua scripts (:mod:`.redis_scripts`), so
``max_peers`` is exact under concurrent joins on any number of processes and peer ids are unique.
Frames travel on one pub/sub channel per room; a process subscribes to the rooms it has members
in, and a frame between two peers of the same process never touches Redis.

Each process heartbeats a key with a TTL. When one stops (kill -9, a lost host), a survivor
removes its peers in one script, so exactly once, and every process tells its local members
``peer-left``. When Redis itself goes away, joins get an error frame, local relays keep working,
and on return each process resubscribes and makes Redis hold exactly its peers again.
"""

from __future__ import annotations

from .._extras import require

require("redis", __name__, "redis")

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from dataclasses import dataclass, field
from typing import Any, Final

from redis.asyncio import BlockingConnectionPool, Connection, Redis, SSLConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .. import protocol
from . import redis_scripts as lua
from .base import Admission, Backend, BackendUnavailable, Deliver, Departure, Kick, PeerGone
from .outbox import Outboxes
from .resp import RedisAddress, RespConnection, RespError

log = logging.getLogger("rtcroom.redis")

DEFAULT_URL: Final = "redis://127.0.0.1:6379/0"
RECONNECT_SECONDS: Final = 1.0
REMINDER_SECONDS: Final = 30.0
TOMBSTONE_MS: Final = 24 * 3600 * 1000
MAX_CONNECTIONS: Final = 32  # for scripts; relay frames use two connections of their own

# Trouble talking to Redis, whatever layer reports it.
_REDIS_TROUBLE = (RedisError, RespError, OSError, EOFError, TimeoutError)


@dataclass(slots=True)
class _Channel:
    """A room's pub/sub channel, subscribed while this process has members there."""

    name: bytes
    refs: int = 0
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)


def _triples(flat: list[Any]) -> list[tuple[str, str, bool]]:
    return [(flat[i], flat[i + 1], bool(flat[i + 2])) for i in range(0, len(flat), 3)]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, EOFError):
        return "Redis closed the connection"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return str(exc) or type(exc).__name__


class RedisBackend(Backend):
    """Rooms in Redis, for several server processes behind one load balancer.

    ``heartbeat_interval`` and ``node_ttl`` (seconds) set how fast a dead process is noticed:
    its peers are announced as left within ``node_ttl + heartbeat_interval`` of its death (and
    never before a survivor has itself been connected to Redis for ``node_ttl``). ``timeout``
    bounds every wait on Redis, so a join never hangs longer than that.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        key_prefix: str = "rtcroom:",
        heartbeat_interval: float = 1.0,
        node_ttl: float = 5.0,
        timeout: float = 2.0,
    ) -> None:
        self.address = RedisAddress.parse(url)
        if not heartbeat_interval > 0:
            raise ValueError(f"heartbeat_interval must be positive, got {heartbeat_interval!r}")
        if not node_ttl >= 2 * heartbeat_interval:
            raise ValueError(
                f"node_ttl ({node_ttl!r}) must be at least twice heartbeat_interval "
                f"({heartbeat_interval!r}), or one late heartbeat gets a live process "
                "declared dead"
            )
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        self.url = url
        self.key_prefix = key_prefix
        self.heartbeat_interval = float(heartbeat_interval)
        self.node_ttl = float(node_ttl)
        self.timeout = float(timeout)
        self.node_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._channel_prefix = f"{key_prefix}room:".encode()
        self._node_channel = f"{key_prefix}node:{self.node_id}".encode()
        # Peers this process holds: room id -> peer ids (join order), and peer id -> room id.
        self._rooms: dict[str, dict[str, None]] = {}
        self._peer_room: dict[str, str] = {}
        self._channels: dict[str, _Channel] = {}
        self._deliver: Deliver | None = None
        self._gone: PeerGone | None = None
        self._kick: Kick | None = None
        self._outboxes: Outboxes | None = None
        self._redis: Redis | None = None
        self._scripts: dict[str, Any] = {}
        self._sub: RespConnection | None = None
        self._pub: RespConnection | None = None
        self._ready = False
        self._connected_at = 0.0
        self._down_since: float | None = None
        self._last_reminder = 0.0
        self._dropped = 0
        self._dirty = False  # a join/leave failed half-way: reconcile on the next heartbeat
        # Peers that left while Redis could not hear it: other processes still need peer-left.
        self._left_unheard: dict[str, str] = {}
        self._inflight = 0  # join/leave scripts awaiting their reply
        self._first_attempt = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def detection_bound(self) -> float:
        """Seconds within which a dead process's peers are announced as left."""
        return self.node_ttl + self.heartbeat_interval

    @property
    def available(self) -> bool:
        """Connected to Redis and registered: joins are accepted."""
        return self._ready

    # --- Backend -------------------------------------------------------------------------------

    async def open(self, deliver: Deliver, peer_gone: PeerGone, kick: Kick) -> None:
        self._deliver, self._gone, self._kick = deliver, peer_gone, kick
        self._outboxes = Outboxes(deliver)
        address = self.address
        # A blocking pool: a burst of joins waits for a free connection (up to ``timeout``)
        # instead of failing with "Too many connections".
        pool = BlockingConnectionPool(
            connection_class=SSLConnection if address.tls else Connection,
            max_connections=MAX_CONNECTIONS,
            timeout=self.timeout,
            host=address.host,
            port=address.port,
            username=address.username,
            password=address.password,
            db=address.db,
            decode_responses=True,
            encoding_errors="surrogatepass",  # room ids may hold lone surrogates, as in JS
            socket_timeout=self.timeout,
            socket_connect_timeout=self.timeout,
            retry=Retry(NoBackoff(), 1),
        )
        self._redis = Redis(connection_pool=pool)
        for name in ("JOIN", "LEAVE", "HEARTBEAT", "SYNC", "REAP", "RETIRE", "ROOMS", "LOCATE"):
            self._scripts[name] = self._redis.register_script(getattr(lua, name))
        self._first_attempt.clear()
        self._tasks = [
            asyncio.create_task(self._supervise(), name="rtcroom-redis-listener"),
            asyncio.create_task(self._beat(), name="rtcroom-redis-heartbeat"),
        ]
        # Give the first connection a moment, so a join right after start-up is not refused.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_attempt.wait(), self.timeout * 2)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._ready:
            try:
                await self._sync()
                await self._script("RETIRE", self.node_id)
            except _REDIS_TROUBLE as exc:
                log.warning("could not unregister from Redis on shutdown (%s)", _describe(exc))
        if self._pub is not None:
            with contextlib.suppress(*_REDIS_TROUBLE):
                await asyncio.wait_for(self._pub.drain(), self.timeout)
        self._disconnect()
        self._ready = False
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
        self._rooms.clear()
        self._peer_room.clear()
        self._channels.clear()
        if self._outboxes is not None:
            self._outboxes.clear()

    async def join(self, room_id: str, max_peers: int) -> Admission | None:
        if not self._ready:
            raise BackendUnavailable(protocol.UNAVAILABLE)
        await self._acquire(room_id)  # subscribed before anyone can learn the new peer's id
        self._inflight += 1
        try:
            reply = await self._script("JOIN", room_id, max_peers, self.node_id)
        except _REDIS_TROUBLE as exc:
            self._release(room_id)
            self._dirty = True  # the join may have happened without us seeing the reply
            log.warning("a join into room %r failed: %s", room_id, _describe(exc))
            raise BackendUnavailable(protocol.UNAVAILABLE) from exc
        finally:
            self._inflight -= 1
        if reply[0] != 1:
            self._release(room_id)
            if reply[0] == -1:
                raise BackendUnavailable(protocol.UNAVAILABLE)
            return None
        peer_id: str = reply[1]
        self._rooms.setdefault(room_id, {})[peer_id] = None
        self._peer_room[peer_id] = room_id
        return Admission(peer_id, list(reply[3]), bool(reply[2]))

    async def leave(self, room_id: str, peer_id: str) -> Departure | None:
        members = self._rooms.get(room_id)
        if members is None or peer_id not in members:
            return None
        self._forget(peer_id, room_id)
        if not self._ready:
            self._dirty = True  # removed from Redis, and announced elsewhere, when it is back
            self._left_unheard[peer_id] = room_id
            return Departure(room_destroyed=False)
        self._inflight += 1
        try:
            result = await self._script("LEAVE", room_id, peer_id, self.node_id)
        except _REDIS_TROUBLE as exc:
            self._dirty = True
            self._left_unheard[peer_id] = room_id
            log.warning(
                "peer %s left room %r but Redis did not hear it (%s); retrying on the "
                "next heartbeat",
                peer_id,
                room_id,
                _describe(exc),
            )
            return Departure(room_destroyed=False)
        finally:
            self._inflight -= 1
        if result == -1:
            return None  # Redis had already dropped it (this process was presumed dead)
        return Departure(room_destroyed=result == 1)

    async def publish(self, room_id: str, sender: str, to: str | None, text: str) -> None:
        deliver = self._deliver
        if deliver is None:
            return
        members = self._rooms.get(room_id)
        if to is not None:
            if members is not None and to in members:
                await deliver(to, text)  # same process: no Redis round trip
            elif "\n" not in to:  # no peer id has one; it would break the frame's framing
                self._send_frame(room_id, "m", sender, to, text)
        else:
            if members:
                for peer_id in list(members):
                    if peer_id != sender:
                        await deliver(peer_id, text)
            self._send_frame(room_id, "m", sender, "", text)
        pub = self._pub
        if pub is not None and pub.congested():
            with contextlib.suppress(*_REDIS_TROUBLE):
                await asyncio.wait_for(pub.drain(), self.timeout)

    async def rooms(self) -> dict[str, list[str]]:
        if not self._ready:
            raise BackendUnavailable(protocol.UNAVAILABLE)
        try:
            flat = await self._script("ROOMS")
        except _REDIS_TROUBLE as exc:
            raise BackendUnavailable(protocol.UNAVAILABLE) from exc
        return {flat[i]: list(flat[i + 1]) for i in range(0, len(flat), 2)}

    async def kick_elsewhere(self, peer_id: str, reason: str) -> bool:
        pub = self._pub
        if not self._ready or pub is None:
            raise BackendUnavailable(protocol.UNAVAILABLE)
        try:
            node = await self._script("LOCATE", peer_id)
            if not node:
                return False
            pub.send("PUBLISH", f"{self.key_prefix}node:{node}", f"k\n{peer_id}\n{reason}")
        except _REDIS_TROUBLE as exc:
            raise BackendUnavailable(protocol.UNAVAILABLE) from exc
        return True

    # --- local bookkeeping ---------------------------------------------------------------------

    def _forget(self, peer_id: str, room_id: str) -> None:
        members = self._rooms.get(room_id)
        if members is not None:
            members.pop(peer_id, None)
            if not members:
                del self._rooms[room_id]
        self._peer_room.pop(peer_id, None)
        self._release(room_id)
        if self._outboxes is not None:
            self._outboxes.discard(peer_id)

    async def _acquire(self, room_id: str) -> None:
        channel = self._channels.get(room_id)
        if channel is None:
            channel = _Channel(self._channel_name(room_id))
            self._channels[room_id] = channel
            self._sub_send("SUBSCRIBE", channel.name)
        channel.refs += 1
        if channel.subscribed.is_set():
            return
        try:
            await asyncio.wait_for(channel.subscribed.wait(), self.timeout)
        except TimeoutError:
            self._release(room_id)
            raise BackendUnavailable(protocol.UNAVAILABLE) from None

    def _release(self, room_id: str) -> None:
        channel = self._channels.get(room_id)
        if channel is None:
            return
        channel.refs -= 1
        if channel.refs <= 0:
            del self._channels[room_id]
            self._sub_send("UNSUBSCRIBE", channel.name)

    def _sub_send(self, *args: bytes | str) -> None:
        if self._sub is not None:
            with contextlib.suppress(OSError):
                self._sub.send(*args)  # if the socket is gone, the reconnect resubscribes

    def _send_frame(self, room_id: str, kind: str, sender: str, to: str, text: str) -> None:
        """Publish a frame for the room's members on other processes (fire and forget: one
        connection, so frames keep the order they were sent in)."""
        pub = self._pub
        if pub is None:
            self._dropped += 1  # the outage was logged; the count is reported on return
            return
        channel = self._channel_name(room_id)
        payload = f"{kind}\n{self.node_id}\n{sender}\n{to}\n{text}"
        try:
            pub.send("PUBLISH", channel, payload)
        except OSError:
            self._dropped += 1

    def _channel_name(self, room_id: str) -> bytes:
        return self._channel_prefix + room_id.encode("utf-8", "surrogatepass")

    async def _script(self, name: str, *args: str | int) -> Any:
        return await self._scripts[name](args=[self.key_prefix, *args])

    # --- the connection's life -----------------------------------------------------------------

    async def _supervise(self) -> None:
        """Connect, listen, and on any trouble report it and try again, forever."""
        while True:
            try:
                await self._connect()
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._lose(exc)
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _connect(self) -> None:
        timeout = self.timeout
        self._sub = await RespConnection.open(self.address, timeout)
        self._pub = await RespConnection.open(self.address, timeout)
        self._tasks.append(asyncio.create_task(self._read_publish_replies(self._pub)))
        for channel in self._channels.values():
            channel.subscribed.clear()
        names = [self._node_channel, *(c.name for c in self._channels.values())]
        self._sub.send("SUBSCRIBE", *names)
        state = await asyncio.wait_for(
            self._script("HEARTBEAT", self.node_id, self._ttl_ms()), timeout
        )
        if state == 2:
            await self._declared_dead()
        await self._sync()
        self._ready = True
        self._connected_at = asyncio.get_running_loop().time()
        self._first_attempt.set()
        if self._down_since is None:
            log.info(
                "connected to Redis at %s (this process is node %s)",
                self.address.display(),
                self.node_id,
            )
        else:
            down = self._connected_at - self._down_since
            log.warning(
                "Redis at %s is back after %.1f s: resubscribed, this process's %d peers "
                "registered, joins accepted again (%d frames for other processes were dropped "
                "meanwhile)",
                self.address.display(),
                down,
                len(self._peer_room),
                self._dropped,
            )
        self._down_since = None
        self._dropped = 0

    async def _listen(self) -> None:
        sub = self._sub
        assert sub is not None
        prefix = self._channel_prefix
        while True:
            msg = await sub.read()
            if not isinstance(msg, list) or len(msg) != 3:
                continue
            kind, channel = msg[0], msg[1]
            if channel == self._node_channel and kind == b"message":
                await self._on_node_message(msg[2])
                continue
            if not isinstance(channel, bytes) or not channel.startswith(prefix):
                continue
            room_id = channel[len(prefix) :].decode("utf-8", "surrogatepass")
            if kind == b"message":
                try:
                    await self._on_frame(room_id, msg[2])
                except Exception:
                    log.exception("delivering a frame from Redis for room %r failed", room_id)
            elif kind == b"subscribe":
                entry = self._channels.get(room_id)
                if entry is not None:
                    entry.subscribed.set()

    async def _on_frame(self, room_id: str, data: bytes) -> None:
        members = self._rooms.get(room_id)
        if not members:
            return
        kind, origin, sender, to, text = data.decode("utf-8", "surrogatepass").split("\n", 4)
        if origin == self.node_id:
            return  # delivered locally when it was sent
        outboxes = self._outboxes
        if outboxes is None:
            return
        if kind == "g":  # a peer of a dead process: what the hub's peer_gone sends, in order
            text = protocol.peer_left(sender)
        elif to:
            if to in members:
                outboxes.post(to, text)
            return
        for peer_id in members:
            if peer_id != sender:
                outboxes.post(peer_id, text)

    async def _on_node_message(self, data: bytes) -> None:
        """A request from another process for a peer held here (today: kick)."""
        kind, peer_id, reason = data.decode("utf-8", "surrogatepass").split("\n", 2)
        if kind == "k" and self._kick is not None:
            try:
                await self._kick(peer_id, reason)
            except Exception:
                log.exception("kicking %s for another process failed", peer_id)

    async def _read_publish_replies(self, pub: RespConnection) -> None:
        """PUBLISH answers with a subscriber count we do not need; a broken socket ends the
        listener too, so both reconnect together."""
        try:
            while True:
                await pub.read()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._pub is pub:
                log.debug("publishing connection ended: %s", _describe(exc))
                self._force_reconnect()

    def _force_reconnect(self) -> None:
        if self._sub is not None:
            self._sub.close()  # the listener sees EOF and the supervisor starts over

    def _disconnect(self) -> None:
        for conn in (self._sub, self._pub):
            if conn is not None:
                conn.close()
        self._sub = self._pub = None

    def _lose(self, exc: BaseException) -> None:
        was_ready = self._ready
        self._ready = False
        self._disconnect()
        self._tasks = [t for t in self._tasks if not t.done()]
        for channel in self._channels.values():
            channel.subscribed.clear()
        self._first_attempt.set()
        now = asyncio.get_running_loop().time()
        where, why = self.address.display(), _describe(exc)
        if was_ready:
            self._down_since = self._last_reminder = now
            log.error(
                "Lost the connection to Redis at %s (%s). Until it is back, joins get the "
                "error %r, frames to peers on other processes are dropped, and peers on this "
                "process keep talking to each other. Retrying every %.0f s.",
                where,
                why,
                protocol.UNAVAILABLE,
                RECONNECT_SECONDS,
            )
        elif self._down_since is None:
            self._down_since = self._last_reminder = now
            log.error(
                "Cannot reach Redis at %s (%s). Is redis-server running there, and is the URL "
                "right? Joins get the error %r until it answers. Retrying every %.0f s.",
                where,
                why,
                protocol.UNAVAILABLE,
                RECONNECT_SECONDS,
            )
        elif now - self._last_reminder >= REMINDER_SECONDS:
            self._last_reminder = now
            log.warning(
                "Still no Redis at %s after %.0f s (%s); still retrying.",
                where,
                now - self._down_since,
                why,
            )

    # --- heartbeats, reconciliation, reaping ---------------------------------------------------

    def _ttl_ms(self) -> int:
        return int(self.node_ttl * 1000)

    async def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            if not self._ready:
                continue
            try:
                state = await self._script("HEARTBEAT", self.node_id, self._ttl_ms())
                if state == 2:
                    await self._declared_dead()
                if state or (self._dirty and self._inflight == 0):
                    await self._sync()
                if loop.time() - self._connected_at >= self.node_ttl:
                    await self._reap()
            except asyncio.CancelledError:
                raise
            except _REDIS_TROUBLE as exc:
                log.warning(
                    "heartbeat to Redis at %s failed (%s); reconnecting",
                    self.address.display(),
                    _describe(exc),
                )
                self._force_reconnect()
            except Exception:
                log.exception("rtcroom Redis heartbeat failed unexpectedly; carrying on")

    async def _sync(self) -> None:
        """Make Redis hold exactly this process's peers."""
        for _ in range(int(self.timeout * 100)):  # let in-flight joins and leaves land
            if self._inflight == 0:
                break
            await asyncio.sleep(0.01)
        self._dirty = False
        pairs = [x for item in self._peer_room.items() for x in item]
        reply = await self._script("SYNC", self.node_id, *pairs)
        if reply[0]:
            log.warning(
                "Redis had lost %d peers of this process (restarted without its data?); "
                "registered them again",
                reply[0],
            )
        unheard, self._left_unheard = self._left_unheard, {}
        for peer_id, room_id, destroyed in _triples(reply[1:]):
            unheard.pop(peer_id, None)
            self._send_frame(room_id, "g", peer_id, "", "")
            if destroyed and self._gone is not None:
                await self._gone(peer_id, room_id, True)
        for peer_id, room_id in unheard.items():  # Redis had lost them already
            self._send_frame(room_id, "g", peer_id, "", "")

    async def _reap(self) -> None:
        reply = await self._script("REAP", self.node_id, TOMBSTONE_MS)
        for i in range(0, len(reply), 2):
            node, removed = reply[i], _triples(reply[i + 1])
            log.warning(
                "Server process %s sent no heartbeat to Redis for %.0f s: presumed "
                "dead; its %d peers were removed from their rooms and announced as left",
                node,
                self.node_ttl,
                len(removed),
            )
            for peer_id, room_id, destroyed in removed:
                self._send_frame(room_id, "g", peer_id, "", "")
                if self._gone is not None:
                    await self._gone(peer_id, room_id, destroyed)

    async def _declared_dead(self) -> None:
        """Another process reaped us (we were frozen or cut off longer than ``node_ttl``): our
        peers were announced as left, so their sockets must close and the clients join again."""
        lost = list(self._peer_room.items())
        log.error(
            "This process was presumed dead by the others (no heartbeat for %.0f s: was "
            "it frozen or cut off from Redis?). Closing its %d peers' sockets so they "
            "join again.",
            self.node_ttl,
            len(lost),
        )
        for peer_id, room_id in lost:
            self._forget(peer_id, room_id)
        for peer_id, room_id in lost:
            if self._gone is not None:
                await self._gone(peer_id, room_id, False)
