import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloDriverConfig } from '@nestjs/apollo';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ThrottlerModule } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from './core/config/config';
import { ConfigModule } from './core/config/config.module';
import { buildDataSourceOptions } from './core/database/data-source-options';
import { RedisModule } from './core/redis/redis.module';
import { RedisService } from './core/redis/redis.service';
import { CoreAuthModule } from './core/auth/core-auth.module';
import { JwtAuthGuard, RolesGuard } from './core/auth/guards';
import { AllExceptionsFilter } from './core/http/all-exceptions.filter';
import { AppThrottlerGuard } from './core/http/throttler.guard';
import { genRequestId } from './core/http/correlation';
import { RealtimeModule } from './core/realtime/realtime.module';
import { QueueModule } from './core/queue/queue.module';
import { OutboxModule } from './core/outbox/outbox.module';
import { ObservabilityModule } from './core/observability/observability.module';
import { graphqlOptions } from './core/graphql/graphql.config';
import { UsersModule } from './modules/users/users.module';
import { AuthModule } from './modules/auth/auth.module';
import { ChatModule } from './modules/chat/chat.module';
import { PresenceModule } from './modules/presence/presence.module';
import { NotificationsModule } from './modules/notifications/notifications.module';
import { LedgerModule } from './modules/ledger/ledger.module';
import { WalletModule } from './modules/wallet/wallet.module';
import { RewardsModule } from './modules/rewards/rewards.module';
import { VideosModule } from './modules/videos/videos.module';
import { TradingModule } from './modules/trading/trading.module';
import { PricesModule } from './modules/prices/prices.module';
import { P2PModule } from './modules/p2p/p2p.module';
import { BattlesModule } from './modules/battles/battles.module';
import { CreatorModule } from './modules/creator/creator.module';
import { PaymentsModule } from './modules/payments/payments.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            genReqId: (req) => (req as { id?: string }).id ?? genRequestId(req),
            customProps: (req) => ({ userId: (req as { user?: { id: string } }).user?.id }),
            redact: ['req.headers.authorization', 'req.headers.cookie', 'req.body.password'],
            autoLogging: { ignore: (req) => req.url === '/api/health' || req.url === '/metrics' },
          },
          forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
        }),
        TypeOrmModule.forRoot({
          ...buildDataSourceOptions({
            url: config.database.url!,
            poolSize: config.database.poolSize,
            // Run by createApp() under an advisory lock, so replicas starting together take turns.
            migrationsRun: false,
            logQueries: config.database.logQueries,
          }),
          autoLoadEntities: true,
          entities: [],
        }),
        RedisModule,
        ThrottlerModule.forRootAsync({
          inject: [RedisService],
          useFactory: (redis: RedisService) => ({
            throttlers: [{ name: 'default', ttl: config.throttle.ttlSeconds * 1000, limit: config.throttle.limit }],
            storage: new ThrottlerStorageRedisService(redis.create('throttler', { keyPrefix: `${config.redis.prefix}:throttle:`, enableAutoPipelining: true })),
            errorMessage: 'Too many requests, slow down',
          }),
        }),
        CoreAuthModule,
        QueueModule,
        OutboxModule,
        ObservabilityModule,
        RealtimeModule,
        GraphQLModule.forRootAsync<ApolloDriverConfig>({
          driver: (require('@nestjs/apollo') as typeof import('@nestjs/apollo')).ApolloDriver,
          useFactory: () => graphqlOptions(config),
        }),
        UsersModule,
        AuthModule,
        LedgerModule,
        WalletModule,
        PresenceModule,
        ChatModule,
        NotificationsModule,
        TradingModule,
        PricesModule,
        P2PModule,
        RewardsModule,
        VideosModule,
        BattlesModule,
        CreatorModule,
        PaymentsModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_GUARD, useClass: AppThrottlerGuard },
        { provide: APP_GUARD, useClass: JwtAuthGuard },
        { provide: APP_GUARD, useClass: RolesGuard },
      ],
    };
  }
}
