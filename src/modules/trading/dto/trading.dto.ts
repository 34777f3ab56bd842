import { ArgsType, Field, Float, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IsIn, IsISO8601, IsOptional, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import { ORDER_SIDES, ORDER_TIFS, ORDER_TYPES } from '../trading.math';

const DECIMAL_MSG = (f: string) => ({ message: `${f} must be a decimal string (e.g. "0.0015")` });

@InputType('PlaceOrderInput')
export class PlaceOrderDto {
  @Field(() => ID)
  @IsString({ message: 'pairId must be a trading pair id like BTC-USD' })
  @MaxLength(21, { message: 'pairId must be a trading pair id like BTC-USD' })
  pairId: string;

  @Field()
  @IsIn(ORDER_SIDES as string[], { message: 'side must be "buy" or "sell"' })
  side: string;

  @Field()
  @IsIn(ORDER_TYPES as string[], { message: 'type must be "limit" or "market"' })
  type: string;

  @Field({ nullable: true, description: 'GTC (default for limit), IOC, FOK, or GTD with expiresAt; market orders are IOC or FOK' })
  @IsOptional()
  @IsIn(ORDER_TIFS as string[], { message: `timeInForce must be one of ${ORDER_TIFS.join(', ')}` })
  timeInForce?: string;

  /** Limit price in the quote asset; omitted for market orders. */
  @Field({ nullable: true })
  @ValidateIf((o: PlaceOrderDto) => o.price !== undefined && o.price !== null)
  @IsString(DECIMAL_MSG('price'))
  @MaxLength(128)
  price?: string;

  /** Quantity of the base asset. */
  @Field()
  @IsString(DECIMAL_MSG('quantity'))
  @MaxLength(128)
  quantity: string;

  /** Your own id for the order: a retry with the same id places nothing new (like Binance's newClientOrderId). */
  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._:-]{1,64}$/, { message: 'clientOrderId must be 1-64 characters of letters, digits and ._:-' })
  clientOrderId?: string;

  /** For timeInForce GTD: when the order expires (cancelled, hold released). */
  @Field({ nullable: true })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'expiresAt must be an ISO 8601 time' })
  expiresAt?: string;
}

/** PUT /trading/orders/:id — `{status: "cancelled"}` cancels; `{price?, quantity?}` replaces. */
export class UpdateOrderDto {
  @IsOptional()
  @IsIn(['cancelled'], { message: 'status may only be "cancelled"' })
  status?: string;

  @IsOptional()
  @IsString(DECIMAL_MSG('price'))
  @MaxLength(128)
  price?: string;

  @IsOptional()
  @IsString(DECIMAL_MSG('quantity'))
  @MaxLength(128)
  quantity?: string;
}

export class OrdersQueryDto {
  @IsOptional() @IsString() @MaxLength(100) status?: string;
  @IsOptional() @IsString() @MaxLength(21) pairId?: string;
  @IsOptional() @IsString() limit?: string;
  @IsOptional() @IsString() @MaxLength(300) cursor?: string;
}

export class PageQueryDto {
  @IsOptional() @IsString() limit?: string;
  @IsOptional() @IsString() @MaxLength(300) cursor?: string;
}

export class DepthQueryDto {
  @IsOptional() @IsString() depth?: string;
}

export class KlinesQueryDto {
  @IsOptional() @IsString() interval?: string;
  @IsOptional() @IsString() limit?: string;
  @IsOptional() @IsString() @MaxLength(40) startTime?: string;
  @IsOptional() @IsString() @MaxLength(40) endTime?: string;
}

// --------------------------------------------------------------- sockets

export class TradingRoomDto {
  /** The contract's name. */
  @ValidateIf((o: TradingRoomDto) => o.pairId === undefined)
  @IsString({ message: 'tradingPairId must be a trading pair id like BTC-USD' })
  @MaxLength(21)
  tradingPairId?: string;

  /** Accepted as an alias. */
  @IsOptional()
  @IsString()
  @MaxLength(21)
  pairId?: string;

  /** Levels in the snapshot returned with the ack. */
  @IsOptional()
  @IsString()
  depth?: string;
}

// --------------------------------------------------------------- GraphQL

@ObjectType('Order')
export class OrderGql {
  @Field(() => ID) id: string;
  @Field() userId: string;
  @Field() pairId: string;
  @Field() side: string;
  @Field() type: string;
  @Field() timeInForce: string;
  @Field(() => String, { nullable: true }) price: string | null;
  @Field() quantity: string;
  @Field() filledQuantity: string;
  @Field() remainingQuantity: string;
  @Field(() => String, { nullable: true }) averagePrice: string | null;
  @Field() quoteQuantity: string;
  @Field() fee: string;
  @Field() feeAsset: string;
  @Field() status: string;
  @Field(() => String, { nullable: true }) cancelReason: string | null;
  @Field(() => String, { nullable: true }) clientOrderId: string | null;
  @Field(() => String, { nullable: true }) expiresAt: string | null;
  @Field() createdAt: string;
  @Field() updatedAt: string;
}

@ObjectType('OrderPage')
export class OrderPageGql {
  @Field(() => [OrderGql]) items: OrderGql[];
  @Field(() => String, { nullable: true }) nextCursor: string | null;
}

@ObjectType('Trade')
export class TradeGql {
  @Field(() => ID) id: string;
  @Field() pairId: string;
  @Field() price: string;
  @Field() quantity: string;
  @Field() quoteAmount: string;
  @Field({ description: "The taker's side" }) side: string;
  @Field() at: string;
}

@ObjectType('TradePage')
export class TradePageGql {
  @Field(() => [TradeGql]) items: TradeGql[];
  @Field(() => String, { nullable: true }) nextCursor: string | null;
}

@ObjectType('OrderBook')
export class OrderBookGql {
  @Field() pairId: string;
  @Field(() => Float, { description: 'Per-pair book sequence: +1 for every change' }) sequence: number;
  @Field(() => [[String]], { description: '[price, quantity], best first' }) bids: [string, string][];
  @Field(() => [[String]]) asks: [string, string][];
}

@ObjectType('TradingPair')
export class TradingPairGql {
  @Field(() => ID) id: string;
  @Field() base: string;
  @Field() quote: string;
  @Field() status: string;
  @Field() tickSize: string;
  @Field() lotSize: string;
  @Field() minPrice: string;
  @Field() maxPrice: string;
  @Field() minQuantity: string;
  @Field() maxQuantity: string;
  @Field() minNotional: string;
  @Field(() => String, { nullable: true }) lastPrice: string | null;
  @Field(() => String, { nullable: true, description: 'Percent' }) change24h: string | null;
  @Field(() => String, { nullable: true }) priceChange24h: string | null;
  @Field(() => String, { nullable: true }) high24h: string | null;
  @Field(() => String, { nullable: true }) low24h: string | null;
  @Field() volume24h: string;
  @Field() quoteVolume24h: string;
  @Field(() => Int) trades24h: number;
  @Field(() => Float) sequence: number;
}

@ObjectType('Kline')
export class KlineGql {
  @Field() openTime: string;
  @Field() closeTime: string;
  @Field() open: string;
  @Field() high: string;
  @Field() low: string;
  @Field() close: string;
  @Field() volume: string;
  @Field() quoteVolume: string;
  @Field(() => Int) trades: number;
}

@ArgsType()
export class ReplaceOrderArgs {
  @Field(() => ID) @IsString() orderId: string;
  @Field({ nullable: true }) @IsOptional() @IsString() @MaxLength(128) price?: string;
  @Field({ nullable: true }) @IsOptional() @IsString() @MaxLength(128) quantity?: string;
}
