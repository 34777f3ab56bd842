import type { INestApplication, LoggerService } from '@nestjs/common';
import type { Server } from 'node:http';
import { RealtimePublisher } from './realtime/realtime.publisher';
import { WsConnections, WS_GOING_AWAY } from './graphql/ws-connections';
import { JobsService } from './queue/jobs.service';

/**
 * Graceful stop of ONE instance (SIGTERM from the orchestrator):
 * 1. stop accepting connections; idle keep-alive connections are closed as they become idle;
 * 2. this instance's Socket.IO sockets and graphql-ws connections are closed, so clients
 *    reconnect to another instance (only local ones: a broadcast through the Redis adapter
 *    would disconnect every user of every instance);
 * 3. in-flight HTTP requests and BullMQ jobs finish (workers take no new jobs);
 * 4. the application closes (database, Redis).
 * The caller bounds the whole with SHUTDOWN_TIMEOUT_MS.
 */
export async function drainInstance(
  app: INestApplication,
  log: Pick<LoggerService, 'log'>,
  opts: { /** Connections handed over by a cluster primary (not counted by the server): all closed. */ connectionsClosed?: () => Promise<void> } = {},
): Promise<void> {
  const http = app.getHttpServer() as Server;
  const httpClosed = new Promise<void>((resolve) => {
    if (!http.listening) return resolve();
    http.close(() => resolve());
  }).then(() => opts.connectionsClosed?.());
  // Responses finishing after close() leave their keep-alive connection idle: close those too.
  const idleSweep = setInterval(() => http.closeIdleConnections(), 250);
  idleSweep.unref();
  http.closeIdleConnections();

  const realtime = app.get(RealtimePublisher, { strict: false });
  if (realtime.ready) realtime.io.local.disconnectSockets(true);
  app.get(WsConnections, { strict: false }).closeAll(WS_GOING_AWAY, 'Server shutting down');

  await Promise.all([
    httpClosed.then(() => log.log('HTTP drained')),
    app
      .get(JobsService, { strict: false })
      .drainWorkers()
      .then(() => log.log('Job workers drained')),
  ]);
  clearInterval(idleSweep);
  await app.close();
}
