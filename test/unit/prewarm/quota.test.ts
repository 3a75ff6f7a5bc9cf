/** The upstream pull gate: what it lets an image spend, from the quota Docker Hub reported and the run's own pulls. */
import { describe, expect, it } from 'vitest';
import { quotaLeft, UpstreamPullGate } from '../../../lib/prewarm/quota.js';

const quota = (remaining: number) => ({ limit: 200, remaining, windowSeconds: 21_600 });
const HUB = 'docker-hub';

describe('UpstreamPullGate', () => {
  it('an answer sent before one of the run’s pulls and read after it does not give that pull back', () => {
    const gate = new UpstreamPullGate(20, 100);
    gate.observe(HUB, quota(21), gate.sendMark(HUB)); // image A's HEAD
    const bSent = gate.sendMark(HUB); // image B's HEAD leaves
    expect(gate.tryReserve(HUB, 1)).toBeUndefined();
    gate.settle(HUB, 1, true); // A pulled: Docker Hub now has 20
    gate.observe(HUB, quota(21), bSent); // B's answer, handled before A's pull
    expect(gate.state(HUB).remaining).toBe(20);
    expect(gate.tryReserve(HUB, 1)).toMatch(/20 pulls left; pulling needs 1 and 20 are kept in reserve/);
  });

  it('an answer sent after a pull shows what Docker Hub counted for it (fewer than the run counted)', () => {
    const gate = new UpstreamPullGate(20, 100);
    gate.observe(HUB, quota(40), gate.sendMark(HUB));
    gate.tryReserve(HUB, 3);
    gate.settle(HUB, 3, true, 3); // an index of 3 counted as 3; Docker Hub counted 1
    expect(gate.state(HUB).remaining).toBe(37);
    gate.observe(HUB, quota(39), gate.sendMark(HUB));
    expect(gate.state(HUB).remaining).toBe(39);
  });

  it.each<[string, number, number, number | undefined]>([
    ['the counter fell by what the run spent', 40, 37, 3],
    ['by less (an index counted at all its children, Docker Hub counting fewer)', 40, 38, 2],
    // CI pulled 197 through the account meanwhile: the drop is not this run's, the estimate stands.
    ['by more than the run could have spent: others used the account meanwhile', 200, 0, undefined],
  ])('measured spend: %s', (_name, before, after, measured) => {
    const gate = new UpstreamPullGate(0, 100);
    gate.observe(HUB, quota(before), gate.sendMark(HUB));
    gate.tryReserve(HUB, 3);
    gate.settle(HUB, 3, true);
    gate.observe(HUB, quota(after), gate.sendMark(HUB));
    expect(gate.measuredSpend(HUB)).toBe(measured);
  });

  it('an older answer arriving last does not replace a newer one', () => {
    const gate = new UpstreamPullGate(20, 100);
    const early = gate.sendMark(HUB);
    gate.tryReserve(HUB, 2);
    gate.settle(HUB, 2, true);
    gate.observe(HUB, quota(30), gate.sendMark(HUB)); // sent after the pulls: CI spent 8 meanwhile
    gate.observe(HUB, quota(40), early); // sent before them, arrives last
    expect(gate.state(HUB).remaining).toBe(30);
    expect(gate.quota(HUB)?.remaining).toBe(30);
  });

  it.each<[string, number, boolean, number, number]>([
    ['a pull that happened, counted as its index’s children', 1, true, 3, 37],
    ['a pull that did not happen frees its reservation', 1, false, 1, 40],
    ['a reservation counts while in flight', 3, false, 3, 40],
  ])('%s', (_name, cost, spent, actual, remainingAfter) => {
    const gate = new UpstreamPullGate(20, 100);
    gate.observe(HUB, quota(40), gate.sendMark(HUB));
    gate.tryReserve(HUB, cost);
    expect(gate.state(HUB).remaining).toBe(40 - cost);
    gate.settle(HUB, cost, spent, actual);
    expect(gate.state(HUB).remaining).toBe(remainingAfter);
  });

  it('without quota headers (an unlimited account) only the run budget limits', () => {
    const gate = new UpstreamPullGate(20, 3);
    gate.observe(HUB, undefined, gate.sendMark(HUB));
    expect(gate.state(HUB).remaining).toBeUndefined();
    expect(gate.tryReserve(HUB, 2)).toBeUndefined();
    gate.settle(HUB, 2, true);
    expect(gate.tryReserve(HUB, 2)).toMatch(/run budget of 3/);
  });

  // first: the run's first answer; last: the answer sent last, with the pulls settled when it left.
  it.each<[string, number, [number, number], number, number]>([
    ['nothing pulled yet', 40, [40, 0], 0, 40],
    ['answer sent after the pull: Docker Hub’s count stands (1 counted, 3 settled)', 40, [39, 3], 3, 39],
    ['answer sent before the pull, handled before it: the pull is subtracted', 21, [21, 0], 1, 20],
    ['answer sent before the pull, handled after it: not subtracted twice', 27, [24, 0], 3, 24],
    ['others spent meanwhile: the last answer shows it', 40, [30, 2], 2, 30],
  ])('quotaLeft: %s', (_name, first, [last, spentAtSend], spentNow, left) => {
    expect(
      quotaLeft({ rateLimit: quota(last), sent: { order: 2, spent: spentAtSend } }, quota(first), spentNow),
    ).toBe(left);
  });
});
