import { Logger } from '@nestjs/common';
import { ConnectedSocket, MessageBody, OnGatewayDisconnect, SubscribeMessage } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { CurrentUser } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { badRequest } from '../../core/http/domain-error';
import { RealtimeGateway, ok } from '../../core/realtime/realtime-gateway.decorator';
import { BattleViewersService } from './battle-viewers.service';
import { BattleVotesService } from './battle-votes.service';
import { battleRoom } from './battles.events';
import { BattlesService } from './battles.service';
import { BattleRefDto, BattleVoteDto } from './dto/battles.dto';

/** Most battles one socket may watch at once. */
const MAX_BATTLES_PER_SOCKET = 20;

/**
 * Live battles over Socket.IO: `join_battle` puts the socket in the battle's room (it then
 * receives `battle_update` and `battle_ended`) and counts its user as a viewer, acking the
 * Battle; `leave_battle` and disconnecting undo both; `battle_vote` votes and acks the Battle
 * (or `ALREADY_VOTED`). Events are rate limited per socket by the realtime adapter.
 */
@RealtimeGateway()
export class BattlesGateway implements OnGatewayDisconnect {
  private readonly logger = new Logger('Battles');

  constructor(
    private readonly battles: BattlesService,
    private readonly votes: BattleVotesService,
    private readonly viewers: BattleViewersService,
  ) {}

  private watching(socket: Socket): Set<string> {
    return ((socket.data.battles as Set<string> | undefined) ??= new Set<string>());
  }

  @SubscribeMessage('join_battle')
  async join(@ConnectedSocket() socket: Socket, @CurrentUser() user: AuthUser, @MessageBody() dto: BattleRefDto) {
    await this.battles.assertExists(dto.battleId);
    const set = this.watching(socket);
    if (!set.has(dto.battleId)) {
      if (set.size >= MAX_BATTLES_PER_SOCKET) throw badRequest(`A socket may watch at most ${MAX_BATTLES_PER_SOCKET} battles at once`);
      set.add(dto.battleId);
      await socket.join(battleRoom(dto.battleId));
      await this.viewers.join(dto.battleId, user.id);
    }
    return ok(await this.battles.get(user, dto.battleId));
  }

  @SubscribeMessage('leave_battle')
  async leave(@ConnectedSocket() socket: Socket, @CurrentUser() user: AuthUser, @MessageBody() dto: BattleRefDto) {
    const set = this.watching(socket);
    if (!set.delete(dto.battleId)) return ok({ battleId: dto.battleId, viewerCount: await this.viewers.count(dto.battleId) });
    await socket.leave(battleRoom(dto.battleId));
    const viewerCount = await this.viewers.leave(dto.battleId, user.id);
    return ok({ battleId: dto.battleId, viewerCount });
  }

  @SubscribeMessage('battle_vote')
  async vote(@CurrentUser() user: AuthUser, @MessageBody() dto: BattleVoteDto) {
    return ok(await this.votes.vote(user, dto.battleId, dto.participantId));
  }

  handleDisconnect(socket: Socket) {
    const user = socket.data.user as AuthUser | undefined;
    const set = socket.data.battles as Set<string> | undefined;
    if (!user || !set?.size) return;
    for (const battleId of set) {
      this.viewers.leave(battleId, user.id).catch((e) => this.logger.warn(`battle viewer leave on disconnect failed: ${(e as Error).message}`));
    }
    set.clear();
  }
}
