import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AuthUser } from '../../core/auth/auth-user';
import { withTransaction } from '../../core/database/transaction';
import { DomainError, notFound } from '../../core/http/domain-error';
import { RewardsService } from '../rewards/rewards.service';
import { decideVote } from './battle.machine';
import { BattleUpdatesService } from './battle-updates.service';
import type { BattleView } from './battle.views';
import { BattlesRepository } from './battles.repository';
import { BattlesService, refuse } from './battles.service';

export const BATTLE_VOTE_ACTION = 'battle_vote';

const alreadyVoted = () => new DomainError('ALREADY_VOTED', 'You already voted in this battle', { code: 'ALREADY_VOTED' });

/**
 * One vote per user per battle. Load → decide (battle.machine) → in one transaction: hold the
 * battle open (a FOR SHARE lock on its row, refused once ended or past `endsAt`; votes do not
 * block each other, the end waits for them), insert the vote (the unique constraint
 * (battle_id, voter_id) refuses a second one whatever the concurrency), and grant the
 * `battle_vote` reward → after commit, a coalesced update. Tallies are counted from the log.
 */
@Injectable()
export class BattleVotesService {
  private readonly logger = new Logger('Battles');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly repo: BattlesRepository,
    private readonly battles: BattlesService,
    private readonly rewards: RewardsService,
    private readonly updates: BattleUpdatesService,
  ) {}

  async vote(user: AuthUser, battleId: string, participantId: string): Promise<BattleView> {
    participantId = participantId.toLowerCase();
    const battle = await this.repo.find(battleId);
    if (!battle) throw notFound('Battle not found');
    const participantIds = (await this.repo.participants([battleId])).map((p) => p.user_id);
    const facts = { participantIds, voterId: user.id, participantId };
    const d = decideVote({ ...facts, status: battle.status, endsAtMs: new Date(battle.ends_at).getTime(), nowMs: Date.now() });
    if (!d.ok) {
      // An ended battle answers "already voted" to someone who did vote in it.
      if (d.error === 'conflict' && (await this.repo.myVotes([battleId], user.id)).has(battleId)) throw alreadyVoted();
      refuse(d);
    }

    await withTransaction(this.ds, async (tx) => {
      if (!(await this.repo.holdOpen(tx, battleId))) {
        if ((await this.repo.myVotes([battleId], user.id, tx)).has(battleId)) throw alreadyVoted();
        refuse({ ok: false, error: 'conflict', message: 'The battle has ended; votes are closed' });
      }
      if (!(await this.repo.insertVote(tx, battleId, user.id, participantId))) throw alreadyVoted();
      // Paid by the rewards queue once this commits; a cap or cooldown never blocks the vote.
      await this.rewards.grant({ userId: user.id, action: BATTLE_VOTE_ACTION, targetId: battleId, contextId: battleId }, tx);
      tx.afterCommit(() => this.updates.changed(battleId));
    });
    return this.battles.get(user, battleId);
  }
}
