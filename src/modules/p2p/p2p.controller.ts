import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentUser, Roles } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { Idempotent, idempotencyKeyOf } from '../../core/http/idempotency';
import {
  AcceptOfferDto,
  AdminEscrowsQueryDto,
  CreateEscrowDto,
  CreateOfferDto,
  DisputeDto,
  EscrowsQueryDto,
  OffersQueryDto,
  ResolveDto,
  UpdateOfferDto,
} from './dto/p2p.dto';
import { EscrowService } from './escrow.service';
import { OffersService } from './offers.service';

const Id = (name: string) => Param(name, new ParseUUIDPipe({ errorHttpStatusCode: 400 }));

/** Offers and escrows (CONTRACT.md §3 "P2P escrow"). Every POST that moves money takes an Idempotency-Key. */
@Controller('crypto/p2p')
export class P2PController {
  constructor(
    private readonly offers: OffersService,
    private readonly escrows: EscrowService,
  ) {}

  // ---------------------------------------------------------------- offers

  @Get('offers')
  listOffers(@CurrentUser() user: AuthUser, @Query() q: OffersQueryDto) {
    return this.offers.list(user, q);
  }

  @Post('offers')
  createOffer(@CurrentUser() user: AuthUser, @Body() dto: CreateOfferDto) {
    return this.offers.create(user, dto);
  }

  @Get('offers/:offerId')
  getOffer(@Id('offerId') offerId: string) {
    return this.offers.get(offerId);
  }

  @Patch('offers/:offerId')
  updateOffer(@CurrentUser() user: AuthUser, @Id('offerId') offerId: string, @Body() dto: UpdateOfferDto) {
    return this.offers.update(user, offerId, dto);
  }

  /** Takes an offer: an escrow with the seller's crypto held. */
  @Idempotent('p2p.accept')
  @Post('offers/:offerId/accept')
  accept(@CurrentUser() user: AuthUser, @Id('offerId') offerId: string, @Body() dto: AcceptOfferDto, @Req() req: FastifyRequest) {
    return this.escrows.acceptOffer(user, offerId, dto, idempotencyKeyOf(req));
  }

  // ---------------------------------------------------------------- escrows

  /** The caller (the seller) opens an escrow for a buyer directly. */
  @Idempotent('p2p.escrow')
  @Post('escrow')
  createEscrow(@CurrentUser() user: AuthUser, @Body() dto: CreateEscrowDto, @Req() req: FastifyRequest) {
    return this.escrows.createDirect(user, dto, idempotencyKeyOf(req));
  }

  @Get('escrow')
  myEscrows(@CurrentUser() user: AuthUser, @Query() q: EscrowsQueryDto) {
    return this.escrows.listMine(user, q);
  }

  @Get('escrow/:transactionId')
  getEscrow(@CurrentUser() user: AuthUser, @Id('transactionId') id: string) {
    return this.escrows.get(user, id);
  }

  /** The escrow's timeline: every transition, who made it and when. */
  @Get('escrow/:transactionId/events')
  escrowEvents(@CurrentUser() user: AuthUser, @Id('transactionId') id: string) {
    return this.escrows.events(user, id);
  }

  /** The buyer says the fiat was paid. */
  @Idempotent('p2p.confirm')
  @HttpCode(200)
  @Post('escrow/:transactionId/confirm')
  confirm(@CurrentUser() user: AuthUser, @Id('transactionId') id: string) {
    return this.escrows.confirmPaid(user, id);
  }

  /** The seller releases the crypto to the buyer (final). */
  @Idempotent('p2p.release')
  @HttpCode(200)
  @Post('escrow/:transactionId/release')
  release(@CurrentUser() user: AuthUser, @Id('transactionId') id: string) {
    return this.escrows.release(user, id);
  }

  /** The buyer cancels before paying: the seller's crypto is available again. */
  @Idempotent('p2p.cancel')
  @HttpCode(200)
  @Post('escrow/:transactionId/cancel')
  cancel(@CurrentUser() user: AuthUser, @Id('transactionId') id: string) {
    return this.escrows.cancel(user, id);
  }

  /** Either party, once paid: freezes the escrow for arbitration. */
  @Idempotent('p2p.dispute')
  @HttpCode(200)
  @Post('escrow/:transactionId/dispute')
  dispute(@CurrentUser() user: AuthUser, @Id('transactionId') id: string, @Body() dto: DisputeDto) {
    return this.escrows.dispute(user, id, dto);
  }
}

/** Arbitration (admins). */
@Roles('admin')
@Controller('admin/p2p/escrow')
export class AdminP2PController {
  constructor(private readonly escrows: EscrowService) {}

  @Get()
  list(@Query() q: AdminEscrowsQueryDto) {
    return this.escrows.listAll(q);
  }

  @Idempotent('p2p.resolve')
  @HttpCode(200)
  @Post(':transactionId/resolve')
  resolve(@CurrentUser() admin: AuthUser, @Id('transactionId') id: string, @Body() dto: ResolveDto) {
    return this.escrows.resolve(admin, id, dto);
  }

  /** Recomputes the dispute's seal over the stored record and the trade chat. */
  @Get(':transactionId/seal')
  seal(@Id('transactionId') id: string) {
    return this.escrows.verifySeal(id);
  }
}
