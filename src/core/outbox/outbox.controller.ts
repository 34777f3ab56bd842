import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { Type } from 'class-transformer';
import { Roles } from '../auth/decorators';
import { OutboxService, OutboxView } from './outbox.service';

export class OutboxQueryDto {
  @IsOptional()
  @IsIn(['pending', 'dead', 'delivered'], { message: 'state must be one of pending, dead, delivered' })
  state?: OutboxView['state'];

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(200, { message: 'limit must be at most 200' })
  limit?: number;
}

/** Operators' view of the transactional outbox: what is stuck, and a retry once the cause is fixed. */
@Roles('admin')
@Controller('admin/outbox')
export class OutboxController {
  constructor(private readonly outbox: OutboxService) {}

  /** `?state=dead` (default), `pending` or `delivered`; newest first. */
  @Get()
  list(@Query() q: OutboxQueryDto) {
    return this.outbox.list(q.state ?? 'dead', q.limit ?? 50);
  }

  @Post(':id/retry')
  @HttpCode(202)
  retry(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.outbox.retry(id);
  }
}
