import { ValidationPipe } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import type { ValidationError } from 'class-validator';

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((e) => {
    const path = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {});
    return [...own, ...flatten(e.children ?? [], path)];
  });
}

/** Socket payloads are validated like REST bodies; a bad one is answered with an error ack. */
export const wsValidationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) => {
    const messages = flatten(errors);
    return new WsException({ code: 'BAD_REQUEST', message: messages.join('; ') || 'Invalid payload', details: { errors: messages } });
  },
});
