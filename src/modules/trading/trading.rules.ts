/**
 * Decisions of the order use cases that need no database: what a placement means, whether a
 * repeated clientOrderId is the same order, and what an order must hold. Pure (unit-tested in
 * trading.rules.spec.ts); the arithmetic itself is in trading.math.ts.
 */
import type { AssetSymbol } from '../ledger/assets';
import { badRequest, DomainError } from '../../core/http/domain-error';
import type { Segment } from './engine/matching-engine';
import {
  OrderSide,
  OrderTif,
  OrderType,
  PairSpec,
  TradingInputError,
  checkMinNotional,
  fromLots,
  fromTicks,
  limitHold,
  parsePrice,
  parseQuantity,
  quoteAmount,
} from './trading.math';
import type { OrderState } from './trading.views';

export interface PlaceOrderInput {
  pairId: string;
  side: string;
  type: string;
  timeInForce?: string;
  price?: string;
  quantity: string;
  clientOrderId?: string;
  expiresAt?: string;
}

export interface ReplaceOrderInput {
  price?: string;
  quantity?: string;
}

/** A validated placement (exact values). */
export interface Placement {
  side: OrderSide;
  type: OrderType;
  tif: OrderTif;
  price: bigint | null;
  quantity: bigint;
  expiresAt: Date | null;
}

const MAX_GTD_MS = 90 * 86_400_000;

/** Runs a trading.math check; its TradingInputError becomes a 400 naming the field. */
export function field<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TradingInputError) throw new DomainError('BAD_REQUEST', e.message, { field: e.field });
    throw e;
  }
}

/** What a placement request means on this pair (400 naming what is wrong). */
export function validatePlacement(input: PlaceOrderInput, pair: PairSpec, now = Date.now()): Placement {
  const side = input.side as OrderSide;
  const type = input.type as OrderType;
  if (side !== 'buy' && side !== 'sell') throw badRequest('side must be "buy" or "sell"');
  if (type !== 'limit' && type !== 'market') throw badRequest('type must be "limit" or "market"');
  const quantity = field(() => parseQuantity(input.quantity, pair));
  let tif: OrderTif;
  let price: bigint | null = null;
  let expiresAt: Date | null = null;
  if (type === 'market') {
    if (input.price !== undefined && input.price !== null) throw badRequest('price must not be given for a market order');
    // A market order never rests: GTC means "as much as possible now", i.e. IOC.
    tif = input.timeInForce === undefined || input.timeInForce === 'GTC' ? 'IOC' : (input.timeInForce as OrderTif);
    if (tif !== 'IOC' && tif !== 'FOK') throw badRequest('timeInForce of a market order must be IOC or FOK');
  } else {
    if (input.price === undefined || input.price === null) throw badRequest('price is required for a limit order');
    price = field(() => parsePrice(input.price, pair));
    tif = (input.timeInForce as OrderTif | undefined) ?? (input.expiresAt ? 'GTD' : 'GTC');
    if (!['GTC', 'IOC', 'FOK', 'GTD'].includes(tif)) throw badRequest('timeInForce must be one of GTC, IOC, FOK, GTD');
    field(() => checkMinNotional(price!, quantity, pair));
  }
  if (tif === 'GTD') {
    const at = input.expiresAt ? new Date(input.expiresAt) : null;
    if (!at || Number.isNaN(at.getTime())) throw badRequest('expiresAt must be an ISO 8601 time for a GTD order');
    if (at.getTime() <= now + 1000 || at.getTime() > now + MAX_GTD_MS) {
      throw badRequest('expiresAt must be in the future and at most 90 days ahead');
    }
    expiresAt = at;
  } else if (input.expiresAt !== undefined) {
    throw badRequest('expiresAt is only valid with timeInForce GTD');
  }
  return { side, type, tif, price, quantity, expiresAt };
}

/**
 * Whether an order placed before with the same clientOrderId (or Idempotency-Key) is this
 * placement again. A replaced order is compared on what a replace cannot change.
 */
export function isSamePlacement(o: OrderState, pair: PairSpec, v: Placement): boolean {
  const fixed = o.pairId === pair.id && o.side === v.side && o.type === v.type && o.tif === v.tif;
  const sized = o.holdRev > 0 || (o.price === v.price && o.quantity === v.quantity);
  return fixed && sized;
}

/**
 * What a placement holds (rule 3 of trading.math). An order that may rest holds for its full
 * size; one that cannot rest (market, IOC, FOK) holds exactly what the book lets it trade now —
 * `filledLots` and `segments` of the book's preview under the pair lock — and nothing when it
 * will trade nothing (a FOK that cannot fill completely).
 */
export function placementHold(
  v: Placement,
  pair: PairSpec,
  preview: { lots: number; filledLots: number; segments: Segment[] },
): { asset: AssetSymbol; amount: bigint } {
  if (canRest(v)) return limitHold(v.side, v.price!, v.quantity, pair);
  const fillable = engineTif(v.tif) === 'FOK' && preview.filledLots < preview.lots ? 0 : preview.filledLots;
  if (v.side === 'sell') return { asset: pair.base, amount: fromLots(fillable, pair) };
  return {
    asset: pair.quote,
    amount: fillable === 0 ? 0n : preview.segments.reduce((s, seg) => s + quoteAmount(fromTicks(seg.price, pair), fromLots(seg.qty, pair), pair), 0n),
  };
}

/** The engine knows no GTD: a GTD order rests like GTC until its expiry job cancels it. */
export const engineTif = (tif: OrderTif): 'GTC' | 'IOC' | 'FOK' => (tif === 'GTD' ? 'GTC' : tif);

export const canRest = (v: Pick<Placement, 'type' | 'tif'>): boolean => v.type === 'limit' && engineTif(v.tif) === 'GTC';
