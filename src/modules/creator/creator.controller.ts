import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentUser, Public } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { Idempotent, idempotencyKeyOf } from '../../core/http/idempotency';
import { MilestoneDto, PageArgs, TipDto, TopContentArgs } from './dto/creator.dto';
import { FollowsService } from './follows.service';
import { MilestonesService } from './milestones.service';
import { StatsService } from './stats.service';
import { TipsService } from './tips.service';

const Id = (name: string) => Param(name, new ParseUUIDPipe({ errorHttpStatusCode: 400 }));

/**
 * Creator economy (CONTRACT.md §3 "Creator economy", shapes.md). Stats, tips and milestones
 * are the creator's and admins'; top content is public; following and tipping are for any
 * signed-in user.
 */
@Controller('creator')
export class CreatorController {
  constructor(
    private readonly follows: FollowsService,
    private readonly tips: TipsService,
    private readonly stats: StatsService,
    private readonly milestones: MilestonesService,
  ) {}

  @Get('stats/:creatorId')
  getStats(@CurrentUser() user: AuthUser, @Id('creatorId') creatorId: string) {
    return this.stats.stats(user, creatorId);
  }

  @Get(':creatorId/profile')
  profile(@CurrentUser() user: AuthUser, @Id('creatorId') creatorId: string) {
    return this.follows.profile(user, creatorId);
  }

  @HttpCode(200)
  @Post(':creatorId/follow')
  follow(@CurrentUser() user: AuthUser, @Id('creatorId') creatorId: string) {
    return this.follows.follow(user, creatorId);
  }

  @Delete(':creatorId/follow')
  unfollow(@CurrentUser() user: AuthUser, @Id('creatorId') creatorId: string) {
    return this.follows.unfollow(user, creatorId);
  }

  @Public()
  @Get(':creatorId/content/top')
  top(@Id('creatorId') creatorId: string, @Query() q: TopContentArgs) {
    return this.stats.topContent(creatorId, q);
  }

  @Get(':creatorId/tips')
  listTips(@CurrentUser() user: AuthUser, @Id('creatorId') creatorId: string, @Query() q: PageArgs) {
    return this.tips.list(user, creatorId, q);
  }

  /** Moves money: honours `Idempotency-Key`. */
  @Idempotent('creator.tip')
  @Post(':creatorId/tips')
  tip(@CurrentUser() user: AuthUser, @Id('creatorId') creatorId: string, @Body() dto: TipDto, @Req() req: FastifyRequest) {
    return this.tips.tip(user, creatorId, dto, idempotencyKeyOf(req));
  }

  @Get(':creatorId/milestones')
  listMilestones(@CurrentUser() user: AuthUser, @Id('creatorId') creatorId: string) {
    return this.stats.milestones(user, creatorId);
  }

  @Post(':creatorId/milestones')
  addMilestone(@CurrentUser() user: AuthUser, @Id('creatorId') creatorId: string, @Body() dto: MilestoneDto) {
    return this.milestones.create(user, creatorId, dto);
  }
}

/** `GET /api/creators`: creators to discover, most followed first. */
@Controller('creators')
export class CreatorsController {
  constructor(private readonly follows: FollowsService) {}

  @Get()
  list(@CurrentUser() user: AuthUser, @Query() q: PageArgs) {
    return this.follows.list(user, q);
  }
}
