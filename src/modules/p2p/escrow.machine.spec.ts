import { completionRate, decide, ESCROW_STATUSES, EscrowAction, EscrowActor, EscrowStatus, nextStatuses, statsDelta, TERMINAL_STATUSES, TRANSITIONS } from './escrow.machine';

const ACTIONS = Object.keys(TRANSITIONS) as EscrowAction[];
const ACTORS: EscrowActor[] = ['buyer', 'seller', 'admin', 'system'];

describe('escrow state machine', () => {
  it('has exactly the contract transitions', () => {
    const edges = new Set<string>();
    for (const s of ESCROW_STATUSES) for (const n of nextStatuses(s)) edges.add(`${s}->${n}`);
    expect([...edges].sort()).toEqual(
      ['awaiting_payment->paid', 'awaiting_payment->cancelled', 'paid->released', 'paid->disputed', 'disputed->released', 'disputed->refunded'].sort(),
    );
    for (const s of TERMINAL_STATUSES) expect(nextStatuses(s)).toEqual([]);
  });

  it('lets only the right actor act', () => {
    const allowed: Record<EscrowAction, EscrowActor[]> = {
      confirm: ['buyer'],
      cancel: ['buyer'],
      expire_payment: ['system'],
      release: ['seller'],
      dispute: ['buyer', 'seller'],
      expire_release: ['system'],
      resolve_release: ['admin'],
      resolve_refund: ['admin'],
    };
    for (const action of ACTIONS) {
      for (const actor of ACTORS) {
        const d = decide(action, [actor], TRANSITIONS[action].from);
        if (allowed[action].includes(actor)) expect(d).toMatchObject({ ok: true, to: TRANSITIONS[action].to });
        else expect(d).toMatchObject({ ok: false, error: 'forbidden' });
      }
    }
    // The seller cannot mark paid, the buyer cannot release, an admin (not a party) does neither.
    expect(decide('confirm', ['seller'], 'awaiting_payment')).toMatchObject({ ok: false, error: 'forbidden', message: 'Only the buyer can mark an escrow as paid' });
    expect(decide('release', ['buyer'], 'paid')).toMatchObject({ ok: false, error: 'forbidden', message: 'Only the seller can release an escrow' });
    expect(decide('release', ['admin'], 'paid')).toMatchObject({ ok: false, error: 'forbidden' });
    // An admin who is the seller acts as the seller.
    expect(decide('release', ['seller', 'admin'], 'paid')).toMatchObject({ ok: true, to: 'released' });
  });

  it('checks permission before state: a wrong actor is forbidden in every state', () => {
    for (const s of ESCROW_STATUSES) expect(decide('release', ['buyer'], s)).toMatchObject({ ok: false, error: 'forbidden' });
  });

  it('refuses every other transition as a conflict', () => {
    for (const action of ACTIONS) {
      const t = TRANSITIONS[action];
      for (const s of ESCROW_STATUSES as readonly EscrowStatus[]) {
        const d = decide(action, t.actors, s);
        if (s === t.from) expect(d.ok).toBe(true);
        else expect(d).toMatchObject({ ok: false, error: 'conflict' });
      }
    }
    expect(decide('release', ['seller'], 'released')).toMatchObject({ message: 'Cannot release an escrow that is released' });
    expect(decide('cancel', ['buyer'], 'paid')).toMatchObject({ message: 'Cannot cancel an escrow that is paid' });
    expect(decide('dispute', ['buyer'], 'awaiting_payment')).toMatchObject({ message: 'Cannot dispute an escrow that is awaiting payment' });
  });

  it('moves money only where it must', () => {
    expect(ACTIONS.filter((a) => TRANSITIONS[a].money === 'post_to_buyer').sort()).toEqual(['release', 'resolve_release']);
    expect(ACTIONS.filter((a) => TRANSITIONS[a].money === 'void').sort()).toEqual(['cancel', 'expire_payment', 'resolve_refund']);
  });

  it('counts reputation', () => {
    expect(statsDelta('released')).toEqual({ completed: ['buyer', 'seller'], failed: [] });
    expect(statsDelta('cancelled')).toEqual({ completed: [], failed: ['buyer'] });
    expect(statsDelta('refunded')).toEqual({ completed: [], failed: ['buyer'] });
    expect(statsDelta('paid')).toEqual({ completed: [], failed: [] });
    expect(completionRate(0, 0)).toBeNull();
    expect(completionRate(3, 0)).toBe(1);
    expect(completionRate(2, 1)).toBe(0.6667);
    expect(completionRate(0, 4)).toBe(0);
  });
});
