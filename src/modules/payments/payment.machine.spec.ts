import { decide, MachineEvent, PaymentFacts } from './payment.machine';

const fresh = (over: Partial<PaymentFacts> = {}): PaymentFacts => ({ status: 'pending', amount: 1000n, credited: 0n, reversed: 0n, refundTarget: 0n, ...over });
const ev = (kind: MachineEvent['kind'], amount: bigint | null = null): MachineEvent => ({ kind, amount });

/** Applies events in order, as the service does, carrying facts and a balance along. */
function run(events: MachineEvent[], startBalance = 0n) {
  let s = fresh();
  let balance = startBalance;
  let credits = 0n;
  let taken = 0n;
  const flags: string[] = [];
  for (const e of events) {
    const d = decide(s, e, balance);
    balance += d.credit - d.takeBack;
    credits += d.credit;
    taken += d.takeBack;
    flags.push(...d.flags);
    s = { ...s, ...d.next, status: d.status };
  }
  return { s, balance, credits, taken, flags };
}

describe('payment machine', () => {
  it('credits the paid amount once, whatever the number of paid events', () => {
    const r = run([ev('paid', 1000n), ev('paid', 1000n), ev('paid')]);
    expect(r.credits).toBe(1000n);
    expect(r.s.status).toBe('succeeded');
    expect(r.flags).toEqual([]);
  });

  it('pending events credit nothing and change nothing', () => {
    const d = decide(fresh(), ev('pending', 1000n), 0n);
    expect(d).toMatchObject({ changed: false, credit: 0n, status: 'pending' });
    expect(decide(fresh({ status: 'succeeded', credited: 1000n }), ev('pending'), 0n).changed).toBe(false);
  });

  it('credits what the provider reports and flags a difference', () => {
    const d = decide(fresh(), ev('paid', 900n), 0n);
    expect(d.credit).toBe(900n);
    expect(d.flags).toHaveLength(1);
    expect(d.status).toBe('succeeded');
  });

  it('ignores failed and expired after succeeded (out of order)', () => {
    const s = fresh({ status: 'succeeded', credited: 1000n });
    expect(decide(s, ev('failed'), 1000n).changed).toBe(false);
    expect(decide(s, ev('expired'), 1000n).changed).toBe(false);
  });

  it('fails or expires a pending payment, and a late paid still credits (flagged)', () => {
    const r = run([ev('expired'), ev('failed'), ev('paid', 1000n)]);
    expect(r.s.status).toBe('succeeded');
    expect(r.credits).toBe(1000n);
    expect(r.flags.some((f) => f.includes('expired'))).toBe(true);
    expect(decide(fresh(), ev('failed'), 0n).status).toBe('failed');
  });

  it('takes a full refund back and ends refunded; a repeated refund takes nothing more', () => {
    const r = run([ev('paid', 1000n), ev('refunded', 1000n), ev('refunded', 1000n), ev('refunded')]);
    expect(r.s.status).toBe('refunded');
    expect(r.taken).toBe(1000n);
    expect(r.balance).toBe(0n);
  });

  it('a partial refund keeps the payment succeeded; cumulative totals take only the difference', () => {
    const r = run([ev('paid', 1000n), ev('refunded', 300n), ev('refunded', 300n), ev('refunded', 500n)]);
    expect(r.s.status).toBe('succeeded');
    expect(r.taken).toBe(500n);
    expect(r.balance).toBe(500n);
  });

  it('takes back only what is available and flags the rest', () => {
    let s = fresh();
    let d = decide(s, ev('paid', 1000n), 0n);
    s = { ...s, ...d.next, status: d.status };
    d = decide(s, ev('disputed', 1000n), 400n); // the user spent 600
    expect(d.takeBack).toBe(400n);
    expect(d.shortfall).toBe(600n);
    expect(d.status).toBe('refunded');
    expect(d.flags.length).toBeGreaterThanOrEqual(2);
  });

  it('a refund before the paid event: nothing moves, and the late paid credits and takes back at once', () => {
    const r = run([ev('refunded', 1000n), ev('paid', 1000n), ev('failed')]);
    expect(r.s.status).toBe('refunded');
    expect(r.credits).toBe(1000n);
    expect(r.taken).toBe(1000n);
    expect(r.balance).toBe(0n);
  });

  it('never lets a balance go negative, whatever the order of events', () => {
    const kinds: MachineEvent[] = [ev('paid', 1000n), ev('refunded', 1000n), ev('disputed', 700n), ev('failed'), ev('expired'), ev('pending'), ev('paid', 1200n)];
    // every permutation of 5 of them
    const perms = (xs: MachineEvent[], k: number): MachineEvent[][] =>
      k === 0 ? [[]] : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)], k - 1).map((p) => [x, ...p]));
    for (const order of perms(kinds, 5)) {
      const r = run(order);
      expect(r.balance).toBeGreaterThanOrEqual(0n);
      expect(r.credits).toBeLessThanOrEqual(1200n);
      if (r.credits > 0n) expect(['succeeded', 'refunded']).toContain(r.s.status);
    }
  });
});
