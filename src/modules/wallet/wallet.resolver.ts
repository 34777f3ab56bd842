import { Args, ID, Int, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { parseIdempotencyKey } from '../../core/http/idempotency';
import { CurrentUser, Roles } from '../../core/auth/decorators';
import { assertSelfOrAdmin } from '../../core/auth/ownership';
import type { AuthUser } from '../../core/auth/auth-user';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import { balanceTopic, transactionTopic } from '../ledger/ledger.events';
import {
  DepositAddressGql,
  DepositDto,
  DepositResultGql,
  TransactionCompletedGql,
  TransferDto,
  TransferResultGql,
  WalletBalanceGql,
  WalletTransactionPageGql,
} from './dto/wallet.dto';
import { WalletService } from './wallet.service';
import { DepositAddressService } from './deposit-address.service';

@Resolver()
export class WalletResolver {
  constructor(
    private readonly wallet: WalletService,
    private readonly addresses: DepositAddressService,
    private readonly pubsub: GqlPubSub,
  ) {}

  @Query(() => WalletBalanceGql, { description: "A wallet's balances (your own unless you are an admin)" })
  walletBalance(@CurrentUser() user: AuthUser, @Args('userId', { type: () => ID, nullable: true }) userId?: string) {
    const id = userId ?? user.id;
    assertSelfOrAdmin(user, id);
    return this.wallet.balance(id);
  }

  @Query(() => WalletTransactionPageGql)
  walletTransactions(
    @CurrentUser() user: AuthUser,
    @Args('userId', { type: () => ID, nullable: true }) userId?: string,
    @Args('asset', { nullable: true }) asset?: string,
    @Args('limit', { type: () => Int, nullable: true }) limit?: number,
    @Args('cursor', { nullable: true }) cursor?: string,
  ) {
    const id = userId ?? user.id;
    assertSelfOrAdmin(user, id);
    return this.wallet.transactions(id, { asset, limit, cursor });
  }

  @Query(() => [DepositAddressGql])
  depositAddresses(@CurrentUser() user: AuthUser, @Args('userId', { type: () => ID, nullable: true }) userId?: string) {
    const id = userId ?? user.id;
    assertSelfOrAdmin(user, id);
    return this.addresses.addressesFor(id);
  }

  @Mutation(() => TransferResultGql, { description: 'Send money from your wallet; idempotencyKey makes a retry safe' })
  walletTransfer(
    @CurrentUser() user: AuthUser,
    @Args('input') input: TransferDto,
    @Args('idempotencyKey', { nullable: true }) idempotencyKey?: string,
  ) {
    return this.wallet.transfer(user.id, input, parseIdempotencyKey(idempotencyKey, 'idempotencyKey'));
  }

  @Roles('admin')
  @Mutation(() => DepositResultGql)
  adminDeposit(@Args('userId', { type: () => ID }) userId: string, @Args('input') input: DepositDto) {
    return this.wallet.deposit(userId, input);
  }

  @Subscription(() => WalletBalanceGql, { resolve: (p: { balanceUpdated: WalletBalanceGql }) => p.balanceUpdated })
  balanceUpdated(@CurrentUser() user: AuthUser) {
    return this.pubsub.iterator(balanceTopic(user.id));
  }

  @Subscription(() => TransactionCompletedGql, { resolve: (p: { transactionCompleted: TransactionCompletedGql }) => p.transactionCompleted })
  transactionCompleted(@CurrentUser() user: AuthUser) {
    return this.pubsub.iterator(transactionTopic(user.id));
  }
}
