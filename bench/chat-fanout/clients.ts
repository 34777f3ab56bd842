/**
 * Lightweight benchmark clients speaking the wire protocols directly over `ws`:
 * Socket.IO v4 (Engine.IO 4 frames) and graphql-transport-ws. One process drives a thousand
 * of them; the delivery path only finds the send timestamp inside the frame (no JSON parse),
 * so the client side stays cheap and identical for every server under test.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

/** Message content: `bench|<step>|<sentAt ms>|<padding>`; the same ~100 characters everywhere. */
export function benchContent(step: number): string {
  const head = `bench|${step}|${performance.now().toFixed(3)}|`;
  return head + 'x'.repeat(Math.max(0, 100 - head.length));
}

const MARK = '"content":"bench|';

/** Finds `bench|<step>|<sentAt>|` in a raw frame. */
export function parseStamp(frame: string): { step: number; sentAt: number } | null {
  const i = frame.indexOf(MARK);
  if (i < 0) return null;
  const a = i + MARK.length;
  const b = frame.indexOf('|', a);
  const c = frame.indexOf('|', b + 1);
  if (b < 0 || c < 0) return null;
  return { step: Number(frame.slice(a, b)), sentAt: Number(frame.slice(b + 1, c)) };
}

export type DeliveryHandler = (step: number, sentAt: number) => void;

/** A Socket.IO client (EIO=4, websocket only) with acks and a fast path for message_received. */
export class RawSocketIo {
  private ackSeq = 0;
  private readonly acks = new Map<number, (v: unknown) => void>();
  private constructor(
    private readonly ws: WebSocket,
    private readonly onDelivery: DeliveryHandler,
  ) {}

  static connect(baseUrl: string, auth: Record<string, string>, onDelivery: DeliveryHandler): Promise<RawSocketIo> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: false });
    const client = new RawSocketIo(ws, onDelivery);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('socket.io connect timeout')), 20_000);
      ws.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      ws.on('message', (raw) => {
        const frame = raw.toString();
        switch (frame[0]) {
          case '0': // engine.io open: connect to the default namespace with the auth payload
            ws.send('40' + JSON.stringify(auth));
            return;
          case '2': // ping
            ws.send('3');
            return;
          case '4':
            if (frame[1] === '0') {
              clearTimeout(timer);
              resolve(client);
            } else if (frame[1] === '4') {
              clearTimeout(timer);
              reject(new Error(`socket.io refused: ${frame.slice(2)}`));
            } else if (frame[1] === '2') {
              const s = parseStamp(frame);
              if (s) client.onDelivery(s.step, s.sentAt);
            } else if (frame[1] === '3') {
              const m = /^43(\d+)/.exec(frame);
              if (m) {
                const id = Number(m[1]);
                const cb = client.acks.get(id);
                client.acks.delete(id);
                cb?.(JSON.parse(frame.slice(m[0].length))[0]);
              }
            }
            return;
        }
      });
    });
  }

  emit(event: string, data: unknown): void {
    this.ws.send('42' + JSON.stringify([event, data]));
  }

  emitAck<T = any>(event: string, data: unknown, timeoutMs = 30_000): Promise<T> {
    const id = ++this.ackSeq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.acks.delete(id);
        reject(new Error(`ack timeout for ${event}`));
      }, timeoutMs);
      this.acks.set(id, (v) => {
        clearTimeout(timer);
        resolve(v as T);
      });
      this.ws.send(`42${id}` + JSON.stringify([event, data]));
    });
  }

  close() {
    this.ws.terminate();
  }
}

/** A graphql-transport-ws client holding one subscription, with the same delivery fast path. */
export class RawGqlWs {
  private constructor(private readonly ws: WebSocket) {}

  static async subscribe(baseUrl: string, token: string, query: string, variables: Record<string, unknown>, onDelivery: DeliveryHandler): Promise<RawGqlWs> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws', { perMessageDeflate: false });
    const client = new RawGqlWs(ws);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('graphql-ws connect timeout')), 20_000);
      ws.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
      ws.on('message', (raw) => {
        const frame = raw.toString();
        if (frame.includes('"type":"next"')) {
          const s = parseStamp(frame);
          if (s) onDelivery(s.step, s.sentAt);
          else if (frame.includes('"errors"')) process.stderr.write(`subscription error: ${frame}\n`);
          return;
        }
        const msg = JSON.parse(frame) as { type: string };
        if (msg.type === 'connection_ack') {
          ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
          clearTimeout(timer);
          resolve();
        } else if (msg.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
        else if (msg.type === 'error') process.stderr.write(`subscription error: ${frame}\n`);
      });
      ws.on('close', (code, reason) => {
        clearTimeout(timer);
        reject(new Error(`graphql-ws closed ${code} ${reason}`));
      });
    });
    return client;
  }

  close() {
    this.ws.terminate();
  }
}

/** Runs `fn` over `items` with at most `n` in flight. */
export async function pool<T, R>(items: T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

export function percentile(sorted: Float64Array, p: number, missing: number): number {
  const total = sorted.length + missing;
  if (total === 0) return NaN;
  const rank = Math.ceil((p / 100) * total) - 1;
  return rank < sorted.length ? sorted[rank] : Infinity;
}
