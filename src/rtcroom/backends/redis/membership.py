"""Who is in which room, cluster-wide: the calls that run the Lua scripts of :mod:`.scripts`.

Every change runs whole inside Redis, so ``max_peers`` is exact under concurrent joins and a dead
node's peers are removed by exactly one survivor. This module turns the scripts' flat replies
into named results; deciding what to do with them is the caller's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from . import scripts as lua
from .address import RedisAddress

MAX_CONNECTIONS: Final = 32
"""Connections for scripts; relay frames use connections of their own."""


@dataclass(slots=True, frozen=True)
class Removal:
    """A peer a script took out of its room; ``room_destroyed`` if it was the last member."""

    peer_id: str
    room_id: str
    room_destroyed: bool


@dataclass(slots=True, frozen=True)
class Joined:
    peer_id: str
    room_created: bool
    peers: list[str]


@dataclass(slots=True, frozen=True)
class Claimed:
    """A resumed peer now held by this node. ``taken_from``: the live node that held it (it must
    close the old socket), else ``None``."""

    was_member: bool
    frames_lost: bool
    room_created: bool
    taken_from: str | None
    peers: list[str]


@dataclass(slots=True, frozen=True)
class Lost:
    """A peer this node held that Redis says is no longer its own: ``moved`` (resumed on another
    process) or ``gone`` (announced as left while this node was presumed dead)."""

    peer_id: str
    room_id: str
    why: str


@dataclass(slots=True, frozen=True)
class Reaped:
    """A node declared dead: the peers removed, and those left away for their grace window."""

    node_id: str
    removed: list[Removal]
    away: list[tuple[str, str]]


class NotRegistered(Exception):
    """This node is not in Redis's node set (declared dead, or Redis lost its data)."""


class Ended(Exception):
    """A resume for a peer that left (hung up, kicked, or timed out after its grace window)."""


def _removals(flat: list[Any]) -> list[Removal]:
    return [Removal(flat[i], flat[i + 1], bool(flat[i + 2])) for i in range(0, len(flat), 3)]


def _pairs(flat: list[Any]) -> list[tuple[str, str]]:
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


