"""Rooms shared by many server processes (or hosts) through one Redis server.

Three jobs, one module each, behind :class:`RedisBackend`:

- :mod:`.membership`: who is in which room, changed only inside Lua scripts (:mod:`.scripts`),
  so ``max_peers`` is exact under concurrent joins and peer ids are unique;
- :mod:`.relay`: frames between processes over pub/sub, in one codec (:mod:`.frames`);
- :mod:`.liveness`: node heartbeats, reaping dead processes, resync after an outage.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from typing import Final

from ..._extras import require

require("redis", __name__, "redis")

from ... import protocol
from ...resume import DEFAULT_TOKEN_TTL
from ..base import (
    Admission,
    Backend,
    BackendUnavailable,
    Deliver,
    Departure,
    Kick,
    PeerEnded,
    PeerGone,
    Readmission,
)
from .address import URL_EXAMPLE, RedisAddress
from .liveness import REDIS_TROUBLE, Liveness, describe
from .membership import Claimed, Ended, Membership, NotRegistered
from .peers import LocalPeers
from .relay import Relay

log = logging.getLogger("rtcroom.redis")

DEFAULT_URL: Final = URL_EXAMPLE

__all__ = ["DEFAULT_URL", "RedisBackend"]


class RedisBackend(Backend):
    """Rooms in Redis, for several server processes behind one load balancer.

    ``url`` is anything redis-py reads: ``redis://[user:password@]host:port/db``, ``rediss://``
    for TLS, or ``unix:///path/to/redis.sock``. ``heartbeat_interval`` and ``node_ttl``
    (seconds) set how fast a dead process is noticed: its peers are announced as left within
    ``node_ttl + heartbeat_interval`` of its death (and never before a survivor has itself been
    connected to Redis for ``node_ttl``). ``timeout`` bounds every wait on Redis, so a join
    never hangs longer than that.
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
        self._peers = LocalPeers()
        self._relay = Relay(self.node_id, key_prefix, self._peers, self.timeout)
        self._membership: Membership | None = None
        self._liveness: Liveness | None = None
        self.shared_resume_secret: str | None = None
        """The resume secret agreed through Redis (``rtcroom serve`` without a configured
        secret, :func:`.secret.shared_secret`): stored again if Redis loses it."""

    @property
    def detection_bound(self) -> float:
        """Seconds within which a dead process's peers are announced as left."""
        return self.node_ttl + self.heartbeat_interval

    @property
    def available(self) -> bool:
        """Connected to Redis and registered: joins are accepted."""
        return self._liveness is not None and self._liveness.ready

    def _ready(self) -> tuple[Membership, Liveness]:
        if self._membership is None or self._liveness is None or not self._liveness.ready:
            raise BackendUnavailable(protocol.UNAVAILABLE)
        return self._membership, self._liveness

    # --- Backend -------------------------------------------------------------------------------

    def _ended_ms(self) -> int:
        """How long a left opted-in peer's tokens stay refused: their lifetime. A process with
        resume off may still end another process's peer, so it assumes the default."""
        return int((self.ended_ttl or DEFAULT_TOKEN_TTL) * 1000)

    def _grace_ms(self, resumable: bool) -> int:
        return max(1, int(self.resume_grace * 1000)) if resumable and self.resume_grace else 0

    async def open(self, deliver: Deliver, peer_gone: PeerGone, kick: Kick) -> None:
        self._membership = Membership(self.address, self.key_prefix, self.node_id, self.timeout)
        self._relay.start(deliver, kick, self.detach, self._membership.holds)
        self._liveness = Liveness(
            self.address,
            self._membership,
            self._relay,
            heartbeat_interval=self.heartbeat_interval,
            node_ttl=self.node_ttl,
            timeout=self.timeout,
            ended_ms=self._ended_ms(),
        )
        self._liveness.shared_secret = self.shared_resume_secret
        await self._liveness.start(peer_gone)

    async def close(self) -> None:
        if self._liveness is not None:
            await self._liveness.stop()
            self._liveness = None
        self._relay.stop()
        if self._membership is not None:
            await self._membership.close()
            self._membership = None
        self._peers.clear()

    async def join(
        self, room_id: str, max_peers: int, *, resumable: bool = False
    ) -> Admission | None:
        membership, liveness = self._ready()
        await self._relay.subscribe(room_id)  # before anyone can learn the new peer's id
        try:
            with liveness.changing():
                joined = await membership.join(room_id, max_peers, self._grace_ms(resumable))
        except NotRegistered:
            self._relay.unsubscribe(room_id)
            raise BackendUnavailable(protocol.UNAVAILABLE) from None
        except REDIS_TROUBLE as exc:
            self._relay.unsubscribe(room_id)
            log.warning("a join into room %r failed: %s", room_id, describe(exc))
            raise BackendUnavailable(protocol.UNAVAILABLE) from exc
        if joined is None:
            self._relay.unsubscribe(room_id)
            return None
        self._peers.add(joined.peer_id, room_id)
        return Admission(joined.peer_id, joined.peers, joined.room_created)

    async def rejoin(self, room_id: str, peer_id: str, max_peers: int) -> Readmission | None:
        """Claim a resumed peer for this process, in one script: away (its process died) or
        held by another live process (which then closes its old socket with 4410, silently).
        Frames that process or nobody held for it are lost, so ``frames_lost`` is set."""
        try:
            claimed = await self._claim(room_id, peer_id, max_peers)
        except Ended:
            raise PeerEnded(peer_id) from None
        if claimed is None:
            return None
        return Readmission(
            claimed.peers, claimed.room_created, claimed.was_member, claimed.frames_lost
        )

    async def _claim(self, room_id: str, peer_id: str, max_peers: int) -> Claimed | None:
        membership, liveness = self._ready()
        held = self._peers.holds(room_id, peer_id)
        if not held:
            await self._relay.subscribe(room_id)
        try:
            with liveness.changing():
                claimed = await membership.rejoin(room_id, peer_id, max_peers, self._grace_ms(True))
        except BaseException as exc:
            if not held:
                self._relay.unsubscribe(room_id)
            if isinstance(exc, NotRegistered):
                raise BackendUnavailable(protocol.UNAVAILABLE) from None
            if isinstance(exc, REDIS_TROUBLE):
                log.warning("a resume into room %r failed: %s", room_id, describe(exc))
                raise BackendUnavailable(protocol.UNAVAILABLE) from exc
            raise
        if claimed is None:
            if not held:
                self._relay.unsubscribe(room_id)
            return None
        if not held:
            self._peers.add(peer_id, room_id)
        if claimed.taken_from is not None:
            try:
                self._relay.take_over(claimed.taken_from, peer_id, room_id)
            except OSError:  # that process finds out on its next resync
                log.warning("could not tell %s that %s resumed here", claimed.taken_from, peer_id)
        return claimed

    async def leave(self, room_id: str, peer_id: str) -> Departure | None:
        if not self._peers.holds(room_id, peer_id):
            return None
        self._relay.forget(peer_id, room_id)
        liveness, membership = self._liveness, self._membership
        if liveness is None or membership is None or not liveness.ready:
            if liveness is not None:  # removed from Redis, and announced elsewhere, on return
                liveness.left_unheard(peer_id, room_id)
            return Departure(room_destroyed=False)
        try:
            with liveness.changing():
                removal = await membership.leave(room_id, peer_id, self._ended_ms())
        except REDIS_TROUBLE as exc:
            liveness.left_unheard(peer_id, room_id)
            log.warning(
                "peer %s left room %r but Redis did not hear it (%s); retrying on the "
                "next heartbeat",
                peer_id,
                room_id,
                describe(exc),
            )
            return Departure(room_destroyed=False)
        if removal is None:
            return None  # Redis had already dropped it (this process was presumed dead)
        return Departure(room_destroyed=removal.room_destroyed)

    async def publish(self, room_id: str, sender: str, to: str | None, text: str) -> None:
        await self._relay.publish(room_id, sender, to, text)

    async def rooms(self) -> dict[str, list[str]]:
        membership, _ = self._ready()
        try:
            return await membership.rooms()
        except REDIS_TROUBLE as exc:
            raise BackendUnavailable(protocol.UNAVAILABLE) from exc

    async def kick_elsewhere(self, peer_id: str, reason: str) -> bool:
        """Have the process holding ``peer_id`` kick it; a dead process's away peer is removed
        (and announced) here, its tokens dead."""
        membership, liveness = self._ready()
        try:
            node = await membership.locate(peer_id)
            if node is None:
                removed = await membership.drop_away(peer_id, self._ended_ms())
                await liveness.announce(removed, "kicked")
                return bool(removed)
            self._relay.kick(node, peer_id, reason)
        except REDIS_TROUBLE as exc:
            raise BackendUnavailable(protocol.UNAVAILABLE) from exc
        return True
