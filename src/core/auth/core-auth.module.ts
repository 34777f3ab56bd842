import { Global, Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { JwtStrategy } from './jwt.strategy';
import { TokenService } from './token.service';
import { OwnerOrAdminGuard } from './ownership';
import { SessionEvents } from './session-events';

@Global()
@Module({
  imports: [PassportModule, JwtModule.register({})],
  providers: [TokenService, JwtStrategy, OwnerOrAdminGuard, SessionEvents],
  exports: [TokenService, OwnerOrAdminGuard, SessionEvents],
})
export class CoreAuthModule {}
