import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { CurrentUser, Public, Roles } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { Idempotent, idempotencyKeyOf } from '../../core/http/idempotency';
import { AdminPaymentsQueryDto, CheckoutDto, PaymentsQueryDto } from './dto/payments.dto';
import { PaymentWebhooksService } from './payment-webhooks.service';
import { PaymentsService } from './payments.service';

/** Top-ups through outside providers (CONTRACT.md §3 "Payments"). */
@Controller('payments')
export class PaymentsController {
  constructor(
    private readonly payments: PaymentsService,
    private readonly webhooks: PaymentWebhooksService,
  ) {}

  @Get('providers')
  providers() {
    return this.payments.listProviders();
  }

  @Idempotent('payments.checkout')
  @Post('checkout')
  checkout(@CurrentUser() user: AuthUser, @Body() dto: CheckoutDto, @Req() req: FastifyRequest) {
    return this.payments.checkout(user, dto, idempotencyKeyOf(req));
  }

  @Get()
  mine(@CurrentUser() user: AuthUser, @Query() q: PaymentsQueryDto) {
    return this.payments.listMine(user, q);
  }

  @Get(':paymentId')
  get(@CurrentUser() user: AuthUser, @Param('paymentId') paymentId: string) {
    return this.payments.get(user, paymentId);
  }

  /** From the providers (no token): the raw body is verified with the provider's own scheme. */
  @Public()
  @HttpCode(200)
  @Post('webhooks/:provider')
  webhook(@Param('provider') provider: string, @Req() req: FastifyRequest & { rawBody?: Buffer }, @Headers() headers: IncomingHttpHeaders) {
    return this.webhooks.receive(provider, req.rawBody, headers);
  }
}

@Roles('admin')
@Controller('admin/payments')
export class AdminPaymentsController {
  constructor(private readonly payments: PaymentsService) {}

  /** Every payment, e.g. `?status=pending&provider=stripe`; `flagged` ones need a look. */
  @Get()
  list(@Query() q: AdminPaymentsQueryDto) {
    return this.payments.listAll(q);
  }
}
