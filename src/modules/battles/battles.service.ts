import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { AuthUser } from '../../core/auth/auth-user';
import { APP_CONFIG, AppConfig } from '../../core/config/config';
import { withTransaction } from '../../core/database/transaction';
import { badRequest, conflict, forbidden, notFound, unprocessable } from '../../core/http/domain-error';
import { Page, decodeCursor, parseLimit, toPage } from '../../core/http/pagination';
import type { AssetSymbol } from '../ledger/assets';
import { LedgerService } from '../ledger/ledger.service';
import { parseAmount } from '../ledger/money';
import { BattleStatus, checkDuration, checkParticipants, Refusal } from './battle.machine';
import { BattleEndService } from './battle-end.service';
import { BattleViewersService } from './battle-viewers.service';
import { BattleView, toBattleView } from './battle.views';
import { BattleRow, BattlesRepository } from './battles.repository';
import type { BattlesQueryDto, CreateBattleDto } from './dto/battles.dto';
import { HASH_FORMAT_DESCRIPTION, LogEntry, toLogEntries } from './vote-log';
import { isUUID } from 'class-validator';

const isCursor = (v: unknown): v is [number, string, string] =>
  Array.isArray(v) && v.length === 3 && (v[0] === 0 || v[0] === 1) && typeof v[1] === 'string' && v[1].length <= 64 && typeof v[2] === 'string' && isUUID(v[2]);

/** Ledger idempotency key and movement kind of a battle's prize pool. */
export const prizeHoldKey = (battleId: string) => `battle:${battleId}:prize`;
export const PRIZE_KIND = 'battle_prize';

export function refuse(r: Refusal): never {
  const details = r.field ? { field: r.field } : undefined;
  switch (r.error) {
    case 'bad_request':
      throw badRequest(r.message, details);
    case 'unprocessable':
      throw unprocessable(r.message, details);
    case 'conflict':
      throw conflict(r.message, details);
    case 'forbidden':
      throw forbidden(r.message);
  }
}

/**
 * Creating and reading battles. A battle with a prize holds the creator's funds in the ledger in
 * the same transaction that creates it (insufficient funds: nothing is created).
 */
@Injectable()
export class BattlesService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: BattlesRepository,
    private readonly ledger: LedgerService,
    private readonly viewers: BattleViewersService,
    private readonly ends: BattleEndService,
  ) {}

  async create(user: AuthUser, dto: CreateBattleDto, idempotencyKey?: string): Promise<BattleView> {
    const title = dto.title.trim();
    if (!title) throw badRequest('title must be 1 to 120 characters', { field: 'title' });
    const ids = dto.participantIds.map((id) => id.toLowerCase());
    const p = checkParticipants(ids);
    if (!p.ok) refuse(p);
    const d = checkDuration(dto.durationSeconds, this.config.battles.minDurationSeconds);
    if (!d.ok) refuse(d);
    const prizeAsset = (dto.prize?.asset as AssetSymbol | undefined) ?? null;
    const prizeAmount = dto.prize ? parseAmount(dto.prize.amount, prizeAsset!, 'prize.amount') : null;
    const creationKey = idempotencyKey ? `${user.id}:${idempotencyKey}` : null;

    const { row, replayed } = await withTransaction(this.ds, async (tx) => {
      const found = await this.repo.users(tx, ids);
      const missing = ids.filter((id) => !found.some((u) => u.id === id));
      if (missing.length) throw notFound(`participantIds: no user ${missing.join(', ')}`);
      const notCreators = found.filter((u) => !u.roles.includes('creator')).map((u) => u.id);
      if (notCreators.length) throw unprocessable(`participantIds must be creators; not creators: ${notCreators.join(', ')}`, { field: 'participantIds' });

      const inserted = await this.repo.insert(tx, {
        title,
        createdBy: user.id,
        creationKey,
        durationSeconds: dto.durationSeconds,
        logSalt: randomBytes(32).toString('hex'),
        prizeAsset,
        prizeAmount,
      });
      if (!inserted) {
        const prev = (await this.repo.byCreationKey(tx, creationKey!))!;
        const prevIds = (await this.repo.participants([prev.id], tx)).map((x) => x.user_id);
        const same =
          prev.title === title &&
          Number(prev.duration_seconds) === dto.durationSeconds &&
          prev.prize_asset === prizeAsset &&
          (prev.prize_amount === null ? null : BigInt(prev.prize_amount)) === prizeAmount &&
          prevIds.join() === ids.join();
        if (!same) throw conflict('Idempotency-Key was already used for a different battle');
        return { row: prev, replayed: true };
      }
      await this.repo.insertParticipants(tx, inserted.id, ids);
      if (prizeAmount !== null) {
        const hold = await this.ledger.hold(
          { key: prizeHoldKey(inserted.id), kind: PRIZE_KIND, account: { userId: user.id }, asset: prizeAsset!, amount: prizeAmount, reference: inserted.id },
          tx,
        );
        await this.repo.setPrizeHold(tx, inserted.id, hold.id);
      }
      return { row: inserted, replayed: false };
    });
    if (!replayed) await this.ends.schedule(row.id, new Date(row.ends_at));
    return this.view(row, user.id);
  }

  private async row(id: string): Promise<BattleRow> {
    const row = await this.repo.find(id);
    if (!row) throw notFound('Battle not found');
    return row;
  }

  /** Throws 404 unless the battle exists (sockets, subscriptions). */
  async assertExists(id: string): Promise<void> {
    await this.row(id);
  }

  async get(user: AuthUser, id: string): Promise<BattleView> {
    return this.view(await this.row(id), user.id);
  }

  async view(row: BattleRow, userId: string): Promise<BattleView> {
    return (await this.views([row], userId))[0];
  }

  private async views(rows: BattleRow[], userId: string): Promise<BattleView[]> {
    const ids = rows.map((r) => r.id);
    const [participants, counts, mine] = await Promise.all([this.repo.participants(ids), this.viewers.counts(ids), this.repo.myVotes(ids, userId)]);
    return rows.map((r) =>
      toBattleView(
        r,
        participants.filter((p) => p.battle_id === r.id),
        counts.get(r.id) ?? 0,
        mine.get(r.id) ?? null,
      ),
    );
  }

  /** Live battles first, then ended ones; newest first within each. */
  async list(user: AuthUser, q: BattlesQueryDto): Promise<Page<BattleView>> {
    const limit = parseLimit(q.limit);
    const after = decodeCursor(q.cursor, isCursor);
    const rows = await this.repo.page({ status: q.status as BattleStatus | undefined, after, limit });
    const page = toPage(rows, limit, (r) => r, (r) => [r.status === 'live' ? 1 : 0, r.cursor_at, r.id]);
    return { items: await this.views(page.items, user.id), nextCursor: page.nextCursor };
  }

  /** The ended battle's vote log, voters pseudonymised, with the hash published at the end. */
  async voteLog(id: string): Promise<{ battleId: string; resultHash: string; hashFormat: string; votes: LogEntry[] }> {
    const row = await this.row(id);
    if (row.status !== 'ended' || !row.result_hash) throw conflict('The vote log is published when the battle ends');
    const votes = toLogEntries(row.log_salt, await this.repo.votes(id));
    return { battleId: id, resultHash: row.result_hash.trim(), hashFormat: HASH_FORMAT_DESCRIPTION, votes };
  }
}
