import { Global, Module } from '@nestjs/common';
import { RealtimePublisher } from './realtime.publisher';
import { ConnectionGateway } from './connection.gateway';
import { GqlPubSub } from './gql-pubsub';
import { Announcer } from './announce';
import { GqlWsServer } from '../graphql/ws-server';
import { WsConnections } from '../graphql/ws-connections';

@Global()
@Module({
  providers: [RealtimePublisher, ConnectionGateway, GqlPubSub, Announcer, WsConnections, GqlWsServer],
  exports: [RealtimePublisher, GqlPubSub, Announcer, WsConnections],
})
export class RealtimeModule {}
