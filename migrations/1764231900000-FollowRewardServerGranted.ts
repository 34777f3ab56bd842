import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `follow` reward is granted by the server when a follow is recorded
 * (`POST /api/creator/:creatorId/follow`, once per fan and creator). Left client-triggered,
 * `POST /api/rewards/trigger {action:"follow", targetId:<anything>}` paid it without any follow.
 */
export class FollowRewardServerGranted1764231900000 implements MigrationInterface {
  name = 'FollowRewardServerGranted1764231900000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE reward_rules SET granted_by = 'server' WHERE action = 'follow'`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE reward_rules SET granted_by = 'client' WHERE action = 'follow'`);
  }
}
