/**
 * The baseline: a bare Socket.IO 4 server doing the same broadcast as the app (join a room,
 * `send_message` → `message_received` with a message of the same shape to the room, ack the
 * sender) with no authentication, no validation, no database and no rate limit.
 * With `--redis <url>` it uses the Redis adapter, as the app does (a context row).
 * `--port N` listens on that port (default: any free one). Prints `LISTENING <port>` when ready.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Server } from 'socket.io';

async function main() {
  const httpServer = createServer();
  const io = new Server(httpServer, { maxHttpBufferSize: 100_000, pingInterval: 20_000, pingTimeout: 20_000 });
  const redisAt = process.argv.indexOf('--redis');
  if (redisAt > 0) {
    const { createAdapter } = await import('@socket.io/redis-adapter');
    const { default: Redis } = await import('ioredis');
    const url = process.argv[redisAt + 1];
    io.adapter(createAdapter(new Redis(url), new Redis(url), { key: `benchbare${process.pid}:socket.io` }));
  }
  const seqs = new Map<string, number>();
  io.on('connection', (socket) => {
    const userId = String(socket.handshake.auth?.userId ?? socket.id);
    socket.on('join_room', (p: { roomId: string }, ack?: (a: unknown) => void) => {
      void socket.join(`chat:room:${p.roomId}`);
      ack?.({ ok: true, data: { roomId: p.roomId } });
    });
    socket.on('send_message', (p: { roomId: string; content: string; clientMessageId?: string }, ack?: (a: unknown) => void) => {
      const seq = (seqs.get(p.roomId) ?? 0) + 1;
      seqs.set(p.roomId, seq);
      const message = {
        id: randomUUID(),
        roomId: p.roomId,
        seq,
        senderId: userId,
        senderUsername: 'bench',
        content: p.content,
        clientMessageId: p.clientMessageId ?? null,
        createdAt: new Date().toISOString(),
      };
      io.to(`chat:room:${p.roomId}`).emit('message_received', { roomId: p.roomId, message });
      ack?.({ ok: true, data: message });
    });
  });
  const portAt = process.argv.indexOf('--port');
  httpServer.listen(portAt > 0 ? Number(process.argv[portAt + 1]) : 0, '127.0.0.1', () => {
    process.stdout.write(`LISTENING ${(httpServer.address() as { port: number }).port}\n`);
  });
  process.on('SIGTERM', () => {
    io.close();
    process.exit(0);
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
