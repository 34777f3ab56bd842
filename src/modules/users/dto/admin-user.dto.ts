import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn } from 'class-validator';
import { ROLES, Role } from '../../../core/auth/roles';

export class UpdateRolesDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(3)
  @IsIn(ROLES as unknown as string[], { each: true, message: 'roles must each be one of user, creator, admin' })
  roles: Role[];
}
