import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { normalizeError } from '../http/error-normalizer';
import { Ack } from './events';

/** Turns any error in a socket handler into the contract's error ack; the socket stays open. */
@Catch()
export class WsExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Socket.IO');

  catch(exception: unknown, host: ArgumentsHost) {
    const ack = host.getArgByIndex(2);
    let ackBody: Ack;
    if (exception instanceof WsException) {
      const e = exception.getError();
      ackBody = { ok: false, error: typeof e === 'object' ? (e as Ack['error'])! : { code: 'BAD_REQUEST', message: String(e) } };
    } else {
      const n = normalizeError(exception);
      if (n.unexpected) this.logger.error({ err: exception }, 'Unexpected error in socket handler');
      ackBody = {
        ok: false,
        error: {
          code: n.code,
          message: Array.isArray(n.message) ? n.message.join('; ') : n.message,
          ...(n.details ? { details: n.details } : {}),
        },
      };
    }
    if (typeof ack === 'function') ack(ackBody);
    else host.switchToWs().getClient().emit('exception', ackBody.error);
  }
}