class Membership:
    """The room store in Redis, seen from one node (``node_id``)."""

    def __init__(self, address: RedisAddress, key_prefix: str, node_id: str, timeout: float):
        self.key_prefix = key_prefix
        self.node_id = node_id
        # A blocking pool: a burst of joins waits for a free connection (up to ``timeout``)
        # instead of failing with "Too many connections".
        pool = BlockingConnectionPool(
            **{
                **address.options,
                "max_connections": MAX_CONNECTIONS,
                "timeout": timeout,
                "decode_responses": True,
                "encoding_errors": "surrogatepass",  # room ids may hold lone surrogates
                "socket_timeout": timeout,
                "socket_connect_timeout": timeout,
                "retry": Retry(NoBackoff(), 1),
            }
        )
        self._redis = Redis(connection_pool=pool)
        self._scripts = {
            name: self._redis.register_script(getattr(lua, name))
            for name in (
                "JOIN",
                "LEAVE",
                "HEARTBEAT",
                "SYNC",
                "REAP",
                "LAPSE",
                "DROP",
                "REJOIN",
                "RETIRE",
                "ROOMS",
                "LOCATE",
                "SECRET",
            )
        }

    async def close(self) -> None:
        await self._redis.aclose()

    async def _run(self, name: str, *args: str | int) -> Any:
        return await self._scripts[name](args=[self.key_prefix, *args])

    async def join(self, room_id: str, max_peers: int, grace_ms: int) -> Joined | None:
        """``None`` when the room is full. ``grace_ms`` > 0: the peer opted in to resume."""
        reply = await self._run("JOIN", room_id, max_peers, self.node_id, grace_ms)
        if reply[0] == -1:
            raise NotRegistered(self.node_id)
        if reply[0] != 1:
            return None
        return Joined(reply[1], bool(reply[2]), list(reply[3]))

    async def rejoin(
        self, room_id: str, peer_id: str, max_peers: int, grace_ms: int
    ) -> Claimed | None:
        """Claim a known peer for this node; ``None`` when it is not a member and the room is
        full. Raises :class:`Ended` for a peer that left."""
        reply = await self._run("REJOIN", room_id, peer_id, max_peers, self.node_id, grace_ms)
        if reply[0] == -1:
            raise NotRegistered(self.node_id)
        if reply[0] == 0:
            if reply[1] == "ended":
                raise Ended(peer_id)
            return None
        return Claimed(bool(reply[1]), bool(reply[2]), bool(reply[3]), reply[4] or None, reply[5])

    async def leave(self, room_id: str, peer_id: str, ended_ms: int) -> Removal | None:
        """``None`` when this node no longer held the peer (it was presumed dead, or the peer
        resumed elsewhere). ``ended_ms``: how long its resume tokens are refused."""
        result = await self._run("LEAVE", room_id, peer_id, self.node_id, ended_ms)
        return None if result == -1 else Removal(peer_id, room_id, result == 1)

    async def heartbeat(self, ttl_ms: int) -> int:
        """0 alive as before; 1 newly registered (first start, or Redis lost its data); 2 this
        node had been declared dead and its peers removed (it is registered again now)."""
        state: int = await self._run("HEARTBEAT", self.node_id, ttl_ms)
        return state

    async def sync(
        self, peer_rooms: dict[str, str], *, declared_dead: bool, ended_ms: int
    ) -> tuple[int, list[Removal], list[Lost]]:
        """Make Redis hold exactly these peers (peer id -> room id) for this node: the number
        it had lost and restored, the ones it held but that are gone here, and the ones here
        that are no longer this node's (see :class:`Lost`)."""
        pairs = [x for item in peer_rooms.items() for x in item]
        dead = "1" if declared_dead else "0"
        restored, removed, lost = await self._run("SYNC", self.node_id, dead, ended_ms, *pairs)
        return (
            restored,
            _removals(removed),
            [Lost(lost[i], lost[i + 1], lost[i + 2]) for i in range(0, len(lost), 3)],
        )

    async def reap(self, tombstone_ms: int) -> list[Reaped]:
        """Declare every node whose heartbeat lapsed dead, once."""
        reply = await self._run("REAP", self.node_id, tombstone_ms)
        return [
            Reaped(
                reply[i],
                _removals(reply[i + 1]),
                _pairs(reply[i + 2]),
            )
            for i in range(0, len(reply), 3)
        ]

    async def lapse(self, ended_ms: int) -> list[Removal]:
        """Remove the away peers whose grace window is over (once cluster-wide)."""
        return _removals(await self._run("LAPSE", ended_ms))

    async def drop_away(self, peer_id: str, ended_ms: int) -> list[Removal]:
        """Remove a dead process's away peer now (kicked): its removal, or nothing."""
        return _removals(await self._run("DROP", peer_id, ended_ms))

    async def shared_secret(self, proposed: str) -> str:
        """The resume secret all processes share: ``proposed`` unless one is set already."""
        secret: str = await self._run("SECRET", proposed)
        return secret

    async def retire(self) -> tuple[list[Removal], list[tuple[str, str]]]:
        """Unregister: the peers still held are removed, or left away if they can resume."""
        removed, away = await self._run("RETIRE", self.node_id)
        return _removals(removed), _pairs(away)

    async def rooms(self) -> dict[str, list[str]]:
        flat = await self._run("ROOMS")
        return {flat[i]: list(flat[i + 1]) for i in range(0, len(flat), 2)}

    async def holds(self, peer_id: str) -> bool:
        """Whether this node holds the peer, as Redis sees it."""
        held: int = await self._redis.hexists(f"{self.key_prefix}node:{self.node_id}", peer_id)
        return bool(held)

    async def locate(self, peer_id: str) -> str | None:
        """The node holding a peer."""
        node: str | None = await self._run("LOCATE", peer_id)
        return node or None
