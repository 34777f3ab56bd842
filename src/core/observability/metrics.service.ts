import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics; one registry per app instance (and per app in tests). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly socketConnections = new Gauge({
    name: 'socketio_connected_sockets',
    help: 'Socket.IO sockets connected to this instance',
    registers: [this.registry],
  });

  readonly queueJobs = new Gauge({
    name: 'bullmq_queue_jobs',
    help: 'BullMQ jobs by queue and state (waiting, active, delayed, failed)',
    labelNames: ['queue', 'state'],
    registers: [this.registry],
  });

  readonly gqlOperations = new Counter({
    name: 'graphql_operations_total',
    help: 'GraphQL operations by type and outcome',
    labelNames: ['type', 'outcome'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
