import { Module } from '@nestjs/common';
import { IdempotencyInterceptor } from '../../core/http/idempotency';
import { BookCacheService } from './book-cache.service';
import { MarketDataRepository } from './market-data.repository';
import { MarketDataService } from './market-data.service';
import { OrderExpiry } from './order-expiry';
import { PairWriter } from './pair-writer';
import { PairsService } from './pairs.service';
import { TradingSettlement } from './settlement';
import { TradesFeed } from './trades.feed';
import { MarketController, OrdersController } from './trading.controller';
import { TradingGateway } from './trading.gateway';
import { TradingJobs } from './trading.jobs';
import { TradingRepository } from './trading.repository';
import { TradingResolver } from './trading.resolver';
import { TradingService } from './trading.service';

@Module({
  controllers: [MarketController, OrdersController],
  providers: [
    PairsService,
    BookCacheService,
    TradingRepository,
    TradesFeed,
    PairWriter,
    TradingSettlement,
    OrderExpiry,
    TradingService,
    MarketDataRepository,
    MarketDataService,
    TradingGateway,
    TradingResolver,
    TradingJobs,
    IdempotencyInterceptor,
  ],
  exports: [PairsService, MarketDataService, TradesFeed, TradingService],
})
export class TradingModule {}
