/**
 * A cheap chat client for the reconnect-storm and soak benchmarks: Socket.IO v4 wire protocol over
 * `ws` (as bench/chat-fanout/clients.ts; thousands per process), one room, and the real client's
 * recovery behaviour:
 *  - reconnection with socket.io-client's backoff (client/src/lib/socket.ts: reconnectionDelay 500,
 *    reconnectionDelayMax 10 000, socket.io-client's defaults factor 2 and randomizationFactor 0.5;
 *    the formula below is engine.io-client's `Backoff`, re-stated because the benchmark speaks the
 *    wire protocol itself to stay cheap: a socket.io-client Manager per socket costs several times more);
 *  - on every (re)connect `join_room {roomId,lastSeq}`, whose ack carries what was missed (contract §3),
 *    and when `hasMore` the rest through `GET /api/chat/rooms/:roomId/messages?afterSeq=`;
 *  - per-room `seq` tracking: the highest contiguous seq held (`hw`) plus any seen beyond a gap, so a
 *    missing message is visible as `hw` below the room's last seq.
 * With `catchUp: false` (the bare Socket.IO server, which stores nothing) it only reconnects and joins.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

export interface ChatClientOptions {
  url: string;
  auth: Record<string, string>;
  roomId: string;
  /** Bearer token for the REST history (app only). */
  token?: string;
  catchUp: boolean;
  /** Called on each completed handshake (Socket.IO CONNECT acknowledged), and once joined and caught up. */
  onHandshake?: (c: ChatClient, at: number) => void;
  onJoined?: (c: ChatClient, at: number) => void;
  /** Other server events (name, raw frame), e.g. presence. */
  onEvent?: (c: ChatClient, event: string) => void;
  reconnectionDelay?: number;
  reconnectionDelayMax?: number;
}

