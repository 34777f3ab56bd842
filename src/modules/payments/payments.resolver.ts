import { Args, ID, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { CurrentUser, Roles } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { badRequest } from '../../core/http/domain-error';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import { AdminPaymentsQueryDto, CheckoutDto, PaymentGql, PaymentPageGql, PaymentProviderGql, PaymentsQueryDto } from './dto/payments.dto';
import { paymentTopic } from './payments.events';
import { PaymentsService } from './payments.service';
import type { PaymentView } from './payments.views';

const KEY_RE = /^[A-Za-z0-9._:-]{1,255}$/;

/** Payments over GraphQL: the same service and rules as REST. */
@Resolver()
export class PaymentsResolver {
  constructor(
    private readonly service: PaymentsService,
    private readonly pubsub: GqlPubSub,
  ) {}

  @Query(() => [PaymentProviderGql], { description: 'Payment providers and whether each is configured' })
  paymentProviders() {
    return this.service.listProviders();
  }

  @Query(() => PaymentPageGql, { description: 'My payments, newest first' })
  payments(@CurrentUser() user: AuthUser, @Args() q: PaymentsQueryDto) {
    return this.service.listMine(user, q);
  }

  @Query(() => PaymentGql, { description: 'A payment of mine (admins: any)' })
  payment(@CurrentUser() user: AuthUser, @Args('paymentId', { type: () => ID }) paymentId: string) {
    return this.service.get(user, paymentId);
  }

  @Roles('admin')
  @Query(() => PaymentPageGql, { description: 'Every payment (admins), filtered by status and provider' })
  adminPayments(@Args() q: AdminPaymentsQueryDto) {
    return this.service.listAll(q);
  }

  @Mutation(() => PaymentGql, { description: "Starts a top-up through the provider's checkout; idempotencyKey makes a retry safe" })
  createCheckout(@CurrentUser() user: AuthUser, @Args('input') input: CheckoutDto, @Args('idempotencyKey', { type: () => String, nullable: true }) idempotencyKey?: string | null) {
    if (idempotencyKey && !KEY_RE.test(idempotencyKey)) throw badRequest('idempotencyKey must be 1-255 characters of letters, digits and ._:-');
    return this.service.checkout(user, input, idempotencyKey ?? undefined);
  }

  /** Changes of my payments, on every device. */
  @Subscription(() => PaymentGql, { resolve: (p: { paymentUpdated: PaymentView }) => p.paymentUpdated })
  paymentUpdated(@CurrentUser() user: AuthUser) {
    return this.pubsub.iterator(paymentTopic(user.id));
  }
}
