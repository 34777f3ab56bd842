/** The username rule, shared by registration (auth/dto) and lookups (users controller). */
export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
/** Letters, digits, `_`, `.` and `-` (length is checked apart, so each error names its own problem). */
export const USERNAME_CHARS = /^[A-Za-z0-9_.-]+$/;

export const isUsername = (s: string): boolean => s.length >= USERNAME_MIN && s.length <= USERNAME_MAX && USERNAME_CHARS.test(s);
