import { ArgsType, Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { ASSET_SYMBOLS } from '../../ledger/assets';
import { BATTLE_STATUSES, MAX_PARTICIPANTS, MIN_PARTICIPANTS } from '../battle.machine';

const PARTICIPANTS_MSG = { message: `participantIds must list ${MIN_PARTICIPANTS} to ${MAX_PARTICIPANTS} creator ids (UUIDs)` };

// ------------------------------------------------------------------ inputs

@InputType('BattlePrizeInput')
export class BattlePrizeDto {
  @Field()
  @IsIn(ASSET_SYMBOLS as unknown as string[], { message: `prize.asset must be one of ${ASSET_SYMBOLS.join(', ')}` })
  asset: string;

  /** Decimal string, funded by the creator (held at creation). */
  @Field()
  @IsString({ message: 'prize.amount must be a decimal string (e.g. "10.50")' })
  @MaxLength(128, { message: 'prize.amount is too long' })
  amount: string;
}

@InputType('CreateBattleInput')
export class CreateBattleDto {
  @Field()
  @IsString({ message: 'title must be a string' })
  @Length(1, 120, { message: 'title must be 1 to 120 characters' })
  title: string;

  @Field(() => [ID])
  @IsArray(PARTICIPANTS_MSG)
  @ArrayMinSize(MIN_PARTICIPANTS, PARTICIPANTS_MSG)
  @ArrayMaxSize(MAX_PARTICIPANTS, PARTICIPANTS_MSG)
  @IsUUID('all', { each: true, message: 'participantIds must be user ids (UUIDs)' })
  participantIds: string[];

  @Field(() => Int)
  @IsInt({ message: 'durationSeconds must be an integer number of seconds' })
  durationSeconds: number;

  @Field(() => BattlePrizeDto, { nullable: true })
  @IsOptional()
  @IsObject({ message: 'prize must be an object {asset, amount}' })
  @ValidateNested()
  @Type(() => BattlePrizeDto)
  prize?: BattlePrizeDto;
}

export class VoteDto {
  @IsUUID('all', { message: 'participantId must be a participant id (UUID)' })
  participantId: string;
}

/** Socket payloads. */
export class BattleRefDto {
  @IsUUID('all', { message: 'battleId must be a battle id (UUID)' })
  battleId: string;
}

export class BattleVoteDto extends BattleRefDto {
  @IsUUID('all', { message: 'participantId must be a participant id (UUID)' })
  participantId: string;
}

@ArgsType()
export class BattlesQueryDto {
  @Field({ nullable: true })
  @IsOptional()
  @IsIn(BATTLE_STATUSES as unknown as string[], { message: `status must be one of ${BATTLE_STATUSES.join(', ')}` })
  status?: string;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  limit?: number | string;

  @Field({ nullable: true })
  @IsOptional()
  @IsString({ message: 'cursor must be a string' })
  @MaxLength(500, { message: 'cursor is invalid' })
  cursor?: string;
}

// ------------------------------------------------------------------ GraphQL output types

@ObjectType('BattlePrize')
export class BattlePrizeGql {
  @Field() asset: string;
  @Field() amount: string;
}

@ObjectType('BattleParticipant')
export class BattleParticipantGql {
  @Field(() => ID) userId: string;
  @Field() username: string;
  @Field(() => Int) votes: number;
  @Field(() => String, { nullable: true, description: "This participant's share of the prize once ended" }) prize: string | null;
}

@ObjectType('Battle')
export class BattleGql {
  @Field(() => ID) id: string;
  @Field() title: string;
  @Field({ description: 'live | ended' }) status: string;
  @Field(() => [BattleParticipantGql]) participants: BattleParticipantGql[];
  @Field(() => Int) viewerCount: number;
  @Field(() => Int) totalVotes: number;
  @Field(() => Int) durationSeconds: number;
  @Field() endsAt: string;
  @Field(() => ID, { nullable: true, description: 'null on a draw or when nobody voted' }) winnerId: string | null;
  @Field(() => [ID]) winnerIds: string[];
  @Field(() => ID) createdBy: string;
  @Field() createdAt: string;
  @Field(() => String, { nullable: true }) endedAt: string | null;
  @Field(() => BattlePrizeGql, { nullable: true }) prize: BattlePrizeGql | null;
  @Field(() => String, { nullable: true, description: 'paid | split | refunded' }) prizeOutcome: string | null;
  @Field(() => ID, { nullable: true, description: 'The participant you voted for' }) myVote: string | null;
  @Field(() => String, { nullable: true, description: 'Hex SHA-256 of the vote log once ended' }) resultHash: string | null;
}

@ObjectType('BattlePage')
export class BattlePageGql {
  @Field(() => [BattleGql]) items: BattleGql[];
  @Field(() => String, { nullable: true }) nextCursor: string | null;
}

@ObjectType('BattleTally')
export class BattleTallyGql {
  @Field(() => ID) userId: string;
  @Field(() => Int) votes: number;
}

@ObjectType('BattleUpdate')
export class BattleUpdateGql {
  @Field(() => ID) battleId: string;
  @Field(() => [BattleTallyGql]) votes: BattleTallyGql[];
  @Field(() => Int) viewerCount: number;
  @Field() status: string;
  @Field(() => ID, { nullable: true }) winnerId: string | null;
  @Field() endsAt: string;
}

@ObjectType('BattleVoteLogEntry')
export class BattleVoteLogEntryGql {
  @Field(() => Int) seq: number;
  @Field({ description: 'The voter, pseudonymised for this battle' }) voter: string;
  @Field(() => ID) participantId: string;
  @Field() at: string;
}

@ObjectType('BattleVoteLog')
export class BattleVoteLogGql {
  @Field(() => ID) battleId: string;
  @Field() resultHash: string;
  @Field() hashFormat: string;
  @Field(() => [BattleVoteLogEntryGql]) votes: BattleVoteLogEntryGql[];
}
