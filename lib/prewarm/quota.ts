/**
 * Upstream pulls are the scarce resource. The gate lets an image spend pulls only while the
 * account keeps its reserve (from the latest `ratelimit-remaining`, minus pulls in flight) and
 * the run stays within its budget. It answers with the reason when it says no.
 */
import type { RateLimit } from '../registry/rate-limit.js';

export class UpstreamPullGate {
  private readonly quotas = new Map<string, RateLimit>();
  private readonly firstSeen = new Map<string, RateLimit>();
  private readonly inFlight = new Map<string, number>();
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

  quota(upstream: string): RateLimit | undefined {
    return this.quotas.get(upstream);
  }

  /** Pulls consumed on this upstream's account between the first and the latest answer. */
  measuredSpend(upstream: string): number | undefined {
    const first = this.firstSeen.get(upstream);
    const last = this.quotas.get(upstream);
    return first && last ? Math.max(0, first.remaining - last.remaining) : undefined;
  }

  /** Reserves `cost` pulls, or returns why not. */
  tryReserve(upstream: string, cost: number): string | undefined {
    if (this.spent + this.reserved + cost > this.budget) {
      return `run budget of ${this.budget} upstream pulls reached (maxUpstreamPullsPerRun)`;
    }
    const quota = this.quotas.get(upstream);
    const inFlight = this.inFlight.get(upstream) ?? 0;
    if (quota && quota.remaining - inFlight - cost < this.reserve) {
      return `Docker Hub has ${quota.remaining - inFlight} pulls left; pulling needs ${cost} and ${this.reserve} are kept in reserve for CI (reserveUpstreamPulls)`;
    }
    this.inFlight.set(upstream, inFlight + cost);
    this.reserved += cost;
    return undefined;
  }

  /** Ends a reservation; `spent` says whether the pulls happened. */
  settle(upstream: string, cost: number, spent: boolean): void {
    this.inFlight.set(upstream, Math.max(0, (this.inFlight.get(upstream) ?? 0) - cost));
    this.reserved -= cost;
    if (spent) this.spent += cost;
  }
}
