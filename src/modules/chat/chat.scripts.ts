import type Redis from 'ioredis';

/**
 * Before a batch is written, one Redis call for all of it: each message takes a point from
 * its sender's fixed window (shared by every instance and transport), and the senders allowed
 * to send stop typing. KEYS: typing zset. ARGV: windowMs, limit, roomId, limiter key prefix,
 * then the senders. Returns {per message: 0 = allowed, else ms until the window resets;
 * senders whose typing entry was removed}.
 */
export const PRE_WRITE_LUA = `
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local room = ARGV[3]
local prefix = ARGV[4]
local verdicts, stopped, seen = {}, {}, {}
for i = 5, #ARGV do
  local u = ARGV[i]
  local k = prefix .. u
  local c = redis.call('INCR', k)
  if c == 1 then redis.call('PEXPIRE', k, window) end
  if c > limit then
    local ttl = redis.call('PTTL', k)
    if ttl < 0 then redis.call('PEXPIRE', k, window) ttl = window end
    table.insert(verdicts, ttl)
  else
    table.insert(verdicts, 0)
    if not seen[u] then
      seen[u] = true
      if redis.call('ZREM', KEYS[1], room .. '|' .. u) == 1 then table.insert(stopped, u) end
    end
  end
end
return {verdicts, stopped}
`;

export interface ChatRedis extends Redis {
  softchatChatPreWrite(typingKey: string, windowMs: number, limit: number, roomId: string, prefix: string, ...senders: string[]): Promise<[number[], string[]]>;
}

/**
 * Takes every typing entry whose expiry has passed and removes it in the same atomic step, so
 * when several instances sweep at once each expired entry is claimed (and announced) exactly
 * once. KEYS: the typing zset. ARGV: now (ms), max entries.
 */
export const TYPING_SWEEP_LUA = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
`;

export interface TypingRedis extends Redis {
  softchatTypingSweep(key: string, now: number, max: number): Promise<string[]>;
}
