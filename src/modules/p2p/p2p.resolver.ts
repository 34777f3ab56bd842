import { ParseUUIDPipe } from '@nestjs/common';
import { parseIdempotencyKey } from '../../core/http/idempotency';
import { Args, ID, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { CurrentUser, Roles } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import {
  AcceptOfferDto,
  AdminEscrowsQueryDto,
  CreateEscrowDto,
  CreateOfferDto,
  DisputeDto,
  EscrowEventGql,
  EscrowGql,
  EscrowPageGql,
  EscrowsQueryDto,
  OfferGql,
  OfferPageGql,
  OffersQueryDto,
  ResolveDto,
  UpdateOfferDto,
} from './dto/p2p.dto';
import { EscrowService } from './escrow.service';
import { OffersService } from './offers.service';
import { escrowTopic, OFFERS_TOPIC } from './p2p.events';
import { ASSET_SYMBOLS, isAssetSymbol } from '../ledger/assets';
import { badRequest } from '../../core/http/domain-error';
import type { EscrowView, OfferView } from './p2p.views';
import { SharedSubscription } from '../../core/graphql/shared-execution';

const EscrowId = () => Args('escrowId', { type: () => ID }, new ParseUUIDPipe());
const OfferId = () => Args('offerId', { type: () => ID }, new ParseUUIDPipe());
const IdemKey = () => Args('idempotencyKey', { type: () => String, nullable: true });
const key = (k: string | null | undefined): string | undefined => parseIdempotencyKey(k, 'idempotencyKey');

/** P2P over GraphQL: the same services and rules as REST. */
@Resolver()
export class P2PResolver {
  constructor(
    private readonly offers: OffersService,
    private readonly escrows: EscrowService,
    private readonly pubsub: GqlPubSub,
  ) {}

  @Query(() => OfferPageGql, { description: 'P2P offers; with side, best price first' })
  p2pOffers(@CurrentUser() user: AuthUser, @Args() q: OffersQueryDto) {
    return this.offers.list(user, q);
  }

  @Query(() => OfferGql)
  p2pOffer(@OfferId() offerId: string) {
    return this.offers.get(offerId);
  }

  @Query(() => EscrowGql, { description: 'An escrow you are a party to (admins: any)' })
  p2pEscrow(@CurrentUser() user: AuthUser, @EscrowId() escrowId: string) {
    return this.escrows.get(user, escrowId);
  }

  @Query(() => EscrowPageGql, { description: 'Your escrows, newest first' })
  myP2pEscrows(@CurrentUser() user: AuthUser, @Args() q: EscrowsQueryDto) {
    return this.escrows.listMine(user, q);
  }

  @Query(() => [EscrowEventGql])
  p2pEscrowEvents(@CurrentUser() user: AuthUser, @EscrowId() escrowId: string) {
    return this.escrows.events(user, escrowId);
  }

  @Roles('admin')
  @Query(() => EscrowPageGql, { description: 'Every escrow (admins), e.g. status: "disputed"' })
  adminP2pEscrows(@Args() q: AdminEscrowsQueryDto) {
    return this.escrows.listAll(q);
  }

  @Mutation(() => OfferGql)
  createP2pOffer(@CurrentUser() user: AuthUser, @Args('input') input: CreateOfferDto) {
    return this.offers.create(user, input);
  }

  @Mutation(() => OfferGql)
  updateP2pOffer(@CurrentUser() user: AuthUser, @OfferId() offerId: string, @Args('input') input: UpdateOfferDto) {
    return this.offers.update(user, offerId, input);
  }

  @Mutation(() => EscrowGql, { description: "Takes an offer: an escrow with the seller's crypto held" })
  acceptP2pOffer(@CurrentUser() user: AuthUser, @OfferId() offerId: string, @Args('input') input: AcceptOfferDto, @IdemKey() idempotencyKey?: string) {
    return this.escrows.acceptOffer(user, offerId, input, key(idempotencyKey));
  }

  @Mutation(() => EscrowGql, { description: 'Opens an escrow as the seller for a given buyer' })
  createP2pEscrow(@CurrentUser() user: AuthUser, @Args('input') input: CreateEscrowDto, @IdemKey() idempotencyKey?: string) {
    return this.escrows.createDirect(user, input, key(idempotencyKey));
  }

  @Mutation(() => EscrowGql, { description: 'The buyer marks the fiat as paid' })
  confirmP2pPayment(@CurrentUser() user: AuthUser, @EscrowId() escrowId: string) {
    return this.escrows.confirmPaid(user, escrowId);
  }

  @Mutation(() => EscrowGql, { description: 'The seller releases the crypto to the buyer' })
  releaseP2pEscrow(@CurrentUser() user: AuthUser, @EscrowId() escrowId: string) {
    return this.escrows.release(user, escrowId);
  }

  @Mutation(() => EscrowGql, { description: 'The buyer cancels before paying' })
  cancelP2pEscrow(@CurrentUser() user: AuthUser, @EscrowId() escrowId: string) {
    return this.escrows.cancel(user, escrowId);
  }

  @Mutation(() => EscrowGql, { description: 'Either party opens a dispute once the escrow is paid' })
  disputeP2pEscrow(@CurrentUser() user: AuthUser, @EscrowId() escrowId: string, @Args('input') input: DisputeDto) {
    return this.escrows.dispute(user, escrowId, input);
  }

  @Roles('admin')
  @Mutation(() => EscrowGql, { description: 'Admins resolve a dispute: release to the buyer or refund the seller' })
  resolveP2pEscrow(@CurrentUser() user: AuthUser, @EscrowId() escrowId: string, @Args('input') input: ResolveDto) {
    return this.escrows.resolve(user, escrowId, input);
  }

  /**
   * Offers posted or changed (new price or limits, paused, closed), for the market's live view.
   * Only active offers are public: an offer that leaves the market (paused, closed) is announced
   * once so viewers drop it, and edits of a paused offer are not announced. With `asset`, only
   * that asset's offers.
   */
  @SharedSubscription() // the market is the same for every signed-in viewer
  @Subscription(() => OfferGql, {
    description: 'P2P offers posted or changed (price, limits, paused, closed); with asset, only that asset',
    filter: (p: { offerUpdated: OfferView }, v: { asset?: string | null }) => !v.asset || p.offerUpdated.asset === v.asset,
    resolve: (p: { offerUpdated: OfferView }) => p.offerUpdated,
  })
  async offerUpdated(@Args('asset', { type: () => String, nullable: true }) asset?: string | null) {
    if (asset != null && !isAssetSymbol(asset)) throw badRequest(`asset must be one of ${ASSET_SYMBOLS.join(', ')}`);
    return this.pubsub.iterator(OFFERS_TOPIC);
  }

  /** Changes of one escrow; only its parties and admins may subscribe. */
  @Subscription(() => EscrowGql, { resolve: (p: { escrowUpdated: EscrowView }) => p.escrowUpdated })
  async escrowUpdated(@CurrentUser() user: AuthUser, @EscrowId() escrowId: string) {
    await this.escrows.assertCanView(user, escrowId);
    return this.pubsub.iterator(escrowTopic(escrowId));
  }
}
