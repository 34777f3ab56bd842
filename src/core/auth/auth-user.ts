import type { Role } from './roles';

/** Who is asking, as proven by a verified access token. */
export interface AuthUser {
  id: string;
  roles: Role[];
  /** The refresh-token family (login session) the token belongs to. */
  sessionId: string;
}

export interface AccessTokenPayload {
  sub: string;
  roles: Role[];
  sid: string;
  /** The user's token version when minted (absent in tokens minted before versions existed: 0). */
  tv?: number;
  typ: 'access';
  iat: number;
  exp: number;
  iss: string;
}

export const isAdmin = (u: AuthUser | undefined | null): boolean => !!u && u.roles.includes('admin');
