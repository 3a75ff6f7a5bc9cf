/** The upstream pull gate: what it lets an image spend, from the quota Docker Hub reported and the run's own pulls. */
import { describe, expect, it } from 'vitest';
import { UpstreamPullGate } from '../../../lib/prewarm/quota.js';

const quota = (remaining: number) => ({ limit: 200, remaining, windowSeconds: 21_600 });
const HUB = 'docker-hub';

describe('UpstreamPullGate', () => {
  it('counts a pull that settled after the answer it is compared with (a HEAD answered before the pull, read after)', () => {
    const gate = new UpstreamPullGate(20, 100);
    gate.observe(HUB, quota(21)); // image A's HEAD
    expect(gate.tryReserve(HUB, 1)).toBeUndefined();
    gate.settle(HUB, 1, true); // A pulled: Docker Hub now has 20
    // Image B's HEAD was answered before A's pull and arrives after it: it still says 21.
    gate.observe(HUB, quota(21));
    expect(gate.state(HUB).remaining).toBe(20);
    expect(gate.tryReserve(HUB, 1)).toMatch(/20 pulls left; pulling needs 1 and 20 are kept in reserve/);
  });

  it('a later answer that shows others spending lowers what is left below the run’s own count', () => {
    const gate = new UpstreamPullGate(20, 100);
    gate.observe(HUB, quota(40));
    gate.tryReserve(HUB, 2);
    gate.settle(HUB, 2, true);
    gate.observe(HUB, quota(30)); // CI pulled 8 meanwhile
    expect(gate.state(HUB).remaining).toBe(30);
    expect(gate.tryReserve(HUB, 5)).toBeUndefined();
    expect(gate.state(HUB).remaining).toBe(25);
  });

  it.each<[string, number, boolean, number, number]>([
    ['a pull that happened, counted as its index’s children', 1, true, 3, 37],
    ['a pull that did not happen frees its reservation', 1, false, 1, 40],
    ['a reservation counts while in flight', 3, false, 3, 40],
  ])('%s', (_name, cost, spent, actual, remainingAfter) => {
    const gate = new UpstreamPullGate(20, 100);
    gate.observe(HUB, quota(40));
    gate.tryReserve(HUB, cost);
    expect(gate.state(HUB).remaining).toBe(40 - cost);
    gate.settle(HUB, cost, spent, actual);
    expect(gate.state(HUB).remaining).toBe(remainingAfter);
  });

  it('without quota headers (an unlimited account) only the run budget limits', () => {
    const gate = new UpstreamPullGate(20, 3);
    expect(gate.state(HUB).remaining).toBeUndefined();
    expect(gate.tryReserve(HUB, 2)).toBeUndefined();
    gate.settle(HUB, 2, true);
    expect(gate.tryReserve(HUB, 2)).toMatch(/run budget of 3/);
  });
});
