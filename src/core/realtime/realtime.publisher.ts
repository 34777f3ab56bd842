import { Injectable } from '@nestjs/common';
import type { Server } from 'socket.io';
import { ServerEvent, ServerToClientEvents, sessionRoom, userRoom } from './events';

/**
 * What feature modules call to reach sockets. Emits go through the Socket.IO Redis adapter,
 * so a call on any instance reaches the sockets on every instance.
 */
@Injectable()
export class RealtimePublisher {
  private server?: Server;

  attach(server: Server) {
    this.server = server;
  }

  get io(): Server {
    if (!this.server) throw new Error('Socket.IO server not initialised yet');
    return this.server;
  }

  get ready(): boolean {
    return !!this.server;
  }

  toUser<E extends ServerEvent>(userId: string | string[], event: E, payload: ServerToClientEvents[E]): void {
    const rooms = (Array.isArray(userId) ? userId : [userId]).map(userRoom);
    if (!this.server || rooms.length === 0) return;
    this.server.to(rooms).emit(event, payload);
  }

  toRoom<E extends ServerEvent>(room: string | string[], event: E, payload: ServerToClientEvents[E]): void {
    if (!this.server) return;
    this.server.to(room).emit(event, payload);
  }

  /** To a room, except the sockets of one user (e.g. "x is typing" not echoed to x). */
  toRoomExceptUser<E extends ServerEvent>(room: string, userId: string, event: E, payload: ServerToClientEvents[E]): void {
    if (!this.server) return;
    this.server.to(room).except(userRoom(userId)).emit(event, payload);
  }

  /** Makes every socket of a user, on every instance, join or leave a room. */
  joinUserTo(userId: string, room: string): void {
    this.server?.in(userRoom(userId)).socketsJoin(room);
  }

  removeUserFrom(userId: string, room: string): void {
    this.server?.in(userRoom(userId)).socketsLeave(room);
  }

  /** A signed-out session's sockets are told why and disconnected, on every instance. */
  disconnectSessions(sessionIds: string[], reason: string): void {
    if (!this.server || !sessionIds.length) return;
    const rooms = sessionIds.map(sessionRoom);
    this.server.to(rooms).emit('session_revoked', { reason });
    this.server.in(rooms).disconnectSockets(true);
  }

  disconnectUser(userId: string, reason: string): void {
    if (!this.server) return;
    this.server.to(userRoom(userId)).emit('session_revoked', { reason });
    this.server.in(userRoom(userId)).disconnectSockets(true);
  }
}
