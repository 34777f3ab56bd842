import { defineEvent } from '../../core/realtime/announce';
import type { ServerToClientEvents } from '../../core/realtime/events';

/** Socket.IO room of a video's live viewers. */
export const videoRoom = (videoId: string) => `video:${videoId}`;
/** GraphQL topic of `viewerCountUpdated(videoId)`. */
export const viewerCountTopic = (videoId: string) => `video-viewers:${videoId}`;

/** A video's live viewer count: `viewer_count_update` to its room, `viewerCountUpdated` on GraphQL. */
export const ViewerCountUpdated = defineEvent<ServerToClientEvents['viewer_count_update']>({
  socket: 'viewer_count_update',
  graphql: { topic: (c) => viewerCountTopic(c.videoId), field: 'viewerCountUpdated' },
});
