"""The Lua scripts that make room membership atomic across processes.

Each script runs whole inside Redis, so a join cannot interleave with another join (an exact
``max_peers``), and a dead node's peers are removed by exactly one survivor.

Keys, under a prefix ``P`` (``ARGV[1]`` of every script)::

    P room:<room id>   ZSET  peer id -> join sequence (so ZRANGE is join order)
    P rooms            SET   room ids that have members
    P node:<node id>   HASH  peer id -> room id, the peers a process holds
    P nodes            SET   registered processes
    P alive:<node id>  STRING with a TTL, refreshed by the process's heartbeat
    P reaped:<node id> STRING with a TTL: that node was declared dead while it may still run
    P seq              INTEGER, the peer-id counter
    P resumable        HASH  peer id -> grace ms, for peers that opted in to resume
    P away             ZSET  peer id -> deadline (ms): a dead process's resumable peers, still
                             members, waiting for their client to resume them elsewhere
    P away-room        HASH  peer id -> room id, for those
    P ended:<peer id>  STRING with a TTL (the resume tokens' lifetime): that peer left, so its
                             resume tokens are refused
    P resume-secret    STRING, the resume-token secret ``rtcroom serve`` processes share

Keys are built inside the scripts, so this needs one Redis server (or a primary with replicas),
not Redis Cluster.
"""

from __future__ import annotations

from typing import Final

# Remove one peer from its room; its id, room id and 1 if the room is now empty go to ``out``
# when it was there. A peer that had opted in to resume is remembered as ended for ``ended``
# ms, so its resume tokens are refused.
_REMOVE: Final = """
local function remove(p, out, pid, rid, ended)
  local rk = p .. 'room:' .. rid
  if redis.call('HDEL', p .. 'resumable', pid) == 1 and tonumber(ended) > 0 then
    redis.call('SET', p .. 'ended:' .. pid, '1', 'PX', ended)
  end
  if redis.call('ZREM', rk, pid) == 0 then return end
  local destroyed = 0
  if redis.call('EXISTS', rk) == 0 then
    redis.call('SREM', p .. 'rooms', rid)
    destroyed = 1
  end
  table.insert(out, pid)
  table.insert(out, rid)
  table.insert(out, destroyed)
end
"""

JOIN: Final = """
local p, rid, max, nid, grace = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
if redis.call('SISMEMBER', p .. 'nodes', nid) == 0 then return {-1} end
local rk = p .. 'room:' .. rid
local n = redis.call('ZCARD', rk)
if n >= max then return {0} end
local seq = redis.call('INCR', p .. 'seq')
local t = redis.call('TIME')
local ms = string.format('%03d', math.floor(tonumber(t[2]) / 1000))
local pid = 'peer-' .. t[1] .. ms .. '-' .. seq
local peers = redis.call('ZRANGE', rk, 0, -1)
redis.call('ZADD', rk, seq, pid)
redis.call('HSET', p .. 'node:' .. nid, pid, rid)
if tonumber(grace) > 0 then redis.call('HSET', p .. 'resumable', pid, grace) end
local created = 0
if n == 0 then
  redis.call('SADD', p .. 'rooms', rid)
  created = 1
end
return {1, pid, created, peers}
"""
"""``ARGV[5]``: the grace window in ms for a peer that opted in to resume, else 0.
-> ``{1, peer id, created, members before}``, ``{0}`` when full, ``{-1}`` when this node is
not registered (its heartbeat lapsed and it was declared dead)."""

LEAVE: Final = (
    _REMOVE
    + """
local p, rid, pid, nid, ended = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if redis.call('HDEL', p .. 'node:' .. nid, pid) == 0 then return -1 end
local out = {}
remove(p, out, pid, rid, ended)
if #out == 0 then return -1 end
return out[3]
"""
)
"""``ARGV[5]``: how long (ms) to refuse the peer's resume tokens.
-> 1 when the room is now empty (destroyed), 0 when not, -1 when this node did not hold the
peer (it was presumed dead, or the peer resumed on another process)."""

HEARTBEAT: Final = """
local p, nid, ttl = ARGV[1], ARGV[2], ARGV[3]
redis.call('SET', p .. 'alive:' .. nid, '1', 'PX', ttl)
local added = redis.call('SADD', p .. 'nodes', nid)
if redis.call('DEL', p .. 'reaped:' .. nid) == 1 then return 2 end
return added
"""
"""-> 0 alive as before; 1 newly registered (first start, or Redis lost its data); 2 this node
had been declared dead and its peers removed (it is registered again now)."""

