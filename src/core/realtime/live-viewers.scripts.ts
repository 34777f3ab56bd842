/**
 * Redis Lua for live viewer counts, shared by every instance. Each script runs atomically, so
 * joins, leaves and the sweep of a dead instance racing on several instances stay consistent.
 *
 * Used through LiveViewers (./live-viewers.ts). Keys, all under `<prefix>:<namespace>:` (`viewers`
 * for videos, `battle-viewers` for battles); <id> is the watched object's id:
 *   users:<id>          hash userId -> sockets watching the object, on all instances (count = HLEN)
 *   inst:<instanceId>   hash "<id>|<userId>" -> sockets of that user on that instance
 *   instances           zset instanceId -> last heartbeat (ms)
 *   throttle:<id>       set for one window after an announcement (videos only)
 *   announced:<id>      the count last announced (videos only)
 */

/** KEYS: users:<v>, inst:<i>. ARGV: userId, field. Returns the video's viewer count. */
export const JOIN_LUA = `
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
return redis.call('HLEN', KEYS[1])
`;

/** KEYS: users:<v>, inst:<i>. ARGV: userId, field. Returns the video's viewer count. */
export const LEAVE_LUA = `
local c = redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
if c <= 0 then redis.call('HDEL', KEYS[2], ARGV[2]) end
if c >= 0 then
  local u = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
  if u <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
end
return redis.call('HLEN', KEYS[1])
`;

/**
 * Re-registers this instance's sockets of one user and video after the instance was swept
 * while alive (a long pause). KEYS: users:<v>, inst:<i>. ARGV: userId, field, local count.
 */
export const RESTORE_LUA = `
local mine = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
local d = tonumber(ARGV[3]) - mine
if d ~= 0 then
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
  local u = redis.call('HINCRBY', KEYS[1], ARGV[1], d)
  if u <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
end
return redis.call('HLEN', KEYS[1])
`;

/**
 * Claims instances whose heartbeat is older than the cutoff (ZREM decides the one claimer),
 * removes their viewers, and returns each video touched followed by its new count.
 * KEYS: instances. ARGV: cutoffMs, key prefix ("<prefix>:viewers:"), max instances, [only this instance].
 */
export const SWEEP_LUA = `
local dead
if ARGV[4] and ARGV[4] ~= '' then dead = {ARGV[4]} else
  dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
end
local touched = {}
for _, inst in ipairs(dead) do
  if redis.call('ZREM', KEYS[1], inst) == 1 or ARGV[4] ~= '' then
    local ikey = ARGV[2] .. 'inst:' .. inst
    local kv = redis.call('HGETALL', ikey)
    for j = 1, #kv, 2 do
      local f = kv[j]
      local n = tonumber(kv[j + 1])
      local sep = string.find(f, '|', 1, true)
      if sep and n > 0 then
        local v = string.sub(f, 1, sep - 1)
        local ukey = ARGV[2] .. 'users:' .. v
        local left = redis.call('HINCRBY', ukey, string.sub(f, sep + 1), -n)
        if left <= 0 then redis.call('HDEL', ukey, string.sub(f, sep + 1)) end
        touched[v] = true
      end
    end
    redis.call('DEL', ikey)
  end
end
local out = {}
for v, _ in pairs(touched) do
  table.insert(out, v)
  table.insert(out, redis.call('HLEN', ARGV[2] .. 'users:' .. v))
end
return out
`;

/**
 * At most one announcement per video per window, across instances, and only of a changed
 * count. KEYS: throttle:<v>, users:<v>, announced:<v>. ARGV: windowMs.
 * Returns {announce (0|1), count, retryAfterMs}: when throttled, the caller re-checks after retryAfterMs.
 */
export const THROTTLE_LUA = `
local count = redis.call('HLEN', KEYS[2])
local last = redis.call('GET', KEYS[3])
if last and tonumber(last) == count then return {0, count, 0} end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then return {0, count, ttl} end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
redis.call('SET', KEYS[3], count, 'PX', 86400000)
return {1, count, 0}
`;
