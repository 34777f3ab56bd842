import { Module } from '@nestjs/common';
import { TradingModule } from '../trading/trading.module';
import { AdminPricesController, PricesController } from './prices.controller';
import { PricesGateway } from './prices.gateway';
import { PricesJobs } from './prices.jobs';
import { PricesResolver } from './prices.resolver';
import { PricesService } from './prices.service';

@Module({
  imports: [TradingModule],
  controllers: [PricesController, AdminPricesController],
  providers: [PricesService, PricesJobs, PricesGateway, PricesResolver],
  exports: [PricesService],
})
export class PricesModule {}
