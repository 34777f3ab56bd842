import { Args, Context, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { CurrentUser, Public } from '../../core/auth/decorators';
import type { AuthUser } from '../../core/auth/auth-user';
import { GqlPubSub } from '../../core/realtime/gql-pubsub';
import type { GqlContext } from '../../core/graphql/graphql.config';
import { AuthService, ClientInfo } from './auth.service';
import { userUpdatedTopic } from '../users/users.events';
import { AuthResult, AuthUserView, LoginDto, RegisterDto } from './dto/auth.dto';


/** The caller's address over HTTP (`req.ip`, proxy-aware) or over graphql-ws (set at connection). */
function clientOf(ctx: GqlContext): ClientInfo {
  return { ip: ctx.req?.ip ?? ctx.ip ?? 'unknown', userAgent: ctx.req?.headers['user-agent'] };
}

@Resolver()
export class AuthResolver {
  constructor(
    private readonly auth: AuthService,
    private readonly pubsub: GqlPubSub,
  ) {}

  @Public()
  @Mutation(() => AuthResult)
  register(@Args('input') input: RegisterDto, @Context() ctx: GqlContext) {
    return this.auth.register(input, clientOf(ctx));
  }

  @Public()
  @Mutation(() => AuthResult)
  login(@Args('input') input: LoginDto, @Context() ctx: GqlContext) {
    return this.auth.login(input.email, input.password, clientOf(ctx));
  }

  @Public()
  @Mutation(() => AuthResult)
  refreshToken(@Args('refreshToken') refreshToken: string, @Context() ctx: GqlContext) {
    return this.auth.refresh(refreshToken, clientOf(ctx));
  }

  @Query(() => AuthUserView)
  me(@CurrentUser() user: AuthUser) {
    return this.auth.me(user.id);
  }

  /** The caller's own account changed (e.g. an admin granted a role). */
  @Subscription(() => AuthUserView, { resolve: (p: { userUpdated: AuthUserView }) => p.userUpdated })
  userUpdated(@CurrentUser() user: AuthUser) {
    return this.pubsub.iterator(userUpdatedTopic(user.id));
  }
}
