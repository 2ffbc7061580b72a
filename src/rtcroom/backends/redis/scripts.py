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

Keys are built inside the scripts, so this needs one Redis server (or a primary with replicas),
not Redis Cluster.
"""

from __future__ import annotations

from typing import Final

# Remove one peer from its room; 1 and the room id go to ``out`` when it was there.
_REMOVE: Final = """
local function remove(p, out, pid, rid)
  local rk = p .. 'room:' .. rid
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
local p, rid, max, nid = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
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
local created = 0
if n == 0 then
  redis.call('SADD', p .. 'rooms', rid)
  created = 1
end
return {1, pid, created, peers}
"""
"""-> ``{1, peer id, created, members before}``, ``{0}`` when full, ``{-1}`` when this node is
not registered (its heartbeat lapsed and it was declared dead)."""

LEAVE: Final = (
    _REMOVE
    + """
local p, rid, pid, nid = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('HDEL', p .. 'node:' .. nid, pid)
local out = {}
remove(p, out, pid, rid)
if #out == 0 then return -1 end
return out[3]
"""
)
"""-> 1 when the room is now empty (destroyed), 0 when not, -1 when the peer was not there."""

HEARTBEAT: Final = """
local p, nid, ttl = ARGV[1], ARGV[2], ARGV[3]
redis.call('SET', p .. 'alive:' .. nid, '1', 'PX', ttl)
local added = redis.call('SADD', p .. 'nodes', nid)
if redis.call('DEL', p .. 'reaped:' .. nid) == 1 then return 2 end
return added
"""
"""-> 0 alive as before; 1 newly registered (first start, or Redis lost its data); 2 this node
had been declared dead and its peers removed (it is registered again now)."""

SYNC: Final = (
    _REMOVE
    + """
local p, nid = ARGV[1], ARGV[2]
local nk = p .. 'node:' .. nid
local keep = {}
local restored = 0
for i = 3, #ARGV, 2 do
  local pid, rid = ARGV[i], ARGV[i + 1]
  keep[pid] = true
  if redis.call('HSETNX', nk, pid, rid) == 1 then
    local rk = p .. 'room:' .. rid
    if not redis.call('ZSCORE', rk, pid) then
      redis.call('ZADD', rk, redis.call('INCR', p .. 'seq'), pid)
      redis.call('SADD', p .. 'rooms', rid)
      restored = restored + 1
    end
  end
end
local out = {restored}
local cur = redis.call('HGETALL', nk)
for i = 1, #cur, 2 do
  if not keep[cur[i]] then
    redis.call('HDEL', nk, cur[i])
    remove(p, out, cur[i], cur[i + 1])
  end
end
return out
"""
)
"""Make Redis hold exactly this node's peers (``ARGV[3:]`` = peer id, room id, ...): restores
the ones Redis lost, removes the ones that left while Redis was unreachable.
-> ``{restored count, peer, room, destroyed, ...}`` for the removed ones."""

REAP: Final = (
    _REMOVE
    + """
local p, me, tomb = ARGV[1], ARGV[2], ARGV[3]
local out = {}
for _, nid in ipairs(redis.call('SMEMBERS', p .. 'nodes')) do
  if nid ~= me and redis.call('EXISTS', p .. 'alive:' .. nid) == 0 then
    local nk = p .. 'node:' .. nid
    local cur = redis.call('HGETALL', nk)
    local removed = {}
    for i = 1, #cur, 2 do remove(p, removed, cur[i], cur[i + 1]) end
    redis.call('DEL', nk)
    redis.call('SREM', p .. 'nodes', nid)
    redis.call('SET', p .. 'reaped:' .. nid, '1', 'PX', tomb)
    table.insert(out, nid)
    table.insert(out, removed)
  end
end
return out
"""
)
"""Declare every node whose heartbeat key expired dead, once. -> ``{node, {peer, room,
destroyed, ...}, ...}``."""

RETIRE: Final = """
local p, nid = ARGV[1], ARGV[2]
redis.call('SREM', p .. 'nodes', nid)
redis.call('DEL', p .. 'alive:' .. nid)
return redis.call('HLEN', p .. 'node:' .. nid)
"""
"""A clean shutdown: unregister (after SYNC with no peers emptied the node's hash)."""

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
