import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Executor, Tx } from '../../core/database/transaction';
import type { AssetSymbol } from '../ledger/assets';
import type { BattleStatus } from './battle.machine';
import type { VoteRecord } from './vote-log';

export interface BattleRow {
  id: string;
  title: string;
  status: BattleStatus;
  created_by: string;
  creation_key: string | null;
  duration_seconds: number;
  ends_at: Date;
  log_salt: string;
  prize_asset: AssetSymbol | null;
  prize_amount: string | null;
  prize_hold_id: string | null;
  prize_outcome: 'paid' | 'split' | 'refunded' | null;
  winner_id: string | null;
  result_hash: string | null;
  created_at: Date;
  ended_at: Date | null;
}

export interface ParticipantRow {
  battle_id: string;
  user_id: string;
  username: string;
  position: number;
  votes: number;
  prize_amount: string | null;
}

export interface NewBattle {
  title: string;
  createdBy: string;
  creationKey: string | null;
  durationSeconds: number;
  logSalt: string;
  prizeAsset: AssetSymbol | null;
  prizeAmount: bigint | null;
}

/** Every statement of the battles module (the services hold the rules). */
@Injectable()
export class BattlesRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** (UPDATE ... RETURNING goes through `tx.run`: TypeORM's `query` returns [rows, count] for it.) */
  private q<T = any>(tx: Executor | null | undefined, sql: string, params: unknown[] = []): Promise<T[]> {
    return tx ? tx.query<T>(sql, params) : this.ds.query(sql, params);
  }

  // ------------------------------------------------------------------ creation

  /** Null when the creation key was used before (see `byCreationKey`). */
  async insert(tx: Tx, b: NewBattle): Promise<BattleRow | null> {
    const [row] = await tx.query<BattleRow>(
      `INSERT INTO battles (title, created_by, creation_key, duration_seconds, ends_at, log_salt, prize_asset, prize_amount)
       VALUES ($1, $2, $3, $4, now() + $4::int * interval '1 second', $5, $6, $7)
       ON CONFLICT (creation_key) DO NOTHING RETURNING *`,
      [b.title, b.createdBy, b.creationKey, b.durationSeconds, b.logSalt, b.prizeAsset, b.prizeAmount?.toString() ?? null],
    );
    return row ?? null;
  }

  async byCreationKey(tx: Tx, key: string): Promise<BattleRow | null> {
    const [row] = await tx.query<BattleRow>(`SELECT * FROM battles WHERE creation_key = $1`, [key]);
    return row ?? null;
  }

  async insertParticipants(tx: Tx, battleId: string, userIds: string[]): Promise<void> {
    await tx.query(
      `INSERT INTO battle_participants (battle_id, user_id, position)
       SELECT $1, u.id, u.ord - 1 FROM unnest($2::uuid[]) WITH ORDINALITY AS u(id, ord)`,
      [battleId, userIds],
    );
  }

  async setPrizeHold(tx: Tx, battleId: string, holdId: string): Promise<void> {
    await tx.query(`UPDATE battles SET prize_hold_id = $2 WHERE id = $1`, [battleId, holdId]);
  }

  /** The users among `ids` that exist, with their roles (FOR SHARE: a role change waits for the battle to commit). */
  async users(tx: Tx, ids: string[]): Promise<{ id: string; roles: string[] }[]> {
    return tx.query(`SELECT id, roles FROM users WHERE id = ANY($1::uuid[]) FOR SHARE`, [ids]);
  }

  // ------------------------------------------------------------------ reads

  async find(id: string, tx?: Executor | null): Promise<BattleRow | null> {
    const [row] = await this.q<BattleRow>(tx, `SELECT * FROM battles WHERE id = $1`, [id]);
    return row ?? null;
  }

  /** Participants of the battles, in listed order, with their votes counted from the log. */
  async participants(battleIds: string[], tx?: Executor | null): Promise<ParticipantRow[]> {
    if (!battleIds.length) return [];
    const rows = await this.q<ParticipantRow>(
      tx,
      `SELECT p.battle_id, p.user_id, u.username, p.position, p.prize_amount::text AS prize_amount,
              (SELECT count(*) FROM battle_votes v WHERE v.battle_id = p.battle_id AND v.participant_id = p.user_id)::int AS votes
       FROM battle_participants p JOIN users u ON u.id = p.user_id
       WHERE p.battle_id = ANY($1::uuid[]) ORDER BY p.battle_id, p.position`,
      [battleIds],
    );
    return rows.map((r) => ({ ...r, position: Number(r.position), votes: Number(r.votes) }));
  }

  /** Which participant the user voted for, per battle. */
  async myVotes(battleIds: string[], userId: string, tx?: Executor | null): Promise<Map<string, string>> {
    if (!battleIds.length) return new Map();
    const rows = await this.q<{ battle_id: string; participant_id: string }>(
      tx,
      `SELECT battle_id, participant_id FROM battle_votes WHERE battle_id = ANY($1::uuid[]) AND voter_id = $2`,
      [battleIds, userId],
    );
    return new Map(rows.map((r) => [r.battle_id, r.participant_id]));
  }

  /**
   * A page in list order: live battles first, then ended; newest first within each.
   * The cursor is the last row's (live?1:0, created_at text, id).
   */
  async page(opts: { status?: BattleStatus; after?: [number, string, string]; limit: number }): Promise<(BattleRow & { cursor_at: string })[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => (params.push(v), `$${params.length}`);
    if (opts.status) where.push(`status = ${p(opts.status)}`);
    if (opts.after) {
      where.push(`((status = 'live'), created_at, id) < (${p(opts.after[0] === 1)}::boolean, ${p(opts.after[1])}::timestamptz, ${p(opts.after[2])}::uuid)`);
    }
    return this.ds.query(
      `SELECT created_at::text AS cursor_at, * FROM battles ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY (status = 'live') DESC, created_at DESC, id DESC LIMIT ${p(opts.limit + 1)}`,
      params,
    );
  }

  /** The current tallies, in listed order. */
  async tallies(battleId: string): Promise<{ user_id: string; votes: number }[]> {
    return (await this.participants([battleId])).map((p) => ({ user_id: p.user_id, votes: p.votes }));
  }

  /** The vote log in insertion order, numbered 1..n. */
  async votes(battleId: string, tx?: Executor | null): Promise<VoteRecord[]> {
    const rows = await this.q<{ seq: string; voter_id: string; participant_id: string; created_at: Date }>(
      tx,
      `SELECT row_number() OVER (ORDER BY id) AS seq, voter_id, participant_id, created_at FROM battle_votes WHERE battle_id = $1 ORDER BY id`,
      [battleId],
    );
    return rows.map((r) => ({ seq: Number(r.seq), voterId: r.voter_id, participantId: r.participant_id, at: new Date(r.created_at) }));
  }

  // ------------------------------------------------------------------ votes

  /**
   * Holds the battle open for this vote: a FOR SHARE lock on its row until the vote commits
   * (votes run side by side; the end's UPDATE waits for them). False when the battle is not
   * live or its time is up.
   */
  async holdOpen(tx: Tx, battleId: string): Promise<boolean> {
    const rows = await tx.query(`SELECT 1 FROM battles WHERE id = $1 AND status = 'live' AND ends_at > now() FOR SHARE`, [battleId]);
    return rows.length === 1;
  }

  /** False when this user already voted in this battle (the unique constraint decides). */
  async insertVote(tx: Tx, battleId: string, voterId: string, participantId: string): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO battle_votes (battle_id, voter_id, participant_id) VALUES ($1, $2, $3)
       ON CONFLICT (battle_id, voter_id) DO NOTHING RETURNING id`,
      [battleId, voterId, participantId],
    );
    return rows.length === 1;
  }

  // ------------------------------------------------------------------ the end

  /** Live → ended, once: null unless this call made the change. */
  async markEnded(tx: Tx, battleId: string): Promise<BattleRow | null> {
    const {
      rows: [row],
    } = await tx.run<BattleRow>(
      `UPDATE battles SET status = 'ended', ended_at = now() WHERE id = $1 AND status = 'live' AND ends_at <= now() RETURNING *`,
      [battleId],
    );
    return row ?? null;
  }

  /** Status and milliseconds left by the database clock (negative once due). */
  async endState(battleId: string): Promise<{ status: BattleStatus; ms_left: string } | null> {
    const [row] = await this.ds.query(`SELECT status, (extract(epoch FROM ends_at - now()) * 1000)::bigint::text AS ms_left FROM battles WHERE id = $1`, [battleId]);
    return row ?? null;
  }

  async recordResult(tx: Tx, battleId: string, r: { winnerId: string | null; resultHash: string; prizeOutcome: string | null }): Promise<void> {
    await tx.query(`UPDATE battles SET winner_id = $2, result_hash = $3, prize_outcome = $4 WHERE id = $1`, [battleId, r.winnerId, r.resultHash, r.prizeOutcome]);
  }

  async recordShare(tx: Tx, battleId: string, userId: string, amount: bigint): Promise<void> {
    await tx.query(`UPDATE battle_participants SET prize_amount = $3 WHERE battle_id = $1 AND user_id = $2`, [battleId, userId, amount.toString()]);
  }

  async dueLive(limit: number): Promise<string[]> {
    const rows = await this.ds.query(`SELECT id FROM battles WHERE status = 'live' AND ends_at <= now() ORDER BY ends_at LIMIT $1`, [limit]);
    return rows.map((r: { id: string }) => r.id);
  }

  async live(afterId: string, limit: number): Promise<{ id: string; ends_at: Date }[]> {
    return this.ds.query(`SELECT id, ends_at FROM battles WHERE status = 'live' AND id > $1 ORDER BY id LIMIT $2`, [afterId, limit]);
  }
}
