import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentUser, Public } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { badRequest } from '../../core/http/domain-error';
import { Idempotent, idempotencyKeyOf } from '../../core/http/idempotency';
import { DepthQueryDto, KlinesQueryDto, OrdersQueryDto, PageQueryDto, PlaceOrderDto, UpdateOrderDto } from './dto/trading.dto';
import { MarketDataService } from './market-data.service';
import { TradingService } from './trading.service';

/** Public market data (no token needed, like any exchange's market endpoints). */
@Public()
@Controller('crypto')
export class MarketController {
  constructor(private readonly market: MarketDataService) {}

  @Get('trading/pairs')
  async pairs() {
    return { items: await this.market.listPairs(), nextCursor: null };
  }

  @Get('trading/pairs/:pairId')
  pair(@Param('pairId') pairId: string) {
    return this.market.getPair(pairId);
  }

  @Get('orderbook/:pairId')
  orderBook(@Param('pairId') pairId: string, @Query() q: DepthQueryDto) {
    return this.market.orderBook(pairId, q.depth);
  }

  @Get('trades/:pairId')
  trades(@Param('pairId') pairId: string, @Query() q: PageQueryDto) {
    return this.market.recentTrades(pairId, q);
  }

  @Get('klines/:pairId')
  klines(@Param('pairId') pairId: string, @Query() q: KlinesQueryDto) {
    return this.market.klines(pairId, q);
  }
}

/** The caller's orders. */
@Controller('trading/orders')
export class OrdersController {
  constructor(private readonly trading: TradingService) {}

  /** Holds funds and matches at once; 201 with the order in its state after matching. */
  @Idempotent('trading.order')
  @Post()
  place(@CurrentUser() user: AuthUser, @Body() dto: PlaceOrderDto, @Req() req: FastifyRequest) {
    return this.trading.place(user, dto, idempotencyKeyOf(req));
  }

  @Get()
  list(@CurrentUser() user: AuthUser, @Query() q: OrdersQueryDto) {
    return this.trading.listOrders(user.id, q);
  }

  @Get(':orderId')
  get(@CurrentUser() user: AuthUser, @Param('orderId') orderId: string) {
    return this.trading.getOrder(user, orderId);
  }

  @Get(':orderId/trades')
  fills(@CurrentUser() user: AuthUser, @Param('orderId') orderId: string) {
    return this.trading.orderTrades(user, orderId);
  }

  /** `{status: "cancelled"}` cancels; `{price?, quantity?}` replaces (the order loses time priority). */
  @Put(':orderId')
  update(@CurrentUser() user: AuthUser, @Param('orderId') orderId: string, @Body() dto: UpdateOrderDto) {
    if (dto.status !== undefined) {
      if (dto.price !== undefined || dto.quantity !== undefined) throw badRequest('status cannot be combined with price or quantity');
      return this.trading.cancel(user, orderId);
    }
    return this.trading.replace(user, orderId, dto);
  }

  /** Cancel, the REST way (same as PUT {status: "cancelled"}). */
  @Delete(':orderId')
  @HttpCode(200)
  cancel(@CurrentUser() user: AuthUser, @Param('orderId') orderId: string) {
    return this.trading.cancel(user, orderId);
  }
}
