import { defineEvent } from '../../core/realtime/announce';
import type { ServerToClientEvents } from '../../core/realtime/events';
import type { BattleUpdateView } from './battle.views';

/** Socket.IO room of a battle's viewers. */
export const battleRoom = (battleId: string) => `battle:${battleId}`;
/** GraphQL topic of `battleUpdated(battleId)`. */
export const battleTopic = (battleId: string) => `battles:${battleId}`;

/** The battle's tallies and viewer count: `battle_update` to its room(s), `battleUpdated` on GraphQL. */
export const BattleUpdated = defineEvent<BattleUpdateView>({
  socket: 'battle_update',
  graphql: { topic: (s) => battleTopic(s.battleId), field: 'battleUpdated' },
});

/** The battle closed: `battle_ended` to its viewers and participants (Socket.IO only). */
export const BattleEnded = defineEvent<ServerToClientEvents['battle_ended']>({ socket: 'battle_ended' });
