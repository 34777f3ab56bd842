import { Field, InputType, ObjectType } from '@nestjs/graphql';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsOptional, IsString, Length, Matches, MaxLength, MinLength } from 'class-validator';
import { USERNAME_CHARS, USERNAME_MAX, USERNAME_MIN } from '../../users/username';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

@InputType()
export class RegisterDto {
  @Field()
  @Transform(trim)
  @IsString()
  @Length(USERNAME_MIN, USERNAME_MAX)
  @Matches(USERNAME_CHARS, { message: 'username may contain only letters, digits, _ . and -' })
  username: string;

  @Field()
  @Transform(trim)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(254)
  email: string;

  @Field()
  @IsString()
  @MinLength(8, { message: 'password must be at least 8 characters long' })
  @MaxLength(256)
  password: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsIn(['user', 'creator'], { message: 'role must be "user" or "creator"' })
  role?: 'user' | 'creator';
}

@InputType()
export class LoginDto {
  @Field()
  @Transform(trim)
  @IsString()
  @MaxLength(254)
  @MinLength(3)
  email: string;

  @Field()
  @IsString()
  @MaxLength(256)
  @MinLength(1)
  password: string;
}

export class RefreshDto {
  @IsString()
  @MaxLength(512)
  @MinLength(10)
  refreshToken: string;
}

export class LogoutDto {
  @IsOptional()
  @IsString()
  @MaxLength(512)
  refreshToken?: string;
}

@ObjectType('AuthUser')
export class AuthUserView {
  @Field() id: string;
  @Field() username: string;
  @Field() email: string;
  @Field(() => [String]) roles: string[];
  @Field() createdAt: string;
}

@ObjectType()
export class AuthResult {
  @Field() accessToken: string;
  @Field() refreshToken: string;
  @Field() expiresIn: number;
  @Field() tokenType: string;
  @Field(() => AuthUserView) user: AuthUserView;
}
