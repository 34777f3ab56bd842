import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentUser, Roles } from '../../core/auth/decorators';
import { OwnerOrAdmin } from '../../core/auth/ownership';
import { forbidden } from '../../core/http/domain-error';
import type { AuthUser } from '../../core/auth/auth-user';
import { Idempotent, idempotencyKeyOf } from '../../core/http/idempotency';
import { DepositDto, TransactionsQueryDto, TransferDto } from './dto/wallet.dto';
import { WalletService } from './wallet.service';
import { DepositAddressService } from './deposit-address.service';

@Controller('wallet/:userId')
export class WalletController {
  constructor(
    private readonly wallet: WalletService,
    private readonly addresses: DepositAddressService,
  ) {}

  @OwnerOrAdmin()
  @Get('balance')
  balance(@Param('userId', new ParseUUIDPipe()) userId: string) {
    return this.wallet.balance(userId);
  }

  @OwnerOrAdmin()
  @Get('transactions')
  transactions(@Param('userId', new ParseUUIDPipe()) userId: string, @Query() q: TransactionsQueryDto) {
    return this.wallet.transactions(userId, q);
  }

  /** Only the owner moves their money (admins included: they have the deposit route). */
  @Idempotent('wallet.transfer')
  @Post('transfer')
  transfer(
    @CurrentUser() user: AuthUser,
    @Param('userId', new ParseUUIDPipe()) userId: string,
    @Body() dto: TransferDto,
    @Req() req: FastifyRequest,
  ) {
    if (user.id !== userId) throw forbidden('You may only send money from your own wallet');
    return this.wallet.transfer(userId, dto, idempotencyKeyOf(req));
  }

  @OwnerOrAdmin()
  @Get('addresses')
  depositAddresses(@Param('userId', new ParseUUIDPipe()) userId: string) {
    return this.addresses.addressesFor(userId);
  }
}

@Roles('admin')
@Controller('admin/wallet/:userId')
export class AdminWalletController {
  constructor(private readonly wallet: WalletService) {}

  @Idempotent('wallet.deposit')
  @Post('deposit')
  deposit(@Param('userId', new ParseUUIDPipe()) userId: string, @Body() dto: DepositDto) {
    return this.wallet.deposit(userId, dto);
  }
}
