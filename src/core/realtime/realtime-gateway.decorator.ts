import { UseFilters, UsePipes, applyDecorators } from '@nestjs/common';
import { WebSocketGateway } from '@nestjs/websockets';
import { WsExceptionFilter } from './ws-exception.filter';
import { wsValidationPipe } from './ws-validation.pipe';

/**
 * Every feature gateway uses this instead of @WebSocketGateway: one Socket.IO server on the
 * default path, payload validation and the error-ack convention.
 */
export const RealtimeGateway = () =>
  applyDecorators(WebSocketGateway(), UsePipes(wsValidationPipe), UseFilters(new WsExceptionFilter()));

/** `return ok(data)` from a handler answers the client's ack with `{ ok: true, data }`. */
export const ok = <T>(data?: T) => ({ ok: true as const, data: data ?? null });
