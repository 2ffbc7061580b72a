"""Staying connected, and agreeing with the other processes on who is alive.

Each process heartbeats a key with a TTL. When one stops (kill -9, a lost host), a survivor
removes its peers in one script, so exactly once, and every process tells its local members
``peer-left``; its peers that opted in to resume stay members, away, for their grace window
(their clients may resume them on a survivor), and only then are removed and announced, once.
When Redis itself goes away, joins get an error frame, local relays keep working, and on return
the process resubscribes and makes Redis hold exactly its peers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Final

from redis.exceptions import RedisError

from ... import protocol
from ..base import PeerGone
from .address import RedisAddress
from .membership import Lost, Membership, Removal
from .relay import Relay
from .resp import RespError

log = logging.getLogger("rtcroom.redis")

RECONNECT_SECONDS: Final = 1.0
REMINDER_SECONDS: Final = 30.0
TOMBSTONE_MS: Final = 24 * 3600 * 1000

REDIS_TROUBLE: Final = (RedisError, RespError, OSError, EOFError, TimeoutError)
"""Trouble talking to Redis, whatever layer reports it."""


def describe(exc: BaseException) -> str:
    """A cause a tired operator understands."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, EOFError):
        return "Redis closed the connection"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return str(exc) or type(exc).__name__


