import { ArgsType, Field, Float, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
} from 'class-validator';
import { ASSET_SYMBOLS } from '../../ledger/assets';
import { ESCROW_STATUSES } from '../escrow.machine';

const ASSET_MSG = { message: `asset must be one of ${ASSET_SYMBOLS.join(', ')}` };
const FIAT_MSG = { message: 'fiatCurrency must be a 3-letter ISO 4217 code in capitals, e.g. "USD"' };
const WINDOW_MSG = { message: 'paymentWindowSeconds must be an integer number of seconds (at most 86400)' };
const DECIMAL_MSG = (f: string) => ({ message: `${f} must be a decimal string (e.g. "1.50")` });

// ------------------------------------------------------------------ inputs

@InputType('CreateP2POfferInput')
export class CreateOfferDto {
  /** `sell`: the advertiser sells the asset (whoever accepts is the buyer); `buy`: the advertiser buys it. */
  @Field()
  @IsIn(['buy', 'sell'], { message: 'side must be "buy" or "sell"' })
  side: string;

  @Field()
  @IsIn(ASSET_SYMBOLS as unknown as string[], ASSET_MSG)
  asset: string;

  @Field()
  @IsString(FIAT_MSG)
  @Matches(/^[A-Z]{3}$/, FIAT_MSG)
  fiatCurrency: string;

  /** Fiat per one whole unit of the asset, up to 8 decimals. */
  @Field()
  @IsString(DECIMAL_MSG('price'))
  @MaxLength(80)
  price: string;

  @Field()
  @IsString(DECIMAL_MSG('minAmount'))
  @MaxLength(128)
  minAmount: string;

  @Field()
  @IsString(DECIMAL_MSG('maxAmount'))
  @MaxLength(128)
  maxAmount: string;

  @Field(() => [String])
  @IsArray({ message: 'paymentMethods must be a list of 1 to 10 names' })
  @ArrayMinSize(1, { message: 'paymentMethods must name at least one payment method' })
  @ArrayMaxSize(10, { message: 'paymentMethods may name at most 10 payment methods' })
  @IsString({ each: true, message: 'paymentMethods must be strings' })
  @Length(1, 40, { each: true, message: 'each payment method must be 1 to 40 characters' })
  paymentMethods: string[];

  @Field(() => Int)
  @IsInt(WINDOW_MSG)
  @Max(86400, WINDOW_MSG)
  paymentWindowSeconds: number;

  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(1000, { message: 'terms must be at most 1000 characters' })
  terms?: string;
}

@InputType('UpdateP2POfferInput')
export class UpdateOfferDto {
  @Field({ nullable: true })
  @IsOptional()
  @IsIn(['active', 'paused', 'closed'], { message: 'status must be one of active, paused, closed' })
  status?: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsString(DECIMAL_MSG('price'))
  @MaxLength(80)
  price?: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsString(DECIMAL_MSG('minAmount'))
  @MaxLength(128)
  minAmount?: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsString(DECIMAL_MSG('maxAmount'))
  @MaxLength(128)
  maxAmount?: string;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @IsArray({ message: 'paymentMethods must be a list of 1 to 10 names' })
  @ArrayMinSize(1, { message: 'paymentMethods must name at least one payment method' })
  @ArrayMaxSize(10, { message: 'paymentMethods may name at most 10 payment methods' })
  @IsString({ each: true, message: 'paymentMethods must be strings' })
  @Length(1, 40, { each: true, message: 'each payment method must be 1 to 40 characters' })
  paymentMethods?: string[];

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt(WINDOW_MSG)
  @Max(86400, WINDOW_MSG)
  paymentWindowSeconds?: number;

  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(1000, { message: 'terms must be at most 1000 characters' })
  terms?: string;
}

/** Offer filters (REST query string and GraphQL arguments). */
@ArgsType()
export class OffersQueryDto {
  @Field({ nullable: true })
  @IsOptional()
  @IsIn(['buy', 'sell'], { message: 'side must be "buy" or "sell"' })
  side?: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsIn(ASSET_SYMBOLS as unknown as string[], ASSET_MSG)
  asset?: string;

