import { Global, Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { JwtStrategy } from './jwt.strategy';
import { TokenService } from './token.service';
import { OwnerOrAdminGuard } from './ownership';

@Global()
@Module({
  imports: [PassportModule, JwtModule.register({})],
  providers: [TokenService, JwtStrategy, OwnerOrAdminGuard],
  exports: [TokenService, OwnerOrAdminGuard],
})
export class CoreAuthModule {}
