import { ArgsType, Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { PAYMENT_STATUSES } from '../payment.machine';
import { PROVIDER_NAMES, ProviderName } from '../providers/provider';

const PROVIDER_MSG = { message: `provider must be one of ${PROVIDER_NAMES.join(', ')}` };
const STATUS_MSG = { message: `status must be one of ${PAYMENT_STATUSES.join(', ')}` };

@InputType('CheckoutInput')
export class CheckoutDto {
  @Field(() => String)
  @IsIn(PROVIDER_NAMES as unknown as string[], PROVIDER_MSG)
  provider: ProviderName;

  /** Always "USD": every checkout is priced in and credits USD. */
  @Field()
  @IsString({ message: 'asset must be "USD"' })
  @MaxLength(10, { message: 'asset must be "USD"' })
  asset: string;

  /** A decimal string, e.g. "25.00". */
  @Field()
  @IsString({ message: 'amount must be a decimal string (e.g. "25.00")' })
  @MaxLength(32, { message: 'amount is too long' })
  amount: string;
}

@ArgsType()
export class PaymentsQueryDto {
  @Field({ nullable: true })
  @IsOptional()
  @IsIn(PAYMENT_STATUSES as unknown as string[], STATUS_MSG)
  status?: string;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  limit?: number | string;

  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  cursor?: string;
}

@ArgsType()
export class AdminPaymentsQueryDto extends PaymentsQueryDto {
  @Field({ nullable: true })
  @IsOptional()
  @IsIn(PROVIDER_NAMES as unknown as string[], PROVIDER_MSG)
  provider?: string;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'userId must be a UUID' })
  userId?: string;
}

@ObjectType('PaymentProvider')
export class PaymentProviderGql {
  @Field() provider: string;
  @Field() kind: string;
  @Field(() => [String]) assets: string[];
  @Field() enabled: boolean;
}

@ObjectType('Payment')
export class PaymentGql {
  @Field(() => ID) id: string;
  @Field(() => ID) userId: string;
  @Field() provider: string;
  @Field() asset: string;
  @Field() amount: string;
  @Field() status: string;
  @Field(() => String, { nullable: true }) checkoutUrl: string | null;
  @Field(() => String, { nullable: true }) clientSecret: string | null;
  @Field(() => String, { nullable: true }) providerRef: string | null;
  @Field() amountPaid: string;
  @Field() amountRefunded: string;
  @Field() flagged: boolean;
  @Field(() => [String]) flagReasons: string[];
  @Field(() => String, { nullable: true }) failureReason: string | null;
  @Field() expiresAt: string;
  @Field() createdAt: string;
  @Field() updatedAt: string;
  @Field(() => String, { nullable: true }) completedAt: string | null;
}

@ObjectType('PaymentPage')
export class PaymentPageGql {
  @Field(() => [PaymentGql]) items: PaymentGql[];
  @Field(() => String, { nullable: true }) nextCursor: string | null;
}
