/**
 * Upstream pulls are the scarce resource. The gate lets an image spend pulls only while the
 * account keeps its reserve and the run stays within its budget, and answers with the reason when
 * it says no. What is left is the lower of the latest `ratelimit-remaining` and the first one minus
 * this run's own pulls, less the pulls in flight: answers arrive out of order, so a HEAD answered
 * before one of this run's pulls can be read after that pull, and must not give its pulls back.
 */
import type { RateLimit } from '../registry/rate-limit.js';
import { type GateState, quotaRefusal } from './decide.js';

export class UpstreamPullGate {
  private readonly quotas = new Map<string, RateLimit>();
  private readonly firstSeen = new Map<string, RateLimit>();
  /** Upstreams whose quota no longer measures this run alone (a 429 showed others spend too). */
  private readonly frozen = new Set<string>();
  private readonly inFlight = new Map<string, number>();
  /** Pulls this run spent per upstream, to hold against the first quota it saw there. */
  private readonly spentOn = new Map<string, number>();
  /** Pulls estimated as spent so far in this run. */
  spent = 0;
  private reserved = 0;

  constructor(
    private readonly reserve: number,
    private readonly budget: number,
  ) {}

  /** Records the quota an upstream answer carried (HEADs are free and carry it on Docker Hub). */
  observe(upstream: string, rateLimit: RateLimit | undefined): void {
    if (!rateLimit) return;
    if (!this.firstSeen.has(upstream)) this.firstSeen.set(upstream, rateLimit);
    this.quotas.set(upstream, rateLimit);
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
    return this.quotas.get(upstream);
  }

  /** Pulls consumed on this upstream's account between the first and the latest answer, while only this run counts. */
  measuredSpend(upstream: string): number | undefined {
    if (this.frozen.has(upstream)) return undefined;
    const first = this.firstSeen.get(upstream);
    const last = this.quotas.get(upstream);
    return first && last ? Math.max(0, first.remaining - last.remaining) : undefined;
  }

  /** The state the decision reads (lib/prewarm/decide.ts), for this upstream, now. */
  state(upstream: string): GateState {
    const latest = this.quotas.get(upstream);
    const first = this.firstSeen.get(upstream);
    const inFlight = this.inFlight.get(upstream) ?? 0;
    const left =
      latest && first
        ? Math.min(latest.remaining, first.remaining - (this.spentOn.get(upstream) ?? 0))
        : undefined;
    return {
      budget: this.budget,
      budgetLeft: this.budget - this.spent - this.reserved,
      reserve: this.reserve,
      ...(left !== undefined ? { remaining: left - inFlight } : {}),
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
