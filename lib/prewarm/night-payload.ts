/**
 * A fanned-out night's plan as it crosses the state machine (Step Functions carries 256 KiB between
 * states, and the report step receives the plan with every image's line).
 */
import { KeeperError } from '../runtime/errors.js';
import type { NightPlan } from './fanout.js';
import { type PackedRows, packRows, unpackRows } from './packed-rows.js';
import type { ImageResult } from './report.js';

/**
 * The plan as it crosses the state machine: its settled lines packed as columns (packed-rows.ts),
 * each with its place in `order` instead of its reference, without a cache reference the report
 * can rebuild from `cacheHost`, and with `cachedDigest: true` for "the same as upstreamDigest".
 * An unchanged night's lines are most of a big night's payload: 1,000 of them made 650 KB as
 * objects, where Step Functions carries 256 KiB.
 */
export interface NightPayload extends Omit<NightPlan, 'settled'> {
  settled: PackedRows;
}

export function nightPayload(plan: NightPlan): NightPayload {
  const at = new Map(plan.order.map((reference, i) => [reference, i]));
  const rows = plan.settled.map(({ reference, result }) => {
    const { cacheReference, cachedDigest, ...rest } = result;
    const place = at.get(reference);
    if (place === undefined) throw new KeeperError(`settled line ${reference} is not in the night's order`);
    return {
      at: place,
      ...rest,
      ...(plan.cacheHost && cacheReference === `${plan.cacheHost}/${reference}` ? {} : { cacheReference }),
      ...(cachedDigest === undefined
        ? {}
        : { cachedDigest: cachedDigest === rest.upstreamDigest || cachedDigest }),
    };
  });
  return { ...plan, settled: packRows(rows) };
}

/** The plan again, from what crossed the state machine; throws saying what does not fit. */
export function planFromPayload(payload: NightPayload): NightPlan {
  const settled = unpackRows(payload.settled).map((row) => {
    const { at, cacheReference, cachedDigest, ...rest } = row as Record<string, unknown> & {
      at: unknown;
      cachedDigest?: unknown;
    };
    const reference = typeof at === 'number' ? payload.order[at] : undefined;
    if (reference === undefined)
      throw new Error(`a settled line's place ${JSON.stringify(at)} is not in the order`);
    const line: Record<string, unknown> = {
      ...rest,
      cacheReference: cacheReference ?? (payload.cacheHost ? `${payload.cacheHost}/${reference}` : undefined),
      ...(cachedDigest === undefined
        ? {}
        : { cachedDigest: cachedDigest === true ? rest.upstreamDigest : cachedDigest }),
    };
    return { reference, result: line as unknown as ImageResult };
  });
  return { ...payload, settled };
}