# The live node (other than ``me``) whose hash holds a peer, or false.
_HOLDER: Final = """
local function holder(p, pid, me)
  for _, nid in ipairs(redis.call('SMEMBERS', p .. 'nodes')) do
    if nid ~= me and redis.call('HEXISTS', p .. 'node:' .. nid, pid) == 1 then return nid end
  end
  return false
end
"""

SYNC: Final = (
    _REMOVE
    + _HOLDER
    + """
local p, nid, dead, ended = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local nk = p .. 'node:' .. nid
local keep = {}
local restored = 0
local lost = {}
for i = 5, #ARGV, 2 do
  local pid, rid = ARGV[i], ARGV[i + 1]
  keep[pid] = true
  if redis.call('HSETNX', nk, pid, rid) == 1 then
    local rk = p .. 'room:' .. rid
    if redis.call('ZREM', p .. 'away', pid) == 1 then
      redis.call('HDEL', p .. 'away-room', pid)
    elseif redis.call('ZSCORE', rk, pid) then
      local other = holder(p, pid, nid)
      if other then
        redis.call('HDEL', nk, pid)
        table.insert(lost, pid)
        table.insert(lost, rid)
        table.insert(lost, 'moved')
      end
    elseif dead == '1' or redis.call('EXISTS', p .. 'ended:' .. pid) == 1 then
      redis.call('HDEL', nk, pid)
      table.insert(lost, pid)
      table.insert(lost, rid)
      table.insert(lost, 'gone')
    else
      redis.call('ZADD', rk, redis.call('INCR', p .. 'seq'), pid)
      redis.call('SADD', p .. 'rooms', rid)
      restored = restored + 1
    end
  end
end
local out = {}
local cur = redis.call('HGETALL', nk)
for i = 1, #cur, 2 do
  if not keep[cur[i]] then
    redis.call('HDEL', nk, cur[i])
    remove(p, out, cur[i], cur[i + 1], ended)
  end
end
return {restored, out, lost}
"""
)
"""Make Redis hold exactly this node's peers (``ARGV[5:]`` = peer id, room id, ...): takes back
the ones a reaper left away, restores the ones Redis lost, removes the ones that left while
Redis was unreachable. ``ARGV[3]`` is ``'1'`` right after this node learnt it was declared dead:
a peer missing from its room then was announced as left, so it is not restored. ``ARGV[4]``:
how long (ms) to refuse a removed peer's resume tokens.
-> ``{restored count, {peer, room, destroyed, ...} removed, {peer, room, why, ...} lost}`` where
``why`` is ``'moved'`` (resumed on another process) or ``'gone'`` (announced as left)."""

# Let a node's peers go (it died, or shut down): those that opted in to resume stay members,
# away for their grace window; the others are removed (to ``removed``).
_RELEASE: Final = (
    _REMOVE
    + """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function release(p, nid, removed, away)
  local nk = p .. 'node:' .. nid
  local cur = redis.call('HGETALL', nk)
  local now = now_ms()
  for i = 1, #cur, 2 do
    local pid, rid = cur[i], cur[i + 1]
    local grace = redis.call('HGET', p .. 'resumable', pid)
    if grace and redis.call('ZSCORE', p .. 'room:' .. rid, pid) then
      redis.call('ZADD', p .. 'away', now + tonumber(grace), pid)
      redis.call('HSET', p .. 'away-room', pid, rid)
      table.insert(away, pid)
      table.insert(away, rid)
    else
      remove(p, removed, pid, rid, 0)
    end
  end
  redis.call('DEL', nk)
  redis.call('SREM', p .. 'nodes', nid)
end
"""
)

REAP: Final = (
    _RELEASE
    + """
local p, me, tomb = ARGV[1], ARGV[2], ARGV[3]
local out = {}
for _, nid in ipairs(redis.call('SMEMBERS', p .. 'nodes')) do
  if nid ~= me and redis.call('EXISTS', p .. 'alive:' .. nid) == 0 then
    local removed, away = {}, {}
    release(p, nid, removed, away)
    redis.call('SET', p .. 'reaped:' .. nid, '1', 'PX', tomb)
    table.insert(out, nid)
    table.insert(out, removed)
    table.insert(out, away)
  end
end
return out
"""
)
"""Declare every node whose heartbeat key expired dead, once: its peers that opted in to resume
stay members, away for their grace window; the others are removed. -> ``{node, {peer, room,
destroyed, ...} removed, {peer, room, ...} away, ...}``."""