  @Field({ nullable: true })
  @IsOptional()
  @Matches(/^[A-Z]{3}$/, FIAT_MSG)
  fiatCurrency?: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @Length(1, 40, { message: 'paymentMethod must be 1 to 40 characters' })
  paymentMethod?: string;

  /** Only offers whose limits admit this amount (in the asset; needs `asset`). */
  @Field({ nullable: true })
  @IsOptional()
  @IsString(DECIMAL_MSG('amount'))
  @MaxLength(128)
  amount?: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsString(DECIMAL_MSG('minPrice'))
  @MaxLength(80)
  minPrice?: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsString(DECIMAL_MSG('maxPrice'))
  @MaxLength(80)
  maxPrice?: string;

  /** One advertiser's offers. */
  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'userId must be a user id (UUID)' })
  userId?: string;

  /** Default `active`; other statuses only for your own offers (or as an admin). */
  @Field({ nullable: true })
  @IsOptional()
  @IsIn(['active', 'paused', 'closed'], { message: 'status must be one of active, paused, closed' })
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

@InputType('AcceptP2POfferInput')
export class AcceptOfferDto {
  /** In the offer's asset (crypto), within the offer's limits. */
  @Field()
  @IsString(DECIMAL_MSG('amount'))
  @MaxLength(128)
  amount: string;

  /** One of the offer's payment methods (may be left out when the offer has only one). */
  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @Length(1, 40, { message: 'paymentMethod must be 1 to 40 characters' })
  paymentMethod?: string;
}

@InputType('CreateP2PEscrowInput')
export class CreateEscrowDto {
  @Field(() => ID)
  @IsUUID('all', { message: 'buyerId must be a user id (UUID)' })
  buyerId: string;

  @Field()
  @IsIn(ASSET_SYMBOLS as unknown as string[], ASSET_MSG)
  asset: string;

  @Field()
  @IsString(DECIMAL_MSG('amount'))
  @MaxLength(128)
  amount: string;

  @Field()
  @IsString(FIAT_MSG)
  @Matches(/^[A-Z]{3}$/, FIAT_MSG)
  fiatCurrency: string;

  @Field()
  @IsString(DECIMAL_MSG('fiatAmount'))
  @MaxLength(80)
  fiatAmount: string;

  @Field()
  @IsString()
  @Length(1, 40, { message: 'paymentMethod must be 1 to 40 characters' })
  paymentMethod: string;

  @Field(() => Int)
  @IsInt(WINDOW_MSG)
  @Max(86400, WINDOW_MSG)
  paymentWindowSeconds: number;
}

@InputType('DisputeP2PEscrowInput')
export class DisputeDto {
  @Field()
  @IsString({ message: 'reason must be a string' })
  @Length(1, 1000, { message: 'reason must be 1 to 1000 characters' })
  reason: string;

  /** Links to evidence (screenshots, statements), http(s) URLs, at most 10. */
  @Field(() => [String], { nullable: true })
  @IsOptional()
  @IsArray({ message: 'evidence must be a list of URLs' })
  @ArrayMaxSize(10, { message: 'evidence may hold at most 10 URLs' })
  @IsString({ each: true, message: 'evidence must be a list of URLs' })
  evidence?: string[];
}

@InputType('ResolveP2PEscrowInput')
export class ResolveDto {
  @Field()
  @IsIn(['release', 'refund'], { message: 'outcome must be "release" or "refund"' })
  outcome: 'release' | 'refund';

  @Field()
  @IsString({ message: 'note must be a string' })
  @Length(1, 2000, { message: 'note must be 1 to 2000 characters' })
  note: string;
}

@ArgsType()
export class EscrowsQueryDto {
  @Field({ nullable: true })
  @IsOptional()
  @IsIn(ESCROW_STATUSES as unknown as string[], { message: `status must be one of ${ESCROW_STATUSES.join(', ')}` })
  status?: string;

