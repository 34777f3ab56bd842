import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentUser, Roles } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { badRequest } from '../../core/http/domain-error';
import { Idempotent, idempotencyKeyOf } from '../../core/http/idempotency';
import { BattleVotesService } from './battle-votes.service';
import { BattlesService } from './battles.service';
import { BattlesQueryDto, CreateBattleDto, VoteDto } from './dto/battles.dto';

const Id = (name: string) => Param(name, new ParseUUIDPipe({ exceptionFactory: () => badRequest(`${name} must be a battle id (UUID)`, { field: name }) }));

/** Live battles (CONTRACT.md §3 "Battles", shapes.md). Every route needs a signed-in user. */
@Controller('battles')
export class BattlesController {
  constructor(
    private readonly battles: BattlesService,
    private readonly votes: BattleVotesService,
  ) {}

  /** Creators and admins; an optional prize is held from the caller's balance. */
  @Roles('creator', 'admin')
  @Idempotent('battles.create')
  @Post()
  create(@CurrentUser() user: AuthUser, @Body() dto: CreateBattleDto, @Req() req: FastifyRequest) {
    return this.battles.create(user, dto, idempotencyKeyOf(req));
  }

  @Get()
  list(@CurrentUser() user: AuthUser, @Query() q: BattlesQueryDto) {
    return this.battles.list(user, q);
  }

  @Get(':battleId')
  get(@CurrentUser() user: AuthUser, @Id('battleId') battleId: string) {
    return this.battles.get(user, battleId);
  }

  /** 201 the battle; 409 ALREADY_VOTED, 409 once ended, 403 for its participants. */
  @Post(':battleId/votes')
  vote(@CurrentUser() user: AuthUser, @Id('battleId') battleId: string, @Body() dto: VoteDto) {
    return this.votes.vote(user, battleId, dto.participantId);
  }

  /** The ended battle's vote log (voters pseudonymised) and the hash it was published with. */
  @Get(':battleId/votes/log')
  log(@Id('battleId') battleId: string) {
    return this.battles.voteLog(battleId);
  }
}