RETIRE: Final = (
    _RELEASE
    + """
local p, nid = ARGV[1], ARGV[2]
local removed, away = {}, {}
release(p, nid, removed, away)
redis.call('DEL', p .. 'alive:' .. nid)
return {removed, away}
"""
)
"""A clean shutdown: unregister. Peers still held (the hub kept them for resume) are let go as
a dead node's are. -> ``{{peer, room, destroyed, ...} removed, {peer, room, ...} away}``."""

LAPSE: Final = (
    _REMOVE
    + """
local p, ended = ARGV[1], ARGV[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for _, pid in ipairs(redis.call('ZRANGEBYSCORE', p .. 'away', '-inf', now)) do
  local rid = redis.call('HGET', p .. 'away-room', pid)
  redis.call('ZREM', p .. 'away', pid)
  redis.call('HDEL', p .. 'away-room', pid)
  if rid then remove(p, out, pid, rid, ended) end
end
return out
"""
)
"""Remove the away peers whose grace window is over, once cluster-wide. ``ARGV[2]``: how long
(ms) to refuse their resume tokens. -> ``{peer, room, destroyed, ...}``."""

DROP: Final = (
    _REMOVE
    + """
local p, pid, ended = ARGV[1], ARGV[2], ARGV[3]
local rid = redis.call('HGET', p .. 'away-room', pid)
local out = {}
if not rid then return out end
redis.call('ZREM', p .. 'away', pid)
redis.call('HDEL', p .. 'away-room', pid)
remove(p, out, pid, rid, ended)
return out
"""
)
"""Remove one away peer of a dead process (it was kicked). -> ``{peer, room, destroyed}`` or
``{}`` when it is not away."""

REJOIN: Final = (
    _HOLDER
    + """
local p, rid, pid, max, nid, grace = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6]
if redis.call('SISMEMBER', p .. 'nodes', nid) == 0 then return {-1} end
if redis.call('EXISTS', p .. 'ended:' .. pid) == 1 then return {0, 'ended'} end
local rk = p .. 'room:' .. rid
local nk = p .. 'node:' .. nid
local n = redis.call('ZCARD', rk)
local member, lost, created, from = 1, 0, 0, ''
if redis.call('ZSCORE', rk, pid) then
  if redis.call('ZREM', p .. 'away', pid) == 1 then
    redis.call('HDEL', p .. 'away-room', pid)
    lost = 1
  elseif redis.call('HEXISTS', nk, pid) == 0 then
    lost = 1
    local other = holder(p, pid, nid)
    if other then
      redis.call('HDEL', p .. 'node:' .. other, pid)
      from = other
    end
  end
else
  if n >= max then return {0, 'full'} end
  member, lost = 0, 1
  redis.call('ZADD', rk, redis.call('INCR', p .. 'seq'), pid)
  if n == 0 then
    redis.call('SADD', p .. 'rooms', rid)
    created = 1
  end
end
redis.call('HSET', nk, pid, rid)
if tonumber(grace) > 0 then redis.call('HSET', p .. 'resumable', pid, grace) end
local peers = {}
for _, other in ipairs(redis.call('ZRANGE', rk, 0, -1)) do
  if other ~= pid then table.insert(peers, other) end
end
return {1, member, lost, created, from, peers}
"""
)
"""Re-admit a known peer id for this node (a resume). Away (its process died) or held by another
process: claimed for this one; missing (Redis lost it): added if the room has space.
-> ``{1, was member, frames may be lost, room created, node it was taken from or '', other
members in join order}``, ``{0, 'ended'}`` (the peer left), ``{0, 'full'}``, ``{-1}`` (this
node is not registered)."""

SECRET: Final = """
local p, proposed = ARGV[1], ARGV[2]
redis.call('SET', p .. 'resume-secret', proposed, 'NX')
return redis.call('GET', p .. 'resume-secret')
"""
"""-> the resume secret every process uses: ``ARGV[2]`` if none was set yet."""

ROOMS: Final = """
local p = ARGV[1]
local out = {}
for _, rid in ipairs(redis.call('SMEMBERS', p .. 'rooms')) do
  table.insert(out, rid)
  table.insert(out, redis.call('ZRANGE', p .. 'room:' .. rid, 0, -1))
end
return out
"""
"""-> ``{room id, {peer ids in join order}, ...}``."""

LOCATE: Final = """
local p, pid = ARGV[1], ARGV[2]
for _, nid in ipairs(redis.call('SMEMBERS', p .. 'nodes')) do
  if redis.call('HEXISTS', p .. 'node:' .. nid, pid) == 1 then return nid end
end
return false
"""
"""-> the id of the node holding a peer, or nil."""
