/**
 * The V8 inspector of a server under test, over `ws` (Chrome DevTools protocol): used to force a GC and
 * read the heap (soak; idle-sockets with --heap). Start the server with `--inspect=127.0.0.1:0` (random
 * ports) and find every inspector of its process tree from its "Debugger listening on" lines.
 */
import WebSocket from 'ws';

export function inspectorUrls(stderr: string): string[] {
  return [...new Set([...stderr.matchAll(/Debugger listening on (ws:\/\/\S+)/g)].map((m) => m[1]))];
}

/** A minimal Chrome DevTools protocol client over `ws` (request → response by id). */
export class Inspector {
  private id = 0;
  private readonly pending = new Map<number, (r: any) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString());
      if (msg.id !== undefined) {
        this.pending.get(msg.id)?.(msg);
        this.pending.delete(msg.id);
      }
    });
  }
  static open(url: string): Promise<Inspector> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
      ws.once('open', () => resolve(new Inspector(ws)));
      ws.once('error', reject);
    });
  }
  call<T = any>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.id;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`inspector ${method} timed out`)), 60_000);
      this.pending.set(id, (msg) => {
        clearTimeout(t);
        if (msg.error) reject(new Error(`${method}: ${msg.error.message}`));
        else resolve(msg.result as T);
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  close() {
    this.ws.terminate();
  }
}

/** Forces a full GC in each process and returns the used heap of each (bytes). */
export async function heapAfterGc(inspectors: Inspector[]): Promise<{ used: number; total: number }[]> {
  const out: { used: number; total: number }[] = [];
  for (const ins of inspectors) {
    await ins.call('HeapProfiler.collectGarbage');
    const h = await ins.call<{ usedSize: number; totalSize: number }>('Runtime.getHeapUsage');
    out.push({ used: h.usedSize, total: h.totalSize });
  }
  return out;
}
