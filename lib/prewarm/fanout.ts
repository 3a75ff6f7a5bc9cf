/**
 * The night fanned out over Step Functions (deploy/state-machine.cjs): a plan step, a Map of
 * warmImage over the images to pull or fill, a report step. The plan makes the free checks and the
 * Docker Hub quota decision once, for the whole night (a dry run of the same code as a single run,
 * which pulls the first new multi-platform image to learn how wide such images are), so the workers
 * never share a counter; each worker runs the same code on one image; the report
 * step puts the night back together in the night's order, as the single run reports it. A night
 * with few images to transfer is warmed by the plan step itself: one invocation.
 *
 * The plan holds the one-night-at-a-time lease for the whole execution and the report step releases
 * it and records the night's marks; a crashed execution's lease expires with the execution.
 */
import { cacheRepositoryName, resolveImage } from '../config/images.js';
import type { PrewarmImage } from '../config/load.js';
import type { RateLimit } from '../registry/rate-limit.js';
import { errorMessage, InvalidEventError } from '../runtime/errors.js';
import { IndexWidths } from './index-width.js';
import {
  coversNight,
  everyImageWhole,
  LAYERS_RECEIVED_TAG,
  LAYERS_VERIFIED_TAG,
  parseReceivedMark,
  parseVerifiedMark,
} from './layer-audit.js';
import { leaseNotHeld, leaseRefusal, releaseLease, takeLease } from './lease.js';
import { nightPayload } from './night-payload.js';
import { nextResume, RESUME_TAG, resumeOrder } from './order.js';
import {
  countStatuses,
  type ImageResult,
  type ImageStatus,
  notStartedLine,
  type PrewarmReport,
} from './report.js';
import {
  imageReference,
  type PrewarmDeps,
  PULLED_BY_PLAN,
  prewarmStateSecret,
  receivedMark,
  recordNight,
  runPrewarm,
} from './run.js';

/**
 * One image for warmImage, as the plan lists it: small, since Step Functions carries at most
 * 256 KiB between states (the image as written, resolved again by warmImage).
 */
export interface PlanItem {
  /** `docker-hub/library/node:22`: the image's place in the night. */
  reference: string;
  /** As written in the config, the event or by discovery. */
  image: string;
  platforms: string[];
  planned: 'pull' | 'fill-layers';
  /** Docker Hub pulls the plan spent on this image itself (learnIndexWidths); a worker fills its layers. */
  pulledByPlan?: number;
}

/** An image the payload could not carry: what its deferred line needs, and no more. */
export type OverflowItem = Pick<PlanItem, 'reference' | 'image' | 'platforms'>;

/** One warmImage invocation: the plan's item with the night's run id, layer mark and index widths (the Map's ItemSelector). */
export interface WarmItem extends PlanItem {
  runId: string;
  layersVerifiedUntil: number | null;
  /** NightPlan.indexWidths; absent in an execution started before the plan wrote it. */
  indexWidths?: Record<string, number>;
}

/**
 * An image's line as warmImage sends it back: without what the report knows from the plan (the
 * image, its platforms, its cache reference) or can restore (a digest given twice), since every
 * byte counts against Step Functions' 256 KiB.
 */
export type WireLine = Omit<ImageResult, 'image' | 'platforms' | 'cacheReference'>;

/** What warmImage returns: its image's line of the report, and the quota it last saw. */
export interface WarmOutcome {
  result: WireLine;
  dockerHub?: RateLimit;
}

/**
 * A Map iteration that failed as a whole (the function crashed or timed out): its item, with the
 * error Step Functions caught (the Catch's ResultPath `$.error`).
 */
export interface WarmCrash extends WarmItem {
  error: { Error?: string; Cause?: string };
}