export class ChatClient {
  /** Highest seq such that every seq up to it was received. */
  hw = 0;
  private readonly beyond = new Set<number>();
  connected = false;
  joined = false;
  handshakes = 0;
  refused = 0;
  catchUpRest = 0;
  errors: string[] = [];
  private ws: WebSocket | null = null;
  private closed = false;
  private attempts = 0;
  private ackSeq = 0;
  private readonly acks = new Map<number, (v: any) => void>();
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly opts: ChatClientOptions) {}

  /** First connection: resolves once joined (rejects if the first attempt fails). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const prev = this.opts.onJoined;
      const t = setTimeout(() => reject(new Error('chat client: first join timed out')), 60_000);
      this.opts.onJoined = (c, at) => {
        clearTimeout(t);
        this.opts.onJoined = prev;
        prev?.(c, at);
        resolve();
      };
      this.open();
    });
  }

  /** socket.io-client's Backoff.duration(): min·2^attempts, ±50 % jitter, capped. */
  private backoff(): number {
    const min = this.opts.reconnectionDelay ?? 500;
    const max = this.opts.reconnectionDelayMax ?? 10_000;
    let ms = min * Math.pow(2, this.attempts++);
    const rand = Math.random();
    const deviation = Math.floor(rand * 0.5 * ms);
    ms = (Math.floor(rand * 10) & 1) === 0 ? ms - deviation : ms + deviation;
    return Math.min(ms, max) | 0;
  }

  private scheduleReconnect() {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, this.backoff());
  }

  private lost() {
    const was = this.ws;
    this.ws = null;
    this.connected = false;
    this.joined = false;
    for (const cb of this.acks.values()) cb({ ok: false, error: { code: 'DISCONNECTED' } });
    this.acks.clear();
    if (was) {
      was.removeAllListeners();
      was.on('error', () => undefined);
      was.terminate();
    }
    this.scheduleReconnect();
  }

  private open() {
    if (this.closed) return;
    const ws = new WebSocket(`${this.opts.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: false });
    this.ws = ws;
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (this.ws === ws) this.lost();
    });
    ws.on('message', (raw) => {
      if (this.ws !== ws) return;
      const frame = raw.toString();
      switch (frame[0]) {
        case '0':
          ws.send('40' + JSON.stringify(this.opts.auth));
          return;
        case '1': // engine.io close
          this.lost();
          return;
        case '2':
          ws.send('3');
          return;
        case '4':
          this.packet(frame);
          return;
      }
    });
  }

  private packet(frame: string) {
    switch (frame[1]) {
      case '0': // CONNECT acknowledged: the handshake is done
        this.connected = true;
        this.handshakes++;
        this.attempts = 0;
        this.opts.onHandshake?.(this, performance.now());
        void this.join();
        return;
      case '1': // server disconnected the namespace
        this.lost();
        return;
      case '4': // CONNECT refused (e.g. the app is still starting); a real client would refresh and retry
        this.refused++;
        if (this.errors.length < 3) this.errors.push(`refused: ${frame.slice(2, 200)}`);
        this.lost();
        return;
      case '2': {
        if (frame.startsWith('42["message_received"')) {
          const i = frame.indexOf('"seq":');
          if (i >= 0) this.record(parseInt(frame.slice(i + 6, i + 20), 10));
        } else if (this.opts.onEvent) {
          const m = /^42\["([^"]+)"/.exec(frame);
          if (m) this.opts.onEvent(this, m[1]);
        }
        return;
      }
      case '3': {
        const m = /^43(\d+)/.exec(frame);
        if (!m) return;
        const id = Number(m[1]);
        const cb = this.acks.get(id);
        this.acks.delete(id);
        cb?.(JSON.parse(frame.slice(m[0].length))[0]);
        return;
      }
    }
  }

  record(seq: number) {
    if (!(seq > this.hw) || this.beyond.has(seq)) return;
    if (seq === this.hw + 1) {
      this.hw = seq;
      while (this.beyond.delete(this.hw + 1)) this.hw++;
    } else this.beyond.add(seq);
  }

  /** How many of seq 1..last this client does not hold. */
  missing(last: number): number {
    if (last <= this.hw) return 0;
    let held = 0;
    for (const s of this.beyond) if (s <= last) held++;
    return last - this.hw - held;
  }

  emitAck<T = any>(event: string, data: unknown, timeoutMs = 30_000): Promise<T> {
    const ws = this.ws;
    if (!ws || !this.connected) return Promise.resolve({ ok: false, error: { code: 'DISCONNECTED' } } as T);
    const id = ++this.ackSeq;
    return new Promise<T>((resolve) => {
      const timer = setTimeout(() => {
        this.acks.delete(id);
        resolve({ ok: false, error: { code: 'TIMEOUT' } } as T);
      }, timeoutMs);
      this.acks.set(id, (v) => {
        clearTimeout(timer);
        resolve(v as T);
      });
      ws.send(`42${id}` + JSON.stringify([event, data]));
    });
  }

  emit(event: string, data: unknown) {
    if (this.ws && this.connected) this.ws.send('42' + JSON.stringify([event, data]));
  }

  private async join() {
    const ws = this.ws;
    const ack = await this.emitAck<{ ok: boolean; data?: any; error?: any }>(
      'join_room',
      this.opts.catchUp ? { roomId: this.opts.roomId, lastSeq: this.hw } : { roomId: this.opts.roomId },
    );
    if (this.ws !== ws) return; // dropped meanwhile; the next connection joins again
    if (!ack.ok) {
      if (this.errors.length < 3) this.errors.push(`join_room: ${JSON.stringify(ack.error)}`);
      this.lost();
      return;
    }
    if (this.opts.catchUp) {
      for (const m of ack.data?.messages ?? []) this.record(m.seq);
      let more = !!ack.data?.hasMore;
      while (more && this.ws === ws) {
        this.catchUpRest++;
        const r = await fetch(`${this.opts.url}/api/chat/rooms/${this.opts.roomId}/messages?afterSeq=${this.hw}&limit=200`, {
          headers: { authorization: `Bearer ${this.opts.token}` },
        }).catch(() => null);
        if (!r || !r.ok) {
          if (this.errors.length < 3) this.errors.push(`history: ${r?.status ?? 'unreachable'}`);
          this.lost();
          return;
        }
        const page = (await r.json()) as { items: { seq: number }[]; nextCursor: string | null };
        const before = this.hw;
        for (const m of page.items) this.record(m.seq);
        more = page.items.length === 200 && this.hw > before;
      }
    }
    if (this.ws !== ws) return;
    this.joined = true;
    this.opts.onJoined?.(this, performance.now());
  }

  /** Drops the connection as a network blip would; the client reconnects with backoff. */
  drop() {
    if (this.ws) this.lost();
  }

  close() {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    this.connected = false;
    ws?.removeAllListeners();
    ws?.on('error', () => undefined);
    ws?.terminate();
  }
}
