import { envInt } from './common/env';

export interface ChatSettings {
  /** Messages one user may send per window, over every transport and instance. */
  sendLimit: number;
  sendWindowSeconds: number;
  maxContentLength: number;
  /** Typing stops by itself after this much silence (CONTRACT §4: 5 s). */
  typingTtlMs: number;
  /** How often every instance sweeps expired typing entries. */
  typingSweepMs: number;
  /** At most this many missed messages come with a `join_room` ack; the rest via REST `afterSeq`. */
  catchUpLimit: number;
}

export const MAX_CONTENT_LENGTH = 4000;

export function chatSettings(env: NodeJS.ProcessEnv = process.env): ChatSettings {
  return {
    sendLimit: envInt('THROTTLE_CHAT_MESSAGES', 30, 1, 10_000_000, env),
    sendWindowSeconds: envInt('THROTTLE_CHAT_WINDOW_SECONDS', 10, 1, 3600, env),
    maxContentLength: MAX_CONTENT_LENGTH,
    typingTtlMs: 5000,
    typingSweepMs: envInt('CHAT_TYPING_SWEEP_MS', 500, 50, 5000, env),
    catchUpLimit: 200,
  };
}