export interface NightPlan {
  runId: string;
  startedAt: string;
  mode: 'inline' | 'fan-out';
  /** Every image of the night, in its order (cache references), for the report. */
  order: string[];
  /** Lines that are final already: unchanged, failed or deferred at the check, or warmed inline. */
  settled: Array<{ reference: string; result: ImageResult }>;
  /** One warmImage each. */
  items: PlanItem[];
  /** Images to pull the night's payload could not carry (fitPayload): deferred, first in line tomorrow. */
  overflow?: OverflowItem[];
  /** The layer mark the night started from (layer-audit.ts), for every warmImage. */
  layersVerifiedUntil: number | null;
  /**
   * Per upstream (its rule's prefix), the most platforms an index listed in the plan, for every
   * warmImage: what a new multi-platform image may cost, for the worker's own check against the
   * reserve (CI may have pulled since the plan). Once for the night, not per item: bytes count.
   */
  indexWidths: Record<string, number>;
  /** The cache's registry host, for the cache references of warmImage's lines. */
  cacheHost?: string;
  merged?: PrewarmReport['merged'];
  discovered?: PrewarmReport['discovered'];
  dockerHub?: RateLimit;
  stoppedUpstream?: string;
  upstreamPullsMeasured?: number;
  /** Whether this execution holds the lease (and so records the marks and releases it). */
  leaseHeld: boolean;
  lease?: PrewarmReport['lease'];
}

export interface PlanDeps extends PrewarmDeps {
  /** The execution's name: the lease holder, and every item's run id. */
  runId: string;
  /** When the execution must be over: the lease expires then, whatever happens. */
  executionDeadline: number;
}

/** The plan step. Spends nothing unless the night is small enough to be warmed right here. */
export async function planNight(images: PrewarmImage[], deps: PlanDeps): Promise<NightPlan> {
  const now = deps.now ?? (() => Date.now());
  const startedAt = new Date(now()).toISOString();
  const { config } = deps;
  const secret = prewarmStateSecret(config);
  let tags: Record<string, string> = {};
  if (secret) {
    const lease = await takeLease(deps.secrets, secret, {
      id: deps.runId,
      until: deps.executionDeadline,
      now,
    });
    if (!lease.acquired) {
      const reason = leaseRefusal(lease);
      return {
        runId: deps.runId,
        startedAt,
        mode: 'inline',
        order: images.map(imageReference),
        settled: images.map((image) => ({
          reference: imageReference(image),
          result: notStartedLine(image, cacheRepositoryName(image), reason),
        })),
        items: [],
        layersVerifiedUntil: null,
        indexWidths: {},
        leaseHeld: false,
        lease: leaseNotHeld(lease),
      };
    }
    tags = lease.tags;
  }
  const layersVerifiedUntil =
    config.prewarm.mode === 'full' ? parseVerifiedMark(tags[LAYERS_VERIFIED_TAG]) : undefined;
  const layersReceived =
    config.prewarm.mode === 'full' ? parseReceivedMark(tags[LAYERS_RECEIVED_TAG]) : undefined;
  const ordered = resumeOrder(images, tags[RESUME_TAG], imageReference);
  const byOriginal = new Map(ordered.map((image) => [image.original, image]));

  // The free checks and the quota decision for the whole night: a dry run of the single run's code.
  // Workers run at once and cannot learn from each other how many platforms a new image's index
  // has (each may cost a pull): the first such image per upstream is pulled here, so the rest are
  // held to the reserve at the width it showed.
  const indexWidths = new IndexWidths();
  const checked = await runPrewarm(ordered, {
    ...deps,
    dryRun: true,
    learnIndexWidths: true,
    indexWidths,
    layersVerifiedUntil,
    layersReceived,
  });
  // The dry run answers one line per distinct image, in the night's order.
  const lines = checked.images.map((result) => ({
    result,
    image: byOriginal.get(result.image)!,
    reference: imageReference(byOriginal.get(result.image)!),
  }));
  const settled = lines
    .filter((l) => !l.result.planned)
    .map(({ reference, result }) => ({ reference, result }));
  const order = lines.map((l) => l.reference);
  const plan: NightPlan = {
    runId: deps.runId,
    startedAt,
    mode: 'fan-out',
    order,
    settled,
    items: lines
      .filter((l) => l.result.planned)
      .map((l) => ({
        reference: l.reference,
        image: l.image.original,
        platforms: l.image.platforms,
        planned: l.result.planned!,
        ...(l.result.status === 'warmed' ? { pulledByPlan: l.result.upstreamPulls } : {}),
      })),
    layersVerifiedUntil: layersVerifiedUntil ?? null,
    indexWidths: indexWidths.known(),
    ...registryHostOf(lines),
    ...(checked.merged ? { merged: checked.merged } : {}),
    ...(checked.dockerHub ? { dockerHub: checked.dockerHub } : {}),
    ...(checked.stoppedUpstream ? { stoppedUpstream: checked.stoppedUpstream } : {}),
    leaseHeld: secret !== undefined,
  };
  if (plan.items.length > config.prewarm.fanOut.minImages) return fitPayload(plan);

  // A small night: the same code, here, in this one invocation.
  const warmed = await runPrewarm(
    lines.filter((l) => l.result.planned).map((l) => l.image),
    { ...deps, coordinated: true, layersVerifiedUntil, layersReceived, indexWidths },
  );
  return {
    ...plan,
    mode: 'inline',
    settled: [
      ...settled,
      ...plan.items.map((item, i) => ({
        reference: item.reference,
        result: withPlanPull(warmed.images[i]!, item.pulledByPlan),
      })),
    ],
    items: [],
    ...(warmed.dockerHub ? { dockerHub: warmed.dockerHub } : {}),
    ...(warmed.stoppedUpstream ? { stoppedUpstream: warmed.stoppedUpstream } : {}),
    // The plan's own pulls (to learn an index's width) were measured by its quota answers, not this run's.
    ...(warmed.upstreamPulls.measured !== undefined && checked.upstreamPulls.measured !== undefined
      ? { upstreamPullsMeasured: checked.upstreamPulls.measured + warmed.upstreamPulls.measured }
      : {}),
  };
}

