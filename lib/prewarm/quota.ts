/**
 * Upstream pulls are the scarce resource. The gate lets an image spend pulls only while the
 * account keeps its reserve and the run stays within its budget, and answers with the reason when
 * it says no. What is left comes from Docker Hub's `ratelimit-remaining`, true when the request was
 * handled: answers arrive out of order, so each is taken with how many pulls this run had settled
 * when its request was sent. The answer to the request sent last counts (`quotaLeft`), less the
 * pulls in flight: an answer sent before one of this run's pulls never gives that pull back, and
 * one sent after it shows what Docker Hub really counted.
 */
import type { RateLimit } from '../registry/rate-limit.js';
import { type GateState, quotaRefusal } from './decide.js';

/** When a request was sent: its place in the run's sends, and the pulls this run had settled then. */
export interface SendMark {
  order: number;
  spent: number;
}

export class UpstreamPullGate {
  /** Per upstream, the answer to the request sent last, with its send mark. */
  private readonly quotas = new Map<string, { rateLimit: RateLimit; sent: SendMark }>();
  private sends = 0;
  private readonly firstSeen = new Map<string, RateLimit>();
  /** Upstreams whose quota no longer measures this run alone (a 429 showed others spend too). */
  private readonly frozen = new Set<string>();
  private readonly inFlight = new Map<string, number>();
  /** Pulls this run settled as spent per upstream. */
  private readonly spentOn = new Map<string, number>();
  /** Pulls estimated as spent so far in this run. */
  spent = 0;
  private reserved = 0;

  constructor(
    private readonly reserve: number,
    private readonly budget: number,
  ) {}

  /** Take before sending a request whose answer may carry the quota; give it to `observe`. */
  sendMark(upstream: string): SendMark {
    return { order: ++this.sends, spent: this.spentOn.get(upstream) ?? 0 };
  }

  /**
   * Records the quota an upstream answer carried (HEADs are free and carry it on Docker Hub), with
   * the `sendMark` taken when its request was sent.
   */
  observe(upstream: string, rateLimit: RateLimit | undefined, sent: SendMark): void {
    if (!rateLimit) return;
    if (!this.firstSeen.has(upstream)) this.firstSeen.set(upstream, rateLimit);
    const current = this.quotas.get(upstream);
    if (!current || sent.order > current.sent.order) this.quotas.set(upstream, { rateLimit, sent });
  }

  /**
   * After a 429 the quota also reflects other clients of the account (they emptied it), and with
   * pulls in flight at once no earlier answer is known to follow all of this run's: the run's own
   * count (`spent`) stands instead.
   */
  freezeMeasurement(upstream: string): void {
    this.frozen.add(upstream);
  }

  quota(upstream: string): RateLimit | undefined {
    return this.quotas.get(upstream)?.rateLimit;
  }

  /** Pulls consumed on this upstream's account between the first and the latest answer, while only this run counts. */
  measuredSpend(upstream: string): number | undefined {
    if (this.frozen.has(upstream)) return undefined;
    const first = this.firstSeen.get(upstream);
    const last = this.quota(upstream);
    if (!first || !last) return undefined;
    const drop = Math.max(0, first.remaining - last.remaining);
    // Every pull is counted at the most it may cost, so a larger drop is others' (CI pulling through
    // the same account meanwhile): it does not measure this run, and the run's own count stands.
    return drop <= (this.spentOn.get(upstream) ?? 0) ? drop : undefined;
  }

  /** The state the decision reads (lib/prewarm/decide.ts), for this upstream, now. */
  state(upstream: string): GateState {
    const latest = this.quotas.get(upstream);
    const first = this.firstSeen.get(upstream);
    const inFlight = this.inFlight.get(upstream) ?? 0;
    return {
      budget: this.budget,
      budgetLeft: this.budget - this.spent - this.reserved,
      reserve: this.reserve,
      ...(latest && first
        ? { remaining: quotaLeft(latest, first, this.spentOn.get(upstream) ?? 0) - inFlight }
        : {}),
    };
  }

  /**
   * Reserves `cost` pulls, or returns why not. Call it in the same synchronous turn as the decision
   * that read `state`, so no other image's reservation slips in between.
   */
  tryReserve(upstream: string, cost: number): string | undefined {
    const refusal = quotaRefusal(this.state(upstream), cost);
    if (refusal) return refusal;
    this.inFlight.set(upstream, (this.inFlight.get(upstream) ?? 0) + cost);
    this.reserved += cost;
    return undefined;
  }

  /**
   * Ends a reservation of `cost`; `spent` says whether the pulls happened, and `actual` how many,
   * once the manifest showed more than the reservation assumed (an index's children).
   */
  settle(upstream: string, cost: number, spent: boolean, actual = cost): void {
    this.inFlight.set(upstream, Math.max(0, (this.inFlight.get(upstream) ?? 0) - cost));
    this.reserved -= cost;
    if (!spent) return;
    this.spent += actual;
    this.spentOn.set(upstream, (this.spentOn.get(upstream) ?? 0) + actual);
  }
}

/**
 * Pure: what is left, from the answer to the request sent last and the run's first answer. Two
 * readings, neither above the truth as far as this run's own pulls go: the last answer less every
 * pull settled since its request left (it may count some already), and the last answer capped by the
 * first less every pull of the run (the first was handled before any: no pull starts before an answer
 * has come back). The higher is the closer.
 */
export function quotaLeft(
  latest: { rateLimit: RateLimit; sent: SendMark },
  first: RateLimit,
  spentNow: number,
): number {
  const last = latest.rateLimit.remaining;
  return Math.max(last - (spentNow - latest.sent.spent), Math.min(last, first.remaining - spentNow));
}
