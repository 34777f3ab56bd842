import { describe, expect, it } from 'vitest';
import { draftOf, notificationBody, parseRecipients, rulePatch, type RewardRule } from './rules';

const rule: RewardRule = { action: 'watch_milestone', amount: '1.5', dailyCap: 10, cooldownSeconds: 0, enabled: true };
const U1 = '0b7c9a52-3d4e-4f60-8a1b-2c3d4e5f6a7b';

describe('rulePatch', () => {
  it('sends only what changed', () => {
    expect(rulePatch(rule, draftOf(rule))).toEqual({ patch: {}, problems: {} });
    expect(rulePatch(rule, { ...draftOf(rule), amount: '1.50' }).patch).toEqual({});
    expect(rulePatch(rule, { ...draftOf(rule), amount: '2', enabled: false, dailyCap: '3' }).patch).toEqual({ amount: '2', enabled: false, dailyCap: 3 });
  });

  it('names the bad fields', () => {
    const { problems } = rulePatch(rule, { amount: '-1', dailyCap: '1.5', cooldownSeconds: 'x', enabled: true });
    expect(Object.keys(problems).sort()).toEqual(['amount', 'cooldownSeconds', 'dailyCap']);
  });
});

describe('notifications', () => {
  it('parses recipients', () => {
    expect(parseRecipients(`${U1}, nope\n${U1.toUpperCase()}`)).toEqual({ ids: [U1], invalid: ['nope'] });
  });

  it('builds a direct or a broadcast body', () => {
    const d = { broadcast: false, recipients: U1, type: 'announcement', title: ' Hi ', body: 'There' };
    expect(notificationBody(d)).toEqual({ body: { userIds: [U1], type: 'announcement', title: 'Hi', body: 'There' }, problems: [] });
    expect(notificationBody({ ...d, broadcast: true, recipients: '' }).body).toEqual({ broadcast: true, type: 'announcement', title: 'Hi', body: 'There' });
    expect(notificationBody({ ...d, recipients: '', title: '' }).problems).toHaveLength(2);
    expect(notificationBody({ ...d, type: 'Big News' }).problems[0]).toMatch(/Type/);
  });
});
