/** The roles a user can hold. Core owns them (guards and tokens check them); users stores them. */
export const ROLES = ['user', 'creator', 'admin'] as const;
export type Role = (typeof ROLES)[number];
