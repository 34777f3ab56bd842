import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { notFound } from '../../core/http/domain-error';
import { PairSpec, pairSpecProblems } from './trading.math';
import { TradingRepository } from './trading.repository';

const PAIR_ID_RE = /^[A-Z0-9]{2,10}-[A-Z0-9]{2,10}$/;

/** The trading pairs (rows of trading_pairs), cached: they change only through migrations. */
@Injectable()
export class PairsService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Trading');
  private pairs = new Map<string, PairSpec>();
  private loaded: Promise<void> | null = null;

  constructor(private readonly repo: TradingRepository) {}

  async onApplicationBootstrap() {
    await this.load();
  }

  private load(): Promise<void> {
    if (!this.loaded) {
      this.loaded = (async () => {
        const rows = await this.repo.pairs();
        const map = new Map<string, PairSpec>();
        for (const r of rows) {
          const spec: PairSpec = {
            id: r.id,
            base: r.base,
            quote: r.quote,
            tickSize: BigInt(r.tick_size),
            lotSize: BigInt(r.lot_size),
            minPrice: BigInt(r.min_price),
            maxPrice: BigInt(r.max_price),
            maxQuantity: BigInt(r.max_quantity),
            minNotional: BigInt(r.min_notional),
            status: r.status,
          };
          const problems = pairSpecProblems(spec);
          if (problems.length) {
            // A bad definition must not trade (rounding could create or destroy value): halt it.
            this.logger.error({ problems }, `Trading pair ${r.id} is misconfigured and halted`);
            spec.status = 'halted';
          }
          map.set(r.id, spec);
        }
        this.pairs = map;
      })().catch((e) => {
        this.loaded = null;
        throw e;
      });
    }
    return this.loaded;
  }

  async all(): Promise<PairSpec[]> {
    await this.load();
    return [...this.pairs.values()];
  }

  /** The pair, or 404. Ids are case-insensitive on input, and "BTC/USD" or "BTC_USD" name BTC-USD (the seed UI's spelling). */
  async get(pairId: unknown): Promise<PairSpec> {
    await this.load();
    const id = typeof pairId === 'string' ? pairId.trim().toUpperCase().replace(/[/_]/, '-') : '';
    const pair = PAIR_ID_RE.test(id) ? this.pairs.get(id) : undefined;
    if (!pair) throw notFound(`Trading pair ${typeof pairId === 'string' ? pairId.slice(0, 30) : ''} not found`);
    return pair;
  }

  /** Synchronous lookup for already-validated ids. */
  known(pairId: string): PairSpec | undefined {
    return this.pairs.get(pairId);
  }
}