  /** Only escrows where you are the buyer / the seller. */
  @Field({ nullable: true })
  @IsOptional()
  @IsIn(['buyer', 'seller'], { message: 'role must be "buyer" or "seller"' })
  role?: string;

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
export class AdminEscrowsQueryDto {
  @Field({ nullable: true })
  @IsOptional()
  @IsIn(ESCROW_STATUSES as unknown as string[], { message: `status must be one of ${ESCROW_STATUSES.join(', ')}` })
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

// ------------------------------------------------------------------ GraphQL output types

@ObjectType('P2PReputation')
export class ReputationGql {
  @Field(() => Int) completedTrades: number;
  @Field(() => Int) failedTrades: number;
  @Field(() => Float, { nullable: true, description: 'completed / (completed + failed), 0..1; null before the first finished trade' })
  completionRate: number | null;
}

@ObjectType('P2POffer')
export class OfferGql {
  @Field(() => ID) id: string;
  @Field(() => ID) userId: string;
  @Field() username: string;
  @Field() side: string;
  @Field() asset: string;
  @Field() fiatCurrency: string;
  @Field() price: string;
  @Field() minAmount: string;
  @Field() maxAmount: string;
  @Field(() => [String]) paymentMethods: string[];
  @Field(() => Int) paymentWindowSeconds: number;
  @Field(() => String, { nullable: true }) terms: string | null;
  @Field() status: string;
  @Field(() => ReputationGql) reputation: ReputationGql;
  @Field() createdAt: string;
  @Field() updatedAt: string;
}

@ObjectType('P2POfferPage')
export class OfferPageGql {
  @Field(() => [OfferGql]) items: OfferGql[];
  @Field(() => String, { nullable: true }) nextCursor: string | null;
}

@ObjectType('P2PDispute')
export class DisputeGql {
  @Field(() => ID, { nullable: true }) openedBy: string | null;
  @Field() openedByRole: string;
  @Field() reason: string;
  @Field(() => [String]) evidence: string[];
  @Field() sealHash: string;
  @Field(() => Int) sealedChatSeq: number;
  @Field() openedAt: string;
  @Field(() => String, { nullable: true }) outcome: string | null;
  @Field(() => String, { nullable: true }) resolutionNote: string | null;
  @Field(() => ID, { nullable: true }) resolvedBy: string | null;
  @Field(() => String, { nullable: true }) resolvedAt: string | null;
}

@ObjectType('P2PEscrow')
export class EscrowGql {
  @Field(() => ID) id: string;
  @Field(() => ID, { nullable: true }) offerId: string | null;
  @Field(() => ID) sellerId: string;
  @Field(() => ID) buyerId: string;
  @Field() asset: string;
  @Field() amount: string;
  @Field({ description: "The platform's fee, paid by the seller on top of the amount when the crypto is released" }) fee: string;
  @Field(() => String, { nullable: true }) price: string | null;
  @Field() fiatCurrency: string;
  @Field() fiatAmount: string;
  @Field() paymentMethod: string;
  @Field(() => Int) paymentWindowSeconds: number;
  @Field() status: string;
  @Field() paymentDeadline: string;
  @Field(() => String, { nullable: true }) releaseDeadline: string | null;
  @Field(() => String, { nullable: true }) paidAt: string | null;
  @Field(() => String, { nullable: true }) disputedAt: string | null;
  @Field(() => String, { nullable: true }) releasedAt: string | null;
  @Field(() => String, { nullable: true }) cancelledAt: string | null;
  @Field(() => String, { nullable: true }) refundedAt: string | null;
  @Field(() => String, { nullable: true }) cancelReason: string | null;
  @Field(() => ID, { nullable: true }) chatRoomId: string | null;
  @Field(() => DisputeGql, { nullable: true }) dispute: DisputeGql | null;
  @Field() createdAt: string;
  @Field() updatedAt: string;
}

@ObjectType('P2PEscrowPage')
export class EscrowPageGql {
  @Field(() => [EscrowGql]) items: EscrowGql[];
  @Field(() => String, { nullable: true }) nextCursor: string | null;
}

@ObjectType('P2PEscrowEvent')
export class EscrowEventGql {
  @Field(() => String, { nullable: true }) fromStatus: string | null;
  @Field() toStatus: string;
  @Field(() => ID, { nullable: true }) actorId: string | null;
  @Field() actorRole: string;
  @Field(() => String, { nullable: true }) note: string | null;
  @Field() at: string;
}
