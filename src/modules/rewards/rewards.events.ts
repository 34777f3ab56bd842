import { defineEvent } from '../../core/realtime/announce';
import type { ServerToClientEvents } from '../../core/realtime/events';

/** GraphQL topic of one user's `rewardEarned`. */
export const rewardTopic = (userId: string) => `rewards:${userId}`;

export type EarnedReward = ServerToClientEvents['reward_earned']['reward'];

/** A reward was paid: `reward_earned` `{ userId, reward }` to the user's sockets, `rewardEarned` on their topic. */
export const RewardEarned = defineEvent<{ userId: string; reward: EarnedReward }>({
  socket: 'reward_earned',
  graphql: (e) => [[rewardTopic(e.userId), { rewardEarned: e.reward }]],
});
