import { defineEvent } from '../../core/realtime/announce';
import type { CreatorStats, TipView } from './creator.views';

/** GraphQL topic of `creatorStatsUpdated(creatorId)`. */
export const statsTopic = (creatorId: string) => `creator:stats:${creatorId}`;
/** GraphQL topic of `tipReceived` (the creator's own tips). */
export const tipsTopic = (creatorId: string) => `creator:tips:${creatorId}`;

/** A tip to the creator: `tip_received` `{ tip }` to the creator's sockets, `tipReceived` on GraphQL. */
export const TipReceived = defineEvent<TipView>({
  socket: { event: 'tip_received', payload: (tip) => ({ tip }) },
  graphql: { topic: (t) => tipsTopic(t.creatorId), field: 'tipReceived' },
});

/** The creator's figures (throttled by CreatorLive): GraphQL only. */
export const CreatorStatsUpdated = defineEvent<CreatorStats>({
  graphql: { topic: (s) => statsTopic(s.creatorId), field: 'creatorStatsUpdated' },
});
