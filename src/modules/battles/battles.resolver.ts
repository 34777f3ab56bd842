import { ParseUUIDPipe } from '@nestjs/common';
import { Args, ID, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { CurrentUser, Roles } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { badRequest } from '../../core/http/domain-error';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import { SharedSubscription } from '../../core/graphql/shared-execution';
import { BattleVotesService } from './battle-votes.service';
import { battleTopic } from './battles.events';
import type { BattleUpdateView } from './battle.views';
import { BattlesService } from './battles.service';
import { BattleGql, BattlePageGql, BattlesQueryDto, BattleUpdateGql, BattleVoteLogGql, CreateBattleDto } from './dto/battles.dto';

const uuid = (name: string) => new ParseUUIDPipe({ exceptionFactory: () => badRequest(`${name} must be a UUID`, { field: name }) });
const BattleId = () => Args('battleId', { type: () => ID }, uuid('battleId'));
const KEY_RE = /^[A-Za-z0-9._:-]{1,255}$/;

function key(k: string | null | undefined): string | undefined {
  if (k === undefined || k === null || k === '') return undefined;
  if (!KEY_RE.test(k)) throw badRequest('idempotencyKey must be 1-255 characters of letters, digits and ._:-', { field: 'idempotencyKey' });
  return k;
}

/** Battles over GraphQL: the same services and rules as REST and Socket.IO. */
@Resolver()
export class BattlesResolver {
  constructor(
    private readonly service: BattlesService,
    private readonly votes: BattleVotesService,
    private readonly pubsub: GqlPubSub,
  ) {}

  @Query(() => BattlePageGql, { description: 'Live battles first, then ended ones; newest first within each' })
  battles(@CurrentUser() user: AuthUser, @Args() q: BattlesQueryDto) {
    return this.service.list(user, q);
  }

  @Query(() => BattleGql)
  battle(@CurrentUser() user: AuthUser, @BattleId() battleId: string) {
    return this.service.get(user, battleId);
  }

  @Query(() => BattleVoteLogGql, { description: "An ended battle's vote log (voters pseudonymised) and its SHA-256" })
  battleVoteLog(@BattleId() battleId: string) {
    return this.service.voteLog(battleId);
  }

  @Roles('creator', 'admin')
  @Mutation(() => BattleGql, { description: 'Creators and admins; an optional prize is held from your balance' })
  createBattle(@CurrentUser() user: AuthUser, @Args('input') input: CreateBattleDto, @Args('idempotencyKey', { type: () => String, nullable: true }) idempotencyKey?: string) {
    return this.service.create(user, input, key(idempotencyKey));
  }

  @Mutation(() => BattleGql, { description: 'One vote per user per battle (error code ALREADY_VOTED on a second)' })
  voteBattle(@CurrentUser() user: AuthUser, @BattleId() battleId: string, @Args('participantId', { type: () => ID }, uuid('participantId')) participantId: string) {
    return this.votes.vote(user, battleId, participantId);
  }

  /** The battle's tallies and viewer count, a few times a second at most, and its final state. */
  @SharedSubscription()
  @Subscription(() => BattleUpdateGql, { resolve: (p: { battleUpdated: BattleUpdateView }) => p.battleUpdated })
  async battleUpdated(@BattleId() battleId: string) {
    await this.service.assertExists(battleId);
    return this.pubsub.iterator(battleTopic(battleId));
  }
}
