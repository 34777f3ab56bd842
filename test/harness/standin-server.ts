/**
 * A tiny HTTP server for a provider stand-in (see payment-standins.ts): records every call,
 * keeps the objects a test's checkouts created, and can be told to fail the next requests.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RemoteStatus = 'pending' | 'paid' | 'expired';

export interface RemoteObject {
  id: string;
  paymentId: string;
  amount: string; // "25.00"
  status: RemoteStatus;
  body: any;
}

export interface Standin {
  url: string;
  objects: Map<string, RemoteObject>;
  /** Requests seen: method, path, headers, raw body. */
  calls: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[];
  failNext: number;
  close(): Promise<void>;
  byPayment(paymentId: string): RemoteObject;
}

export type Route = (req: IncomingMessage, body: string, s: Standin) => { status?: number; json: unknown } | null;

export async function start(route: Route): Promise<Standin> {
  const s: Standin = {
    url: '',
    objects: new Map(),
    calls: [],
    failNext: 0,
    close: async () => undefined,
    byPayment(paymentId) {
      const o = [...this.objects.values()].find((x) => x.paymentId === paymentId);
      if (!o) throw new Error(`stand-in has no object for payment ${paymentId}`);
      return o;
    },
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      s.calls.push({ method: req.method!, path: req.url!, headers: req.headers, body });
      let out: { status?: number; json: unknown } | null;
      if (s.failNext > 0) {
        s.failNext -= 1;
        out = { status: 500, json: { error: 'stand-in told to fail' } };
      } else {
        try {
          out = route(req, body, s);
        } catch (e) {
          out = { status: 400, json: { error: (e as Error).message } };
        }
      }
      out ??= { status: 404, json: { error: 'no such route in the stand-in' } };
      res.writeHead(out.status ?? 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out.json));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  s.close = () => new Promise((r) => server.close(() => r()));
  return s;
}

export const form = (body: string) => Object.fromEntries(new URLSearchParams(body));
export const cents = (v: string | number) => Math.round(Number(v) * 100);
export const dollars = (c: number) => (c / 100).toFixed(2);
export const path = (req: IncomingMessage) => new URL(req.url!, 'http://x').pathname;

