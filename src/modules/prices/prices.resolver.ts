import { Args, Query, Resolver, Subscription } from '@nestjs/graphql';
import { Public } from '../../core/auth/decorators';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import { SharedSubscription } from '../../core/graphql/shared-execution';
import { PriceGql } from './dto/prices.dto';
import { PricesService } from './prices.service';
import { priceTopic } from './prices.events';

@Resolver()
export class PricesResolver {
  constructor(
    private readonly service: PricesService,
    private readonly pubsub: GqlPubSub,
  ) {}

  @Public()
  @Query(() => PriceGql)
  price(@Args('symbol') symbol: string) {
    return this.service.get(symbol);
  }

  @Public()
  @Query(() => [PriceGql])
  prices(@Args('symbols', { type: () => [String], nullable: true }) symbols?: string[]) {
    return this.service.list(symbols?.length ? this.service.symbols(symbols) : undefined);
  }

  /** Price changes of the given assets (any signed-in user). */
  @SharedSubscription()
  @Subscription(() => PriceGql, { resolve: (p: { priceUpdated: PriceGql }) => p.priceUpdated })
  priceUpdated(@Args('symbols', { type: () => [String] }) symbols: string[]) {
    return this.pubsub.iterator(this.service.symbols(symbols).map(priceTopic));
  }
}
