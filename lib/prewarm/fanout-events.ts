/**
 * The state machine's payloads, checked at each step's door: a step fed something else (a hand-made
 * StartExecution, an edited definition) is refused with the path of what is wrong, before any work.
 */
import * as z from 'zod/mini';
import { errorMessage, InvalidEventError } from '../runtime/errors.js';
import type { NightPlan, WarmCrash, WarmItem, WarmOutcome } from './fanout.js';
import { type NightPayload, planFromPayload } from './night-payload.js';

// zod/mini: the same checks as zod's, tree-shaken, so each function's bundle stays small.
const text = z.string().check(z.minLength(1));
const isoTime = z
  .string()
  .check(z.refine((s) => !Number.isNaN(Date.parse(s)), { message: 'an ISO 8601 time' }));

const wireLineShape = {
  status: z.enum([
    'warmed',
    'skipped',
    'deferred',
    'failed',
    'stale-pending',
    'unverified',
    'archived',
    'would-pull',
  ]),
  upstreamPulls: z.int().check(z.gte(0)),
  durationMs: z.number().check(z.gte(0)),
};
const line = z.looseObject({
  image: z.string(),
  cacheReference: z.string(),
  platforms: z.array(z.string()),
  ...wireLineShape,
});
const wireLine = z.looseObject(wireLineShape);

const planItemShape = {
  reference: text,
  image: text,
  platforms: z.array(text).check(z.minLength(1)),
  planned: z.enum(['pull', 'fill-layers']),
  pulledByPlan: z.optional(z.int().check(z.gte(0))),
};
/** Per upstream, the most platforms an index listed in the plan. */
const indexWidths = z.record(text, z.int().check(z.gte(1)));
const itemShape = {
  ...planItemShape,
  runId: text,
  layersVerifiedUntil: z.nullable(z.number()),
  // Optional: an execution started before the plan wrote it does not pass it.
  indexWidths: z.optional(indexWidths),
};
const item = z.strictObject(itemShape);

const rateLimit = z.looseObject({ limit: z.number(), remaining: z.number() });

const settledLines = z.array(z.strictObject({ reference: z.string(), result: line }));
const packedRows = z.strictObject({
  count: z.int().check(z.gte(0)),
  columns: z.record(
    text,
    z.strictObject({
      values: z.array(z.unknown()),
      rows: z.optional(z.array(z.int().check(z.gte(0)))),
      shared: z.optional(z.array(z.unknown())),
    }),
  ),
});

const planShape = {
  runId: text,
  startedAt: isoTime,
  mode: z.enum(['inline', 'fan-out']),
  order: z.array(z.string()),
  // Packed as it crosses the state machine (night-payload.ts); as lines from a plan of an older version.
  settled: z.union([settledLines, packedRows]),
  items: z.array(z.strictObject(planItemShape)),
  overflow: z.optional(
    z.array(z.strictObject({ reference: text, image: text, platforms: planItemShape.platforms })),
  ),
  layersVerifiedUntil: z.nullable(z.number()),
  // Optional for the report step: a plan from before the field existed does not carry it.
  indexWidths: z.optional(indexWidths),
  cacheHost: z.optional(z.string()),
  merged: z.optional(z.array(z.object({ image: z.string(), sameAs: z.string() }))),
  discovered: z.optional(
    z.object({
      images: z.array(z.string()),
      error: z.optional(z.string()),
      unreadable: z.optional(z.array(z.string())),
    }),
  ),
  dockerHub: z.optional(rateLimit),
  stoppedUpstream: z.optional(z.string()),
  upstreamPullsMeasured: z.optional(z.number()),
  leaseHeld: z.boolean(),
  lease: z.optional(
    z.object({ held: z.literal(false), by: z.optional(z.string()), unreadable: z.optional(z.string()) }),
  ),
};

const outcome = z.union([
  z.strictObject({ result: wireLine, dockerHub: z.optional(rateLimit) }),
  z.strictObject({
    ...itemShape,
    error: z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) }),
  }),
]);

const planEvent = z.strictObject({
  execution: z.string().check(z.minLength(1), z.maxLength(80)),
  startedAt: isoTime,
  input: z.unknown(),
  timeoutSeconds: z.int().check(z.gte(1)),
});

const reportEvent = z.strictObject({ ...planShape, outcomes: z.array(outcome) });

/** What is wrong, in words (zod/mini carries no message texts). */
function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_type':
      return `must be ${issue.expected === 'int' ? 'an integer' : `a(n) ${issue.expected}`}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'number'
        ? `must be at least ${issue.minimum}`
        : `must have at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'number'
        ? `must be at most ${issue.maximum}`
        : `must have at most ${issue.maximum}`;
    case 'invalid_union':
      return issue.path[0] === 'settled'
        ? 'is neither lines nor packed lines'
        : 'is neither an image result nor a failed item';
    default:
      return issue.message;
  }
}

function parse<T>(functionName: string, schema: z.ZodMiniType<T>, event: unknown): T {
  const parsed = schema.safeParse(event);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (i) => `${i.path.length ? `event.${i.path.join('.')}` : 'the event'}: ${describeIssue(i)}`,
  );
  throw new InvalidEventError(`${functionName}: ${problems.slice(0, 5).join('; ')}`);
}

export const parsePlanEvent = (event: unknown) => parse('prewarmPlan', planEvent, event);

export const parseWarmItem = (event: unknown): WarmItem => parse('warmImage', item, event) as WarmItem;

export function parseReportEvent(event: unknown): NightPlan & { outcomes: Array<WarmOutcome | WarmCrash> } {
  const packed = parse('prewarmReport', reportEvent, event);
  let settled: unknown;
  try {
    settled = Array.isArray(packed.settled)
      ? packed.settled
      : planFromPayload(packed as unknown as NightPayload).settled;
  } catch (error) {
    throw new InvalidEventError(`prewarmReport: event.settled: ${errorMessage(error)}`);
  }
  // The lines out of their columns are checked as lines.
  const parsed = {
    ...packed,
    settled: parse('prewarmReport', z.object({ settled: settledLines }), { settled }).settled,
  };
  if (parsed.outcomes.length !== parsed.items.length)
    throw new InvalidEventError(
      `prewarmReport: event.outcomes has ${parsed.outcomes.length} entries for ${parsed.items.length} items (the Map answers once per item)`,
    );
  return parsed as NightPlan & { outcomes: Array<WarmOutcome | WarmCrash> };
}
