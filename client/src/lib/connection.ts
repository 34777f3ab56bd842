import { useSyncExternalStore } from 'react';

/** State of one live channel (graphql-ws, Socket.IO). */
export type ChannelState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'offline';

type Channels = { graphql: ChannelState; socket: ChannelState };
let state: Channels = { graphql: 'idle', socket: 'idle' };
const listeners = new Set<() => void>();
const reconnectListeners = new Set<(channel: keyof Channels) => void>();
const everConnected: Record<keyof Channels, boolean> = { graphql: false, socket: false };

export function setChannel(channel: keyof Channels, s: ChannelState) {
  if (state[channel] === s) return;
  state = { ...state, [channel]: s };
  if (s === 'connected') {
    if (everConnected[channel]) for (const l of [...reconnectListeners]) l(channel);
    everConnected[channel] = true;
  }
  if (s === 'idle') everConnected[channel] = false;
  for (const l of [...listeners]) l();
}

export const getChannels = () => state;

export function useChannels(): Channels {
  return useSyncExternalStore(
    (cb) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    () => state,
  );
}

/** Called after a channel comes back (not on its first connect): time to catch up on what was missed. */
export function onReconnect(l: (channel: keyof Channels) => void): () => void {
  reconnectListeners.add(l);
  return () => reconnectListeners.delete(l);
}