/**
 * Pure: the line of an image the plan pulled itself (to learn its index's width), once a worker or
 * the plan's own run has filled its layers: the pulls are the plan's, the rest what was done after.
 */
export function withPlanPull<Line extends Pick<ImageResult, 'status' | 'reason' | 'upstreamPulls'>>(
  line: Line,
  pulledByPlan: number | undefined,
): Line {
  if (pulledByPlan === undefined) return line;
  // What came after, without the "unchanged" the re-check found (the plan had just pulled it).
  const after = line.reason?.replace(/^unchanged(; )?/, '');
  return {
    ...line,
    // Found whole (nothing to fill) is still the night's pull.
    status: line.status === 'skipped' ? 'warmed' : line.status,
    upstreamPulls: line.upstreamPulls + pulledByPlan,
    reason: after ? `${PULLED_BY_PLAN}; then ${after}` : PULLED_BY_PLAN,
  };
}

/**
 * What a worker's line coming back adds for its image, at most (the longest line a worker sends,
 * with Docker Hub's quota, measured and rounded up).
 */
export const RETURNED_LINE_BYTES = 320;
/** Step Functions' 256 KiB, less room for the state's own fields. */
export const PAYLOAD_BUDGET_BYTES = 240 * 1024;

/**
 * Pure: the plan with as many items as the night's payload can carry back to the report; the rest
 * deferred (`overflow`: a few bytes each, their lines written by the report step), and first in
 * line the next night (order.ts), instead of failing the whole execution. What is carried is
 * measured: the plan as the Map passes it on, and a returned line for each item.
 */
export function fitPayload(plan: NightPlan): NightPlan {
  // Only the items and the overflow change with the split: the settled lines are packed once.
  const packed = nightPayload(plan);
  const carried = (p: NightPlan) =>
    Buffer.byteLength(JSON.stringify({ ...packed, items: p.items, overflow: p.overflow })) +
    p.items.length * RETURNED_LINE_BYTES;
  if (carried(plan) <= PAYLOAD_BUDGET_BYTES) return plan;
  // The most items that fit: one more never costs less, so a binary search finds it.
  let fits = 0;
  let over = plan.items.length;
  while (over - fits > 1) {
    const mid = Math.floor((fits + over) / 2);
    if (carried(overflowFrom(plan, mid)) <= PAYLOAD_BUDGET_BYTES) fits = mid;
    else over = mid;
  }
  return overflowFrom(plan, fits);
}

