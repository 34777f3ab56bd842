import { Field, Int, ObjectType } from '@nestjs/graphql';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, MaxLength } from 'class-validator';

export class SymbolsDto {
  @IsArray({ message: 'symbols must be a list of asset symbols, e.g. ["BTC","ETH"]' })
  @ArrayMinSize(1, { message: 'symbols must name at least one asset' })
  @ArrayMaxSize(20, { message: 'symbols may name at most 20 assets' })
  @IsString({ each: true, message: 'symbols must be strings' })
  @MaxLength(10, { each: true })
  symbols: string[];
}

@ObjectType('PriceSource')
export class PriceSourceGql {
  @Field() source: string;
  @Field() price: string;
  @Field(() => String, { nullable: true }) change24h: string | null;
  @Field() updatedAt: string;
}

@ObjectType('Price')
export class PriceGql {
  @Field() symbol: string;
  @Field() price: string;
  @Field() currency: string;
  @Field(() => String, { nullable: true, description: 'Percent over 24 h' }) change24h: string | null;
  @Field() source: string;
  @Field() updatedAt: string;
  @Field(() => [PriceSourceGql]) sources: PriceSourceGql[];
  @Field() disagreement: boolean;
  @Field(() => Int) spreadBps: number;
}
