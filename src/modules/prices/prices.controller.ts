import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { Public, Roles } from '../../core/auth/decorators';
import { PricesService } from './prices.service';

@Public()
@Controller('crypto/prices')
export class PricesController {
  constructor(private readonly prices: PricesService) {}

  /** `?symbols=BTC,ETH` (default: every asset with a price). */
  @Get()
  async list(@Query('symbols') symbols?: string) {
    const wanted = typeof symbols === 'string' && symbols ? this.prices.symbols(symbols.split(',')) : undefined;
    return { items: await this.prices.list(wanted), nextCursor: null };
  }

  /** The cached price with its source and updatedAt; 404 for an unknown symbol or before any source priced it. */
  @Get(':symbol')
  get(@Param('symbol') symbol: string) {
    return this.prices.get(symbol);
  }
}

@Roles('admin')
@Controller('admin/prices')
export class AdminPricesController {
  constructor(private readonly prices: PricesService) {}

  /** Refresh now (operations, tests): each provider's outcome and the resulting prices. */
  @Post('refresh')
  @HttpCode(200)
  refresh() {
    return this.prices.refresh();
  }
}