function overflowFrom(plan: NightPlan, fits: number): NightPlan {
  return {
    ...plan,
    items: plan.items.slice(0, fits),
    overflow: [
      ...(plan.overflow ?? []),
      ...plan.items.slice(fits).map(({ reference, image, platforms }) => ({ reference, image, platforms })),
    ],
  };
}

/** The lines of the images the payload could not carry (NightPlan.overflow): the report step settles them. */
export function overflowLines(plan: NightPlan): Array<{ reference: string; result: ImageResult }> {
  const reason = `not fanned out tonight: the night's state machine carries at most 256 KiB (about ${plan.items.length} images to pull besides the rest); first in line tomorrow`;
  return (plan.overflow ?? []).map((item) => ({
    reference: item.reference,
    result: notStartedLine({ original: item.image, platforms: item.platforms }, item.reference, reason),
  }));
}

/** The statuses whose lines go first when the execution's output must be smaller: the least to act on first. */
const UNLISTED_FIRST: ImageStatus[] = [
  'skipped',
  'archived',
  'warmed',
  'would-pull',
  'stale-pending',
  'unverified',
  'deferred',
  'failed',
];

/**
 * The report as the execution's output, which Step Functions also carries at most 256 KiB of (over
 * it, the execution fails after the night's work is done): whole when it fits; otherwise without the
 * lines of whole statuses, unchanged images first, failures last, until it fits. The counts stay
 * whole, and every image's line is in the log of the step that settled it.
 */
export function executionOutput(report: PrewarmReport): PrewarmReport {
  const fits = (r: PrewarmReport) => Buffer.byteLength(JSON.stringify(r)) <= PAYLOAD_BUDGET_BYTES;
  if (fits(report)) return report;
  const left = new Set<ImageStatus>();
  let output = report;
  for (const status of UNLISTED_FIRST) {
    left.add(status);
    const images = report.images.filter((line) => !left.has(line.status));
    output = {
      ...report,
      images,
      unlisted: {
        count: report.images.length - images.length,
        reason: `the night's output carries at most 256 KiB; the lines of ${[...left].join(', ')} images are in the prewarmPlan, warmImage and prewarmReport logs`,
      },
    };
    if (fits(output)) break;
  }
  return output;
}

/** The cache's registry host, as the dry run's lines name it (`<host>/<repository>:<tag>`). */
function registryHostOf(lines: Array<{ reference: string; result: ImageResult }>): { cacheHost?: string } {
  for (const { reference, result } of lines)
    if (result.cacheReference.endsWith(`/${reference}`))
      return { cacheHost: result.cacheReference.slice(0, -reference.length - 1) };
  return {};
}

/** warmImage: one image, the single run's code, inside the execution's lease. */
export async function warmPlannedImage(item: WarmItem, deps: PrewarmDeps): Promise<WarmOutcome> {
  const image = { ...resolveImage(deps.config, item.image), platforms: item.platforms };
  if (imageReference(image) !== item.reference)
    throw new InvalidEventError(
      `warmImage: event.image "${item.image}" is ${imageReference(image)} in this config, not ${item.reference}`,
    );
  const report = await runPrewarm([image], {
    ...deps,
    coordinated: true,
    indexWidths: IndexWidths.from(item.indexWidths ?? {}),
    ...(item.layersVerifiedUntil !== null ? { layersVerifiedUntil: item.layersVerifiedUntil } : {}),
  });
  const { image: _image, platforms: _platforms, cacheReference: _reference, ...line } = report.images[0]!;
  // The same digest twice says nothing more, and costs payload: the report puts it back.
  if (line.cachedDigest && line.cachedDigest === line.upstreamDigest) delete line.cachedDigest;
  return { result: line, ...(report.dockerHub ? { dockerHub: report.dockerHub } : {}) };
}

/** What a failed iteration says: Lambda's `{"errorType","errorMessage"}` cause, or the cause as is. */
function crashReason(crash: WarmCrash): string {
  const error = crash.error.Error ?? 'error';
  let message = crash.error.Cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // a plain-text cause
  }
  return `warmImage did not return (${error}${message ? `: ${message}` : ''}); the other images are unaffected`;
}

const isCrash = (outcome: WarmOutcome | WarmCrash): outcome is WarmCrash => 'error' in outcome;

