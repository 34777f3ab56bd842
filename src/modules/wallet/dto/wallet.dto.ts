import { Field, InputType, ObjectType } from '@nestjs/graphql';
import { IsIn, IsOptional, IsString, IsUUID, Length, MaxLength } from 'class-validator';
import { ASSET_SYMBOLS } from '../../ledger/assets';

const ASSET_MSG = { message: `asset must be one of ${ASSET_SYMBOLS.join(', ')}` };

@InputType()
export class TransferDto {
  @Field()
  @IsUUID('all', { message: 'toUserId must be a user id (UUID)' })
  toUserId: string;

  @Field()
  @IsIn(ASSET_SYMBOLS as unknown as string[], ASSET_MSG)
  asset: string;

  /** Decimal string; format and precision are checked against the asset by the service. */
  @Field()
  @IsString({ message: 'amount must be a decimal string (e.g. "1.50")' })
  @MaxLength(128)
  amount: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(280, { message: 'note must be at most 280 characters' })
  note?: string;
}

@InputType()
export class DepositDto {
  @Field()
  @IsIn(ASSET_SYMBOLS as unknown as string[], ASSET_MSG)
  asset: string;

  @Field()
  @IsString({ message: 'amount must be a decimal string (e.g. "1.50")' })
  @MaxLength(128)
  amount: string;

  /** The external reference (e.g. a blockchain transaction id): one deposit per asset and reference. */
  @Field()
  @IsString()
  @Length(1, 200, { message: 'reference must be 1 to 200 characters' })
  reference: string;
}

export class TransactionsQueryDto {
  @IsOptional()
  @IsIn(ASSET_SYMBOLS as unknown as string[], ASSET_MSG)
  asset?: string;

  @IsOptional()
  @IsString()
  limit?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

@ObjectType('Balance')
export class BalanceGql {
  @Field() asset: string;
  @Field() available: string;
  @Field() held: string;
  @Field() total: string;
}

@ObjectType('WalletBalance')
export class WalletBalanceGql {
  @Field() userId: string;
  @Field(() => [BalanceGql]) balances: BalanceGql[];
}

@ObjectType('WalletTransaction')
export class WalletTransactionGql {
  @Field() id: string;
  @Field() type: string;
  @Field() asset: string;
  @Field() amount: string;
  @Field() balanceAfter: string;
  @Field(() => String, { nullable: true }) counterpartyId: string | null;
  @Field(() => String, { nullable: true }) reference: string | null;
  @Field(() => String, { nullable: true }) note: string | null;
  @Field() createdAt: string;
}

@ObjectType('WalletTransactionPage')
export class WalletTransactionPageGql {
  @Field(() => [WalletTransactionGql]) items: WalletTransactionGql[];
  @Field(() => String, { nullable: true }) nextCursor: string | null;
}

@ObjectType('TransferResult')
export class TransferResultGql {
  @Field() id: string;
  @Field() transactionId: string;
  @Field() fromUserId: string;
  @Field() toUserId: string;
  @Field() asset: string;
  @Field() amount: string;
  @Field() fee: string;
  @Field(() => String, { nullable: true }) note: string | null;
  @Field() status: string;
  @Field() createdAt: string;
}

@ObjectType('DepositResult')
export class DepositResultGql {
  @Field() id: string;
  @Field() userId: string;
  @Field() asset: string;
  @Field() amount: string;
  @Field() reference: string;
  @Field() createdAt: string;
}

@ObjectType('DepositAddress')
export class DepositAddressGql {
  @Field() asset: string;
  @Field() network: string;
  @Field() address: string;
}

@ObjectType('TransactionDetails')
export class TransactionDetailsGql {
  @Field() type: string;
  @Field() asset: string;
  @Field() amount: string;
  @Field(() => String, { nullable: true }) fromUserId: string | null;
  @Field(() => String, { nullable: true }) toUserId: string | null;
  @Field(() => String, { nullable: true }) reference: string | null;
  @Field() createdAt: string;
}

@ObjectType('TransactionCompleted')
export class TransactionCompletedGql {
  @Field() transactionId: string;
  @Field(() => TransactionDetailsGql) details: TransactionDetailsGql;
}
