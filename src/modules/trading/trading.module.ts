import { Module } from '@nestjs/common';
import { IdempotencyInterceptor } from '../../core/http/idempotency';
import { BookCacheService } from './book-cache.service';
import { MarketDataService } from './market-data.service';
import { PairsService } from './pairs.service';
import { MarketController, OrdersController } from './trading.controller';
import { TradingGateway } from './trading.gateway';
import { TradingJobs } from './trading.jobs';
import { TradingPublisher } from './trading.publisher';
import { TradingResolver } from './trading.resolver';
import { TradingService } from './trading.service';

@Module({
  controllers: [MarketController, OrdersController],
  providers: [
    PairsService,
    BookCacheService,
    TradingPublisher,
    TradingService,
    MarketDataService,
    TradingGateway,
    TradingResolver,
    TradingJobs,
    IdempotencyInterceptor,
  ],
  exports: [PairsService, MarketDataService, TradingPublisher, TradingService],
})
export class TradingModule {}
