/**
 * The reward rules editor's logic, pure: what changed in a rule (only that is PATCHed), with
 * field-named problems; and the recipients of a notification.
 */

export interface RewardRule {
  action: string;
  amount: string;
  dailyCap: number;
  cooldownSeconds: number;
  enabled: boolean;
}

export interface RuleDraft {
  amount: string;
  dailyCap: string;
  cooldownSeconds: string;
  enabled: boolean;
}

export const draftOf = (r: RewardRule): RuleDraft => ({
  amount: r.amount,
  dailyCap: String(r.dailyCap),
  cooldownSeconds: String(r.cooldownSeconds),
  enabled: r.enabled,
});

const NON_NEG_INT = /^\d{1,9}$/;
const AMOUNT = /^\d{1,20}(\.\d{1,18})?$/;

export type RulePatch = Partial<Pick<RewardRule, 'amount' | 'dailyCap' | 'cooldownSeconds' | 'enabled'>>;

/** The changed fields, or the problems (by field). */
export function rulePatch(rule: RewardRule, d: RuleDraft): { patch: RulePatch; problems: Record<string, string> } {
  const problems: Record<string, string> = {};
  const patch: RulePatch = {};
  const amount = d.amount.trim();
  if (!AMOUNT.test(amount)) problems.amount = 'Amount must be a decimal number, e.g. 0.5';
  else if (!sameDecimal(amount, rule.amount)) patch.amount = amount;
  if (!NON_NEG_INT.test(d.dailyCap.trim())) problems.dailyCap = 'Daily cap must be a whole number (0 or more)';
  else if (Number(d.dailyCap) !== rule.dailyCap) patch.dailyCap = Number(d.dailyCap);
  if (!NON_NEG_INT.test(d.cooldownSeconds.trim())) problems.cooldownSeconds = 'Cooldown must be a whole number of seconds (0 or more)';
  else if (Number(d.cooldownSeconds) !== rule.cooldownSeconds) patch.cooldownSeconds = Number(d.cooldownSeconds);
  if (d.enabled !== rule.enabled) patch.enabled = d.enabled;
  return { patch, problems };
}

/** "1.50" and "1.5" are the same amount. */
function sameDecimal(a: string, b: string): boolean {
  const norm = (s: string) => {
    const [i, f = ''] = s.split('.');
    return `${i.replace(/^0+(?=\d)/, '')}.${f.replace(/0+$/, '')}`;
  };
  return norm(a) === norm(b);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** User ids typed as a list (commas, spaces or new lines); the ones that are not ids are reported. */
export function parseRecipients(text: string): { ids: string[]; invalid: string[] } {
  const parts = text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
  const ids = [...new Set(parts.filter((p) => UUID.test(p)).map((p) => p.toLowerCase()))];
  return { ids, invalid: parts.filter((p) => !UUID.test(p)) };
}

export interface NotificationDraft {
  broadcast: boolean;
  recipients: string;
  type: string;
  title: string;
  body: string;
}

/** The body of `POST /api/notifications/send`, or the problems. */
export function notificationBody(d: NotificationDraft): { body?: Record<string, unknown>; problems: string[] } {
  const problems: string[] = [];
  const { ids, invalid } = parseRecipients(d.recipients);
  if (!d.broadcast) {
    if (invalid.length) problems.push(`Not user ids: ${invalid.slice(0, 3).join(', ')}`);
    if (!ids.length && !invalid.length) problems.push('Add at least one recipient, or choose broadcast');
  }
  if (!/^[a-z][a-z0-9_.-]{0,39}$/.test(d.type.trim())) problems.push('Type must be a short lowercase word, e.g. announcement');
  if (!d.title.trim()) problems.push('Title is required');
  if (!d.body.trim()) problems.push('Body is required');
  if (problems.length) return { problems };
  const base = { type: d.type.trim(), title: d.title.trim(), body: d.body.trim() };
  return { body: d.broadcast ? { broadcast: true, ...base } : { userIds: ids, ...base }, problems };
}