/** The line of an image that has none: the Map lost it, or its iteration failed as a whole. */
const failedLine = (item: PlanItem, reason: string): ImageResult => ({
  image: item.image,
  cacheReference: item.reference,
  status: 'failed',
  cause: 'other',
  reason,
  platforms: item.platforms,
  upstreamPulls: 0,
  durationMs: 0,
});

/**
 * Pure: the night's report from the plan and the Map's outcomes (one per item, in the items'
 * order), in the night's order, as the single run reports it. An iteration that failed as a whole
 * is a failed line naming the error; the others keep their results.
 */
export function assembleNight(
  plan: NightPlan,
  outcomes: Array<WarmOutcome | WarmCrash>,
  mode: PrewarmReport['mode'],
  now: number,
): PrewarmReport {
  const lines = new Map(plan.settled.map((s) => [s.reference, s.result]));
  for (const { reference, result } of overflowLines(plan)) lines.set(reference, result);
  let quota = plan.dockerHub;
  plan.items.forEach((item, i) => {
    const outcome = outcomes[i];
    if (!outcome) lines.set(item.reference, failedLine(item, 'warmImage returned nothing for this image'));
    else if (isCrash(outcome)) lines.set(item.reference, failedLine(item, crashReason(outcome)));
    else {
      const line: ImageResult = withPlanPull(
        {
          image: item.image,
          cacheReference: plan.cacheHost ? `${plan.cacheHost}/${item.reference}` : item.reference,
          platforms: item.platforms,
          ...outcome.result,
        },
        item.pulledByPlan,
      );
      if (
        line.upstreamDigest &&
        !line.cachedDigest &&
        (line.status === 'warmed' || line.status === 'skipped')
      )
        line.cachedDigest = line.upstreamDigest;
      lines.set(item.reference, line);
      if (outcome.dockerHub && (!quota || outcome.dockerHub.remaining < quota.remaining))
        quota = outcome.dockerHub;
    }
  });
  const images = plan.order.map((r) => lines.get(r)).filter((l): l is ImageResult => !!l);
  return {
    mode,
    startedAt: plan.startedAt,
    durationMs: now - Date.parse(plan.startedAt),
    images,
    counts: countStatuses(images),
    upstreamPulls: {
      estimated: images.reduce((sum, l) => sum + l.upstreamPulls, 0),
      ...(plan.mode === 'inline' && plan.upstreamPullsMeasured !== undefined
        ? { measured: plan.upstreamPullsMeasured }
        : {}),
    },
    ...(quota ? { dockerHub: quota } : {}),
    ...(plan.stoppedUpstream ? { stoppedUpstream: plan.stoppedUpstream } : {}),
    ...(plan.merged ? { merged: plan.merged } : {}),
    ...(plan.lease ? { lease: plan.lease } : {}),
    fanOut: { mode: plan.mode, invocations: plan.items.length },
  };
}

/**
 * The report step's effects: the night's marks (layers whole only when every image is; where the
 * next night starts) and the lease released. Best effort: a failure is logged, never the report's.
 */
export async function finishNight(
  plan: NightPlan,
  report: PrewarmReport,
  deps: Pick<PrewarmDeps, 'secrets' | 'config' | 'logger'>,
): Promise<void> {
  const secret = prewarmStateSecret(deps.config);
  if (!secret || !plan.leaseHeld) return;
  const whole =
    deps.config.prewarm.mode === 'full' &&
    coversNight(deps.config.prewarm.images.map(imageReference), plan.order) &&
    everyImageWhole(report.images);
  try {
    await recordNight(deps.secrets, secret, {
      ...(whole
        ? {
            layersVerified: Date.parse(plan.startedAt),
            layersReceived: receivedMark(plan.order, report.images, Date.now()),
          }
        : {}),
      resume: nextResume(
        plan.order,
        report.images.map((r) => r.status),
        (reference) => reference,
      ),
    });
  } catch (error) {
    deps.logger?.warn('night marks not recorded', { error: errorMessage(error) });
  }
  await releaseLease(deps.secrets, secret, plan.runId).catch((error: unknown) =>
    deps.logger?.warn('lease not released (it expires with the execution)', { error: errorMessage(error) }),
  );
}
