import { api } from '../../lib/api';
import type { CreatorCard, CreatorStats, Milestone, Tip, TopContent } from './series';

/** Lists may come as an array or a page; both become an array. */
const items = <T,>(r: T[] | { items: T[] }): T[] => (Array.isArray(r) ? r : r.items);

export const creatorApi = {
  list: (cursor?: string) => api<{ items: CreatorCard[]; nextCursor: string | null }>('/creators', { query: { limit: 50, cursor } }),
  profile: (id: string) => api<CreatorCard>(`/creator/${id}/profile`),
  follow: (id: string, on: boolean) => api<CreatorCard>(`/creator/${id}/follow`, { method: on ? 'POST' : 'DELETE' }),
  stats: (id: string) => api<CreatorStats>(`/creator/stats/${id}`),
  tips: async (id: string) => items(await api<Tip[] | { items: Tip[] }>(`/creator/${id}/tips`, { query: { limit: 20 } })),
  milestones: async (id: string) => items(await api<Milestone[] | { items: Milestone[] }>(`/creator/${id}/milestones`)),
  top: async (id: string) => items(await api<TopContent[] | { items: TopContent[] }>(`/creator/${id}/content/top`, { query: { limit: 5 } })),
  addMilestone: (id: string, metric: string, target: string) => api<Milestone>(`/creator/${id}/milestones`, { body: { metric, target } }),
};

const STATS_FIELDS = `creatorId followers totalViews totalWatchSeconds earnings { asset amount } tipsCount videosCount updatedAt
  series { date followers newFollowers views watchSeconds tipsCount earnings { asset amount } }`;
export const STATS_UPDATED = `subscription CreatorStats($creatorId: ID!) { creatorStatsUpdated(creatorId: $creatorId) { ${STATS_FIELDS} } }`;
export const TIP_RECEIVED = `subscription Tips { tipReceived { id creatorId fromUserId fromUsername asset amount fee message videoId createdAt } }`;
