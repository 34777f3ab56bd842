import { Controller, Get, Param, ParseUUIDPipe } from '@nestjs/common';
import { PresenceService } from './presence.service';

/** Presence is readable by any signed-in user (CONTRACT §2). */
@Controller('users')
export class PresenceController {
  constructor(private readonly presence: PresenceService) {}

  @Get(':userId/presence')
  get(@Param('userId', new ParseUUIDPipe()) userId: string) {
    return this.presence.get(userId);
  }
}
