import { describe, expect, it } from 'vitest';
import { FairGate, fairnessKey, type GateKey, type Ticket } from '../../src/domain/fair-gate.js';

const key = (endpoint: string, app: string, max = 3): GateKey => ({ endpoint, app, max });

function admitAll(gate: FairGate, k: GateKey, n: number, prefix: string): { tickets: Ticket[]; refused: string[] } {
  const tickets: Ticket[] = [];
  const refused: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = gate.admit(k, `${prefix}${i}`);
    if (a.ok) tickets.push(a.ticket);
    else refused.push(a.reason);
  }
  return { tickets, refused };
}

describe('FairGate', () => {
  it('bounds attempts in flight per endpoint and wakes the first waiter in line when one ends', () => {
    const gate = new FairGate({ capacity: 100 });
    const k = key('wh_1', 'app_A', 2);
    const { tickets, refused } = admitAll(gate, k, 3, 'd');
    expect(tickets).toHaveLength(2);
    expect(refused).toEqual(['endpoint_in_flight']);
    const woken: string[] = [];
    gate.wait(k, 'd2', () => woken.push('d2'));
    gate.wait(k, 'd3', () => woken.push('d3'));
    expect(woken).toEqual([]);
    gate.release(tickets[0], 'answered', false);
    expect(woken).toEqual(['d2']);
    // The woken one's place is reserved: a newcomer does not take it, the woken one does.
    expect(gate.admit(k, 'd9').ok).toBe(false);
    expect(gate.admit(k, 'd2').ok).toBe(true);
    expect(gate.stats()).toMatchObject({ inFlight: 2, waiting: 1, reserved: 0 });
  });

  it('halves an endpoint bound on each timeout down to 1, and grows it back by one per answer', () => {
    const gate = new FairGate({ capacity: 100 });
    const k = key('wh_1', 'app_A', 8);
    // Slow start: 4 at first, one more per answer up to the max.
    expect(gate.line('wh_1').limit).toBe(0);
    expect(admitAll(gate, k, 8, 'ss-').tickets).toHaveLength(4);
    expect(gate.line('wh_1').limit).toBe(4);
    for (let i = 0; i < 4; i++) gate.release({ key: k, released: false }, 'answered', false);
    expect(gate.line('wh_1').limit).toBe(8);
    for (let round = 0; round < 4; round++) {
      const { tickets } = admitAll(gate, k, 8, `r${round}-`);
      for (const t of tickets) gate.release(t, 'timeout', true);
    }
    expect(gate.line('wh_1').limit).toBe(1);
    expect(gate.isSlow('wh_1')).toBe(true);
    for (let i = 0; i < 3; i++) {
      const a = gate.admit(k, `ok${i}`);
      expect(a.ok).toBe(true);
      if (a.ok) gate.release(a.ticket, 'answered', false);
    }
    expect(gate.line('wh_1').limit).toBe(4);
    expect(gate.isSlow('wh_1')).toBe(false);
  });

  it("keeps room for a newcomer: one application's share leaves the rest of the capacity to others", () => {
    const gate = new FairGate({ capacity: 100 });
    // Application A alone, with many endpoints: it gets half the capacity, never all of it.
    let admitted = 0;
    for (let e = 0; e < 50; e++) admitted += admitAll(gate, key(`wh_A${e}`, 'app_A', 20), 20, `a${e}-`).tickets.length;
    expect(admitted).toBe(50);
    expect(gate.admit(key('wh_A99', 'app_A', 20), 'x').ok).toBe(false);
    // B arrives: it is admitted at once, up to its own share (over 20 endpoints: each starts with 4 in flight).
    let bAdmitted = 0;
    const bRefused: string[] = [];
    for (let e = 0; e < 20; e++) {
      const r = admitAll(gate, key(`wh_B${e}`, 'app_B', 100), 4, `b${e}-`);
      bAdmitted += r.tickets.length;
      bRefused.push(...r.refused);
    }
    expect(bAdmitted).toBe(Math.floor(100 / 3));
    expect(bRefused[0]).toBe('application_share');
    // Total capacity is never exceeded.
    expect(gate.stats().inFlight).toBeLessThanOrEqual(100);
  });

  it('refuses at worker capacity and wakes waiters of other endpoints in turn', () => {
    const gate = new FairGate({ capacity: 4 });
    const held: Ticket[] = [];
    for (const app of ['A', 'B', 'C', 'D']) {
      const a = gate.admit(key(`wh_${app}`, `app_${app}`, 5), `d${app}`);
      if (a.ok) held.push(a.ticket);
    }
    expect(held).toHaveLength(4);
    const refused = gate.admit(key('wh_E', 'app_E', 5), 'dE');
    expect(refused).toEqual({ ok: false, reason: 'worker_capacity' });
    const woken: string[] = [];
    gate.wait(key('wh_E', 'app_E', 5), 'dE', () => woken.push('dE'));
    gate.release(held[0], 'answered', false);
    expect(woken).toEqual(['dE']);
  });

  it('forget() takes a cancelled waiter out of line and gives back a reserved place', () => {
    const gate = new FairGate({ capacity: 10, reserveMs: 60_000 });
    const k = key('wh_1', 'app_A', 1);
    const a = gate.admit(k, 'd1');
    expect(a.ok).toBe(true);
    const woken: string[] = [];
    gate.wait(k, 'd2', () => woken.push('d2'));
    gate.wait(k, 'd3', () => woken.push('d3'));
    gate.forget('d2');
    if (a.ok) gate.release(a.ticket, 'answered', false);
    expect(woken).toEqual(['d3']);
    // d3 is cancelled before it comes: its reserved place goes back at once, not after the reservation runs out.
    gate.forget('d3');
    expect(gate.stats()).toMatchObject({ inFlight: 0, reserved: 0, waiting: 0 });
  });

  it('a reservation not claimed in time is given back and the next waiter woken', async () => {
    const gate = new FairGate({ capacity: 10, reserveMs: 30 });
    const k = key('wh_1', 'app_A', 1);
    const a = gate.admit(k, 'd1');
    const woken: string[] = [];
    gate.wait(k, 'd2', () => woken.push('d2'));
    gate.wait(k, 'd3', () => woken.push('d3'));
    if (a.ok) gate.release(a.ticket, 'answered', false);
    expect(woken).toEqual(['d2']);
    await new Promise((r) => setTimeout(r, 80));
    expect(woken).toEqual(['d2', 'd3']);
  });

  it('a waiter first in line whose wake-up was lost is let through when its backstop brings it back', () => {
    const gate = new FairGate({ capacity: 10, reserveMs: 60_000 });
    const k = key('wh_1', 'app_A', 1);
    const a = gate.admit(k, 'd1');
    gate.wait(k, 'd2', () => {});
    gate.wait(k, 'd3', () => {});
    // d1 ends while no wake-up reaches d2 … d2 was woken and reserved; a newcomer is still refused.
    if (a.ok) gate.release(a.ticket, 'answered', false);
    expect(gate.admit(k, 'd9').ok).toBe(false);
    expect(gate.admit(k, 'd2').ok).toBe(true);
    // And without a reservation: d3 first in line, the endpoint free again, comes back by its backstop.
    const g2 = new FairGate({ capacity: 10 });
    const b = g2.admit(k, 'e1');
    g2.wait(k, 'e2', () => {});
    g2.forget('e1');
    if (b.ok) b.ticket.released = true; // as if it ended without the gate hearing of it (no wake-up)
    (g2 as unknown as { give(k: GateKey): void }).give(k);
    expect(g2.admit(k, 'e2').ok).toBe(true);
    expect(g2.stats().waiting).toBe(0);
  });

  it("a place freed by a slow endpoint of an application at its share may go to a sibling, not back to the slow one's line", () => {
    const gate = new FairGate({ capacity: 8 });
    // B keeps one attempt in flight, so A's share is 8 / 3 = 2.
    expect(gate.admit(key('wh_B', 'app_B', 5), 'b1').ok).toBe(true);
    const slow = key('wh_slow', 'app_A', 5);
    const s1 = gate.admit(slow, 's1');
    const s2 = gate.admit(slow, 's2');
    expect(gate.admit(slow, 's3')).toEqual({ ok: false, reason: 'application_share' });
    const woken: string[] = [];
    gate.wait(slow, 's3', () => woken.push('s3'));
    const sibling = key('wh_ok', 'app_A', 5);
    expect(gate.admit(sibling, 'h1')).toEqual({ ok: false, reason: 'application_share' });
    gate.wait(sibling, 'h1', () => woken.push('h1'));
    // The slow endpoint's attempts end one by one: the places go in turn, the sibling's waiter gets one.
    if (s1.ok) gate.release(s1.ticket, 'timeout', true);
    if (s2.ok) gate.release(s2.ticket, 'timeout', true);
    expect(woken).toContain('h1');
  });

  it('the fairness key is the application, or the organization for its own webhooks', () => {
    expect(fairnessKey('org_1', 'app_1')).toBe('app_1');
    expect(fairnessKey('org_1', null)).toBe('org:org_1');
  });
});
