import { formatAmount } from '../ledger/money';
import { OrderSide, OrderStatus, OrderTif, OrderType, PairSpec, averagePrice, formatPrice } from './trading.math';

/** The contract's Order, plus what a Binance user expects next to it. */
export interface OrderView {
  id: string;
  userId: string;
  pairId: string;
  side: OrderSide;
  type: OrderType;
  timeInForce: OrderTif;
  price: string | null;
  quantity: string;
  filledQuantity: string;
  remainingQuantity: string;
  averagePrice: string | null;
  /** Quote amount spent (buy) or received before fees (sell). */
  quoteQuantity: string;
  /** Fees paid, in feeAsset (what the order receives: base for a buy, quote for a sell). */
  fee: string;
  feeAsset: string;
  status: OrderStatus;
  /** Why the order (or its unfilled remainder) was cancelled: user, ioc, fok, market, self_trade, expired. */
  cancelReason: string | null;
  clientOrderId: string | null;
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The contract's Trade (`side` is the taker's). */
export interface TradeView {
  id: string;
  pairId: string;
  price: string;
  quantity: string;
  quoteAmount: string;
  side: OrderSide;
  at: string;
}

export interface OrderBookView {
  pairId: string;
  sequence: number;
  bids: [string, string][];
  asks: [string, string][];
}

export interface OrderRow {
  id: string;
  user_id: string;
  pair_id: string;
  side: OrderSide;
  type: OrderType;
  time_in_force: OrderTif;
  price: string | null;
  quantity: string;
  filled_quantity: string;
  notional: string;
  quote_quantity: string;
  fee: string;
  status: OrderStatus;
  cancel_reason: string | null;
  hold_id: string | null;
  hold_rev: number;
  priority: string | null;
  book_seq: string;
  client_order_id: string | null;
  expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** An order while a transaction works on it (exact values), then written back in one statement. */
export class OrderState {
  id: string;
  userId: string;
  pairId: string;
  side: OrderSide;
  type: OrderType;
  tif: OrderTif;
  price: bigint | null;
  quantity: bigint;
  filled = 0n;
  notional = 0n;
  quoteQuantity = 0n;
  fee = 0n;
  status: OrderStatus = 'open';
  cancelReason: string | null = null;
  holdId: string | null = null;
  holdRev = 0;
  priority: number | null = null;
  clientOrderId: string | null = null;
  expiresAt: Date | null = null;
  createdAt: Date;
  updatedAt: Date;
  /** Not yet in the database. */
  isNew = false;

  static fromRow(r: OrderRow): OrderState {
    const o = new OrderState();
    o.id = r.id;
    o.userId = r.user_id;
    o.pairId = r.pair_id;
    o.side = r.side;
    o.type = r.type;
    o.tif = r.time_in_force;
    o.price = r.price === null ? null : BigInt(r.price);
    o.quantity = BigInt(r.quantity);
    o.filled = BigInt(r.filled_quantity);
    o.notional = BigInt(r.notional);
    o.quoteQuantity = BigInt(r.quote_quantity);
    o.fee = BigInt(r.fee);
    o.status = r.status;
    o.cancelReason = r.cancel_reason;
    o.holdId = r.hold_id;
    o.holdRev = r.hold_rev;
    o.priority = r.priority === null ? null : Number(r.priority);
    o.clientOrderId = r.client_order_id;
    o.expiresAt = r.expires_at ? new Date(r.expires_at) : null;
    o.createdAt = new Date(r.created_at);
    o.updatedAt = new Date(r.updated_at);
    return o;
  }

  get remaining(): bigint {
    return this.quantity - this.filled;
  }

  get resting(): boolean {
    return this.status === 'open' || this.status === 'partially_filled';
  }

  /** Records one fill of this order. */
  fill(qty: bigint, price: bigint, quote: bigint, fee: bigint) {
    this.filled += qty;
    this.notional += price * qty;
    this.quoteQuantity += quote;
    this.fee += fee;
    this.status = this.filled === this.quantity ? 'filled' : 'partially_filled';
  }

  view(pair: PairSpec): OrderView {
    return {
      id: this.id,
      userId: this.userId,
      pairId: this.pairId,
      side: this.side,
      type: this.type,
      timeInForce: this.tif,
      price: this.price === null ? null : formatPrice(this.price, pair),
      quantity: formatAmount(this.quantity, pair.base),
      filledQuantity: formatAmount(this.filled, pair.base),
      remainingQuantity: formatAmount(this.resting ? this.remaining : 0n, pair.base),
      averagePrice: averagePrice(this.notional, this.filled, pair),
      quoteQuantity: formatAmount(this.quoteQuantity, pair.quote),
      fee: formatAmount(this.fee, this.side === 'buy' ? pair.base : pair.quote),
      feeAsset: this.side === 'buy' ? pair.base : pair.quote,
      status: this.status,
      cancelReason: this.cancelReason,
      clientOrderId: this.clientOrderId,
      expiresAt: this.expiresAt ? this.expiresAt.toISOString() : null,
      createdAt: this.createdAt.toISOString(),
      updatedAt: this.updatedAt.toISOString(),
    };
  }
}

export interface TradeRow {
  id: string;
  seq: string;
  pair_id: string;
  price: string;
  quantity: string;
  quote_amount: string;
  taker_side: OrderSide;
  executed_at: Date;
}

export function tradeView(r: TradeRow, pair: PairSpec): TradeView {
  return {
    id: r.id,
    pairId: r.pair_id,
    price: formatPrice(BigInt(r.price), pair),
    quantity: formatAmount(BigInt(r.quantity), pair.base),
    quoteAmount: formatAmount(BigInt(r.quote_amount), pair.quote),
    side: r.taker_side,
    at: new Date(r.executed_at).toISOString(),
  };
}