class Liveness:
    """The connection's life (connect, lose, retry), heartbeats, resync and reaping."""

    def __init__(
        self,
        address: RedisAddress,
        membership: Membership,
        relay: Relay,
        *,
        heartbeat_interval: float,
        node_ttl: float,
        timeout: float,
        ended_ms: int,
    ) -> None:
        self.address = address
        self.membership = membership
        self.relay = relay
        self.peers = relay.peers
        self.heartbeat_interval = heartbeat_interval
        self.node_ttl = node_ttl
        self.timeout = timeout
        self.ended_ms = ended_ms  # how long a removed resumable peer's tokens stay refused
        self.shared_secret: str | None = None  # the resume secret shared through Redis
        self.ready = False  # connected and registered: joins are accepted
        self._gone: PeerGone | None = None
        self._connected_at = 0.0
        self._down_since: float | None = None
        self._last_reminder = 0.0
        self._dirty = False  # a join/leave failed half-way: reconcile on the next heartbeat
        # Peers that left while Redis could not hear it: other processes still need peer-left.
        self._left_unheard: dict[str, str] = {}
        self._inflight = 0  # join/leave scripts awaiting their reply
        self._first_attempt = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, peer_gone: PeerGone) -> None:
        """Start connecting; returns after the first attempt (or ``2 * timeout``), so a join
        right after start-up is not refused."""
        self._gone = peer_gone
        self._stopping = False
        self._first_attempt.clear()
        self._tasks = [
            asyncio.create_task(self._supervise(), name="rtcroom-redis-listener"),
            asyncio.create_task(self._beat(), name="rtcroom-redis-heartbeat"),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_attempt.wait(), self.timeout * 2)

    async def stop(self) -> None:
        """Stop the tasks and, when connected, unregister this node cleanly."""
        # redis-py can swallow a cancellation that lands inside a command (seen with 8.1 on
        # Python 3.11): the loops also stop at this flag, and the wait for them is bounded.
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self.timeout * 2)
        for task in self._tasks:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: a failure while stopping is not news
        self._tasks = []
        if self.ready:
            try:
                await self._sync()
                removed, away = await self.membership.retire()
                for gone in removed:
                    self.relay.announce_gone(gone.peer_id, gone.room_id)
                if away:
                    log.info(
                        "shut down with %d peers that can resume: they stay in their rooms "
                        "for their grace window, waiting to resume on another process",
                        len(away),
                    )
            except REDIS_TROUBLE as exc:
                log.warning("could not unregister from Redis on shutdown (%s)", describe(exc))
            await self.relay.drain()
        self.ready = False

    @contextlib.contextmanager
    def changing(self) -> Iterator[None]:
        """Around a join or leave script: a resync waits for it, and a failure (the change
        may have happened unseen) schedules one."""
        self._inflight += 1
        try:
            yield
        except BaseException:
            self._dirty = True
            raise
        finally:
            self._inflight -= 1

    def left_unheard(self, peer_id: str, room_id: str) -> None:
        """A peer left while Redis could not hear it: remove and announce it on return."""
        self._dirty = True
        self._left_unheard[peer_id] = room_id

    # --- the connection's life -----------------------------------------------------------------

    async def _supervise(self) -> None:
        """Connect, listen, and on any trouble report it and try again, forever."""
        while not self._stopping:
            try:
                await self._connect()
                await self.relay.listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._lose(exc)
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _connect(self) -> None:
        await self.relay.connect(self.address)
        state = await asyncio.wait_for(self.membership.heartbeat(self._ttl_ms()), self.timeout)
        if state == 1:
            await self._share_secret()
        await self._sync(declared_dead=state == 2)
        self.ready = True
        self._connected_at = asyncio.get_running_loop().time()
        self._first_attempt.set()
        where = self.address.display()
        if self._down_since is None:
            log.info(
                "connected to Redis at %s (this process is node %s)",
                where,
                self.membership.node_id,
            )
        else:
            log.warning(
                "Redis at %s is back after %.1f s: resubscribed, this process's %d peers "
                "registered, joins accepted again (%d frames for other processes were dropped "
                "meanwhile)",
                where,
                self._connected_at - self._down_since,
                len(self.peers),
                self.relay.dropped,
            )
        self._down_since = None
        self.relay.dropped = 0

    def _lose(self, exc: BaseException) -> None:
        was_ready = self.ready
        self.ready = False
        self.relay.disconnect()
        self._first_attempt.set()
        now = asyncio.get_running_loop().time()
        where, why = self.address.display(), describe(exc)
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
        while not self._stopping:
            await asyncio.sleep(self.heartbeat_interval)
            if not self.ready or self._stopping:
                continue
            try:
                state = await self.membership.heartbeat(self._ttl_ms())
                if state == 1:
                    await self._share_secret()
                if state or (self._dirty and self._inflight == 0):
                    await self._sync(declared_dead=state == 2)
                if loop.time() - self._connected_at >= self.node_ttl:
                    await self._reap()
                await self._lapse()
            except asyncio.CancelledError:
                raise
            except REDIS_TROUBLE as exc:
                log.warning(
                    "heartbeat to Redis at %s failed (%s); reconnecting",
                    self.address.display(),
                    describe(exc),
                )
                self.relay.force_reconnect()
            except Exception:
                log.exception("rtcroom Redis heartbeat failed unexpectedly; carrying on")

    async def _share_secret(self) -> None:
        """Put this process's resume secret back when Redis lost it (it restarted empty), so
        processes started later adopt it instead of a new one."""
        if self.shared_secret is None:
            return
        if await self.membership.shared_secret(self.shared_secret) != self.shared_secret:
            log.error(
                "Redis holds another resume secret than this process's (another process "
                "stored its own after Redis lost its data): resume tokens of processes "
                "started since are refused here, and this process's there. Restart this "
                "process to adopt the stored secret."
            )

    async def _sync(self, *, declared_dead: bool = False) -> None:
        """Make Redis hold exactly this process's peers. ``declared_dead``: another process
        reaped this one (it was frozen or cut off longer than ``node_ttl``)."""
        for _ in range(int(self.timeout * 100)):  # let in-flight joins and leaves land
            if self._inflight == 0:
                break
            await asyncio.sleep(0.01)
        self._dirty = False
        held = self.peers.rooms_by_peer()
        restored, removed, lost = await self.membership.sync(
            held, declared_dead=declared_dead, ended_ms=self.ended_ms
        )
        if declared_dead:
            log.error(
                "This process was presumed dead by the others (no heartbeat for %.0f s: was "
                "it frozen or cut off from Redis?). Of its %d peers, %d were announced as left "
                "or resumed elsewhere: closing their sockets (the others were kept waiting for "
                "it and are back).",
                self.node_ttl,
                len(held),
                len(lost),
            )
        if restored:
            log.warning(
                "Redis had lost %d peers of this process (restarted without its data?); "
                "registered them again",
                restored,
            )
        unheard, self._left_unheard = self._left_unheard, {}
        for gone in removed:
            unheard.pop(gone.peer_id, None)
            self.relay.announce_gone(gone.peer_id, gone.room_id)
            if gone.room_destroyed and self._gone is not None:
                await self._gone(gone.peer_id, gone.room_id, True)
        for peer_id, room_id in unheard.items():  # Redis had lost them already
            self.relay.announce_gone(peer_id, room_id)
        await self._let_go(lost)

    async def _let_go(self, lost: list[Lost]) -> None:
        """Peers here that Redis no longer counts as this process's: one that resumed
        elsewhere closes silently; one announced as left closes so its client joins again."""
        for peer in lost:
            if peer.why == "moved":
                await self.relay.taken_over(peer.peer_id, peer.room_id)
            else:
                self.relay.forget(peer.peer_id, peer.room_id)
        for peer in lost:
            if peer.why != "moved" and self._gone is not None:
                await self._gone(peer.peer_id, peer.room_id, False)

    async def _reap(self) -> None:
        for reaped in await self.membership.reap(TOMBSTONE_MS):
            log.warning(
                "Server process %s sent no heartbeat to Redis for %.0f s: presumed dead; its "
                "%d peers were removed from their rooms and announced as left, and its %d "
                "peers that can resume stay in their rooms for their grace window",
                reaped.node_id,
                self.node_ttl,
                len(reaped.removed),
                len(reaped.away),
            )
            await self.announce(reaped.removed)

    async def _lapse(self) -> None:
        """Dead processes' away peers whose grace window is over leave, announced once."""
        lapsed = await self.membership.lapse(self.ended_ms)
        if lapsed:
            log.info(
                "%d peers of dead server processes did not resume within their grace window: "
                "announced as left",
                len(lapsed),
            )
            await self.announce(lapsed, "timeout")

    async def announce(self, removed: list[Removal], reason: str = "disconnect") -> None:
        """Peers of dead processes left: every process tells its members, once each."""
        for gone in removed:
            self.relay.announce_gone(gone.peer_id, gone.room_id)
            if self._gone is not None:
                await self._gone(gone.peer_id, gone.room_id, gone.room_destroyed, reason)
