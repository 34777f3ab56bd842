import type Redis from 'ioredis';

/**
 * Redis Lua scripts for presence. Each runs atomically, so when several instances race
 * (connects, disconnects, sweeps of a dead instance) exactly one of them sees a user's
 * visible transition and announces it.
 *
 * Keys, all under `<prefix>:presence:`
 *   conn:<userId>      hash instanceId -> sockets of that user on that instance
 *   inst:<instanceId>  hash userId -> sockets (to clean up after a crashed instance)
 *   instances          zset instanceId -> last heartbeat (ms)
 *   status:<userId>    the status the user chose (online|away|busy|offline)
 */

/** KEYS: conn:<u>, inst:<i>, status:<u>. ARGV: instanceId, userId. Returns [connections, chosen]. */
export const CONNECT_LUA = `
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(v) end
return {total, redis.call('GET', KEYS[3]) or ''}
`;

/**
 * Re-registers this instance's sockets of one user after the instance was swept while alive
 * (a long pause). KEYS: conn:<u>, inst:<i>, status:<u>. ARGV: instanceId, userId, local count.
 * Returns [connections before, connections after, chosen].
 */
export const RESTORE_LUA = `
local before = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do before = before + tonumber(v) end
local mine = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return {before, before - mine + tonumber(ARGV[3]), redis.call('GET', KEYS[3]) or ''}
`;

/** KEYS: conn:<u>, inst:<i>, status:<u>. ARGV: instanceId, userId. Returns [connections left, chosen]. */
export const DISCONNECT_LUA = `
local c = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if c <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
local c2 = redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
if c2 <= 0 then redis.call('HDEL', KEYS[2], ARGV[2]) end
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(v) end
return {total, redis.call('GET', KEYS[3]) or ''}
`;

/** KEYS: conn:<u>, status:<u>. ARGV: new status, ttlSeconds. Returns [connections, previous chosen]. */
export const SET_STATUS_LUA = `
local prev = redis.call('GET', KEYS[2]) or ''
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(v) end
return {total, prev}
`;

/**
 * Claims instances whose heartbeat is older than the cutoff (ZREM decides the one claimer),
 * drops their sockets, and returns the users left with no connection anywhere, each followed
 * by the status they had chosen: {user1, chosen1, user2, chosen2, ...}.
 * KEYS: instances. ARGV: cutoffMs, key prefix ("<prefix>:presence:"), max instances, [only this instance].
 */
export const SWEEP_LUA = `
local dead
if ARGV[4] and ARGV[4] ~= '' then dead = {ARGV[4]} else
  dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
end
local out = {}
for _, inst in ipairs(dead) do
  if redis.call('ZREM', KEYS[1], inst) == 1 then
    local ikey = ARGV[2] .. 'inst:' .. inst
    for _, u in ipairs(redis.call('HKEYS', ikey)) do
      local ckey = ARGV[2] .. 'conn:' .. u
      redis.call('HDEL', ckey, inst)
      if redis.call('HLEN', ckey) == 0 then
        table.insert(out, u)
        table.insert(out, redis.call('GET', ARGV[2] .. 'status:' .. u) or '')
      end
    end
    redis.call('DEL', ikey)
  end
end
return out
`;

export interface PresenceRedis extends Redis {
  softchatPresenceConnect(c: string, i: string, s: string, instanceId: string, userId: string): Promise<[number, string]>;
  softchatPresenceDisconnect(c: string, i: string, s: string, instanceId: string, userId: string): Promise<[number, string]>;
  softchatPresenceRestore(c: string, i: string, s: string, instanceId: string, userId: string, n: number): Promise<[number, number, string]>;
  softchatPresenceSetStatus(c: string, s: string, status: string, ttl: number): Promise<[number, string]>;
  softchatPresenceSweep(instances: string, cutoff: number | string, prefix: string, max: number, only: string): Promise<string[]>;
}

/** The presence scripts as commands of a Redis client (defined once per client). */
export function withPresenceCommands(client: Redis): PresenceRedis {
  if (!(client as unknown as Record<string, unknown>).softchatPresenceConnect) {
    client.defineCommand('softchatPresenceConnect', { numberOfKeys: 3, lua: CONNECT_LUA });
    client.defineCommand('softchatPresenceDisconnect', { numberOfKeys: 3, lua: DISCONNECT_LUA });
    client.defineCommand('softchatPresenceRestore', { numberOfKeys: 3, lua: RESTORE_LUA });
    client.defineCommand('softchatPresenceSetStatus', { numberOfKeys: 2, lua: SET_STATUS_LUA });
    client.defineCommand('softchatPresenceSweep', { numberOfKeys: 1, lua: SWEEP_LUA });
  }
  return client as PresenceRedis;
}
