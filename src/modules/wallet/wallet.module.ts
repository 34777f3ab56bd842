import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { AdminWalletController, WalletController } from './wallet.controller';
import { WalletService } from './wallet.service';
import { WalletResolver } from './wallet.resolver';
import { DepositAddressService } from './deposit-address.service';
import { WalletRepository } from './wallet.repository';
import { IdempotencyInterceptor } from '../../core/http/idempotency';

@Module({
  imports: [UsersModule],
  controllers: [WalletController, AdminWalletController],
  providers: [WalletService, WalletResolver, DepositAddressService, WalletRepository, IdempotencyInterceptor],
  exports: [WalletService],
})
export class WalletModule {}
