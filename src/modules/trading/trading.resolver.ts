import { Args, ID, Int, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { parseIdempotencyKey } from '../../core/http/idempotency';
import { CurrentUser, Public } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import {
  KlineGql,
  OrderBookGql,
  OrderGql,
  OrderPageGql,
  PlaceOrderDto,
  ReplaceOrderArgs,
  TradePageGql,
  TradingPairGql,
} from './dto/trading.dto';
import { TradeGql } from './dto/trading.dto';
import { MarketDataService } from './market-data.service';
import { PairsService } from './pairs.service';
import { TradingService } from './trading.service';
import { bookTopic, orderTopic, tradesTopic } from './trading.events';
import { SharedSubscription } from '../../core/graphql/shared-execution';

@Resolver()
export class TradingResolver {
  constructor(
    private readonly trading: TradingService,
    private readonly market: MarketDataService,
    private readonly pairs: PairsService,
    private readonly pubsub: GqlPubSub,
  ) {}

  @Public()
  @Query(() => [TradingPairGql])
  tradingPairs() {
    return this.market.listPairs();
  }

  @Public()
  @Query(() => TradingPairGql)
  tradingPair(@Args('pairId', { type: () => ID }) pairId: string) {
    return this.market.getPair(pairId);
  }

  @Public()
  @Query(() => OrderBookGql)
  orderBook(@Args('pairId', { type: () => ID }) pairId: string, @Args('depth', { type: () => Int, nullable: true }) depth?: number) {
    return this.market.orderBook(pairId, depth ?? undefined);
  }

  @Public()
  @Query(() => TradePageGql)
  recentTrades(
    @Args('pairId', { type: () => ID }) pairId: string,
    @Args('limit', { type: () => Int, nullable: true }) limit?: number,
    @Args('cursor', { nullable: true }) cursor?: string,
  ) {
    return this.market.recentTrades(pairId, { limit: limit ?? undefined, cursor: cursor ?? undefined });
  }

  @Public()
  @Query(() => [KlineGql])
  async klines(
    @Args('pairId', { type: () => ID }) pairId: string,
    @Args('interval', { nullable: true }) interval?: string,
    @Args('limit', { type: () => Int, nullable: true }) limit?: number,
  ) {
    return (await this.market.klines(pairId, { interval: interval ?? undefined, limit: limit ?? undefined })).items;
  }

  @Query(() => OrderPageGql, { description: 'My orders, newest first' })
  myOrders(
    @CurrentUser() user: AuthUser,
    @Args('status', { nullable: true }) status?: string,
    @Args('pairId', { type: () => ID, nullable: true }) pairId?: string,
    @Args('limit', { type: () => Int, nullable: true }) limit?: number,
    @Args('cursor', { nullable: true }) cursor?: string,
  ) {
    return this.trading.listOrders(user.id, { status: status ?? undefined, pairId: pairId ?? undefined, limit: limit ?? undefined, cursor: cursor ?? undefined });
  }

  @Query(() => OrderGql)
  order(@CurrentUser() user: AuthUser, @Args('orderId', { type: () => ID }) orderId: string) {
    return this.trading.getOrder(user, orderId);
  }

  @Mutation(() => OrderGql, { description: 'Place an order; idempotencyKey (or input.clientOrderId) makes a retry safe' })
  placeOrder(@CurrentUser() user: AuthUser, @Args('input') input: PlaceOrderDto, @Args('idempotencyKey', { nullable: true }) idempotencyKey?: string) {
    return this.trading.place(user, input, parseIdempotencyKey(idempotencyKey, 'idempotencyKey'));
  }

  @Mutation(() => OrderGql)
  cancelOrder(@CurrentUser() user: AuthUser, @Args('orderId', { type: () => ID }) orderId: string) {
    return this.trading.cancel(user, orderId);
  }

  @Mutation(() => OrderGql, { description: 'New price and/or total quantity; the order loses its time priority' })
  replaceOrder(@CurrentUser() user: AuthUser, @Args() args: ReplaceOrderArgs) {
    return this.trading.replace(user, args.orderId, { price: args.price ?? undefined, quantity: args.quantity ?? undefined });
  }

  /** Updates of my orders (placed, filled, cancelled), on every device. */
  @Subscription(() => OrderGql, { resolve: (p: { orderUpdated: OrderGql }) => p.orderUpdated })
  orderUpdated(@CurrentUser() user: AuthUser) {
    return this.pubsub.iterator(orderTopic(user.id));
  }

  /** Changed levels of a pair's book with the new sequence (apply on top of `orderBook`). */
  @SharedSubscription() // public market data: the same for every viewer
  @Subscription(() => OrderBookGql, { resolve: (p: { orderBookUpdated: OrderBookGql }) => p.orderBookUpdated })
  async orderBookUpdated(@Args('pairId', { type: () => ID }) pairId: string) {
    const pair = await this.pairs.get(pairId);
    return this.pubsub.iterator(bookTopic(pair.id));
  }

  @SharedSubscription() // public market data: the same for every viewer
  @Subscription(() => TradeGql, { resolve: (p: { tradeExecuted: TradeGql }) => p.tradeExecuted })
  async tradeExecuted(@Args('pairId', { type: () => ID }) pairId: string) {
    const pair = await this.pairs.get(pairId);
    return this.pubsub.iterator(tradesTopic(pair.id));
  }
}
