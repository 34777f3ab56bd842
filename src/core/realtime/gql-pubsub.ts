import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { RedisService } from '../redis/redis.service';

/**
 * GraphQL subscription PubSub on Redis: a publish on any instance reaches subscribers on all.
 * Topics are namespaced by REDIS_PREFIX.
 *
 * graphql-redis-subscriptions parses each Redis message once per instance and hands that one
 * object to every subscriber's iterator (RedisPubSub.onMessage). Shared subscription execution
 * (core/graphql/shared-execution.ts) relies on it: the event object is its cache key, so all
 * subscribers of a topic share one execution per message (test/graphql-shared-execution.e2e-spec.ts
 * counts the executions). Do not add a per-subscriber reviver/deserialiser step here.
 */
@Injectable()
export class GqlPubSub implements OnApplicationShutdown {
  private readonly pubsub: RedisPubSub;
  private readonly prefix: string;

  constructor(redis: RedisService) {
    this.prefix = `${redis.prefix}:gql:`;
    this.pubsub = new RedisPubSub({
      publisher: redis.create('gql-pub', { enableAutoPipelining: true }),
      subscriber: redis.create('gql-sub'),
    });
  }

  topic(...parts: string[]): string {
    return parts.join(':');
  }

  /** Low level: feature code announces through `Announcer` with an event from its `<module>.events.ts`. */
  publish(topic: string, payload: object): Promise<void> {
    return this.pubsub.publish(this.prefix + topic, payload);
  }

  iterator<T = unknown>(topics: string | string[]): AsyncIterableIterator<T> {
    const list = (Array.isArray(topics) ? topics : [topics]).map((t) => this.prefix + t);
    return this.pubsub.asyncIterableIterator<T>(list);
  }

  async onApplicationShutdown() {
    await this.pubsub.close();
  }
}
