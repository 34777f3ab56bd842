import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../core/auth/auth-user';
import { badRequest, unprocessable } from '../../core/http/domain-error';
import { CreatorLive } from './creator.live';
import { CreatorRepository } from './creator.repository';
import { canSetMilestone, MAX_CUSTOM_MILESTONES, parseTarget } from './creator.rules';
import { MilestoneView } from './creator.views';
import { enforce, StatsService } from './stats.service';
import type { MilestoneDto } from './dto/creator.dto';

/** Creator-defined targets on top of the default ladder. */
@Injectable()
export class MilestonesService {
  constructor(
    private readonly repo: CreatorRepository,
    private readonly stats: StatsService,
    private readonly live: CreatorLive,
  ) {}

  /**
   * Adds a target (or returns the existing one with the same metric, asset and target). One
   * already reached is achieved at once, announced like any other.
   */
  async create(user: AuthUser, creatorId: string, dto: MilestoneDto): Promise<MilestoneView> {
    const parsed = parseTarget(dto.metric, dto.target, dto.asset);
    if (!parsed.ok) throw badRequest(parsed.message);
    enforce(canSetMilestone(user.id, creatorId, await this.repo.isCreator(creatorId)));
    if ((await this.repo.customCount(creatorId)) >= MAX_CUSTOM_MILESTONES) {
      throw unprocessable(`A creator may set at most ${MAX_CUSTOM_MILESTONES} milestones of their own`);
    }
    const row = await this.repo.addMilestone(creatorId, parsed.step);
    await this.stats.achieve(creatorId);
    await this.live.changed(creatorId, { milestones: false });
    const all = (await this.stats.compute(creatorId)).milestones;
    return all.find((m) => m.id === row.id)!;
  }
}
