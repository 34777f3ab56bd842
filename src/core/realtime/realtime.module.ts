import { Global, Module } from '@nestjs/common';
import { RealtimePublisher } from './realtime.publisher';
import { ConnectionGateway } from './connection.gateway';
import { GqlPubSub } from './gql-pubsub';
import { GqlWsServer } from '../graphql/ws-server';
import { WsConnections } from '../graphql/ws-connections';

@Global()
@Module({
  providers: [RealtimePublisher, ConnectionGateway, GqlPubSub, WsConnections, GqlWsServer],
  exports: [RealtimePublisher, GqlPubSub, WsConnections],
})
export class RealtimeModule {}
