import { Global, Module } from '@nestjs/common';
import { RealtimePublisher } from './realtime.publisher';
import { ConnectionGateway } from './connection.gateway';
import { GqlPubSub } from './gql-pubsub';

@Global()
@Module({
  providers: [RealtimePublisher, ConnectionGateway, GqlPubSub],
  exports: [RealtimePublisher, GqlPubSub],
})
export class RealtimeModule {}
