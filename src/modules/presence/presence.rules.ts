/** Pure presence rules (unit-tested in presence.rules.spec.ts). */
export const PRESENCE_STATUSES = ['online', 'away', 'busy', 'offline'] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];

export const isPresenceStatus = (v: unknown): v is PresenceStatus =>
  typeof v === 'string' && (PRESENCE_STATUSES as readonly string[]).includes(v);

/**
 * What others see: offline while no socket of the user is connected; otherwise the status the
 * user chose (default online). Choosing `offline` while connected is "invisible".
 */
export function effectiveStatus(connections: number, chosen: string | null | undefined): PresenceStatus {
  if (connections <= 0) return 'offline';
  return isPresenceStatus(chosen) ? chosen : 'online';
}

/** A visible change worth announcing, or null when others would see no difference. */
export function transition(before: PresenceStatus, after: PresenceStatus): { from: PresenceStatus; to: PresenceStatus } | null {
  return before === after ? null : { from: before, to: after };
}

/** GraphQL topic for presence changes of the users someone shares a room with. */
