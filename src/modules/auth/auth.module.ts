import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module';
import { RefreshTokenEntity } from './entities/refresh-token.entity';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { PasswordService } from './password.service';
import { LoginThrottleService } from './login-throttle.service';
import { AuthResolver } from './auth.resolver';
import { AuthJobs } from './auth.jobs';
import { DASHBOARD_AUTHENTICATOR } from '../../core/queue/queue-dashboard';
import { PasswordDashboardAuthenticator } from './dashboard-authenticator';

@Module({
  imports: [UsersModule, TypeOrmModule.forFeature([RefreshTokenEntity])],
  controllers: [AuthController],
  providers: [
    AuthService,
    PasswordService,
    LoginThrottleService,
    AuthResolver,
    AuthJobs,
    { provide: DASHBOARD_AUTHENTICATOR, useClass: PasswordDashboardAuthenticator },
  ],
  exports: [AuthService, PasswordService],
})
export class AuthModule {}
