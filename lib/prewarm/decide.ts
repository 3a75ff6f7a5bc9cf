/**
 * The pre-warm's decisions, as pure functions of what is known: what the cache holds, what
 * upstream answered, the quota gate's state, the time left and the settings. run.ts gathers the
 * facts and carries the decisions out; the unit tests read these as tables.
 */
import { wildcardMatcher } from '../config/names.js';
import type { RegistryError, RegistryErrorKind } from '../registry/errors.js';
import { isIndex } from '../registry/media-types.js';
import type { FailureCause, PrewarmStep } from './report.js';

/** What the upstream HEAD answered: a digest, or an error of some kind. */
export type UpstreamAnswer =
  | { digest: string; mediaType: string }
  | {
      error: { kind: RegistryErrorKind; message: string; credentialsRejected?: boolean; status?: number };
    };

/** The gate's state for this image's upstream, at the moment of the decision. */
export interface GateState {
  /** maxUpstreamPullsPerRun */
  budget: number;
  /** Pulls the run may still spend (maxUpstreamPullsPerRun minus spent and reserved). */
  budgetLeft: number;
  /** Docker Hub's last `ratelimit-remaining` minus pulls in flight; absent when unlimited or unknown. */
  remaining?: number;
  /** reserveUpstreamPulls */
  reserve: number;
}

export interface WarmFacts {
  /** The image as the report names it upstream (`library/node:22`), for messages. */
  label: string;
  mode: 'full' | 'manifest-only';
  /** How many platforms are configured: a multi-arch pull costs one pull each. */
  platformCount: number;
  timeLeftMs: number;
  /** The safety margin: no image starts with less time left than this. */
  marginMs: number;
  /**
   * Set once this image's upstream registry answered 429, or failed UPSTREAM_DOWN_AFTER checks in a
   * row: nothing more is asked of it this run (other registries go on).
   */
  stoppedUpstream?: string;
  /** Set when this rule's credential cannot be used. */
  upstreamUnusable?: string;
  /** The digest ECR holds for the tag (undefined: not cached). */
  cachedDigest?: string;
  /** ECR's status of that image: ARCHIVED or ACTIVATING when it is in (or leaving) the archive class. */
  cachedStatus?: string;
  /** The tag is immutable in its repository (the template's imageTagMutability): ECR cannot move it. */
  immutableTag?: boolean;
  /**
   * How many platform manifests the new index likely lists: the cached one's it moved from, else the
   * widest index this upstream served tonight (ECR may fetch them all: what the pull likely costs).
   */
  expectedPlatforms?: number;
  /** DescribeImages failed (other than not-found). */
  cacheLookupError?: string;
  /** The lookup failed for a reason of the moment (a 5xx or no answer past the retries), not for good. */
  cacheLookupForNow?: boolean;
  upstream?: UpstreamAnswer;
  gate: GateState;
  /** Full mode: why this unchanged image's layers need no check tonight (layer-audit.ts); absent when due. */
  layersVerified?: string;
}

export type WarmDecision =
  | { action: 'skip'; reason: string }
  /** The cache holds the tag in the archive storage class: not pullable, and no failure of the night. */
  | { action: 'archived'; reason: string }
  /** Unchanged, full mode: make sure every layer is in the cache (no upstream pull). */
  | { action: 'fill-layers'; digest: string }
  | { action: 'pull'; cost: number; reason: string }
  | { action: 'defer'; reason: string; step?: PrewarmStep; cause?: FailureCause; stopUpstream?: boolean }
  | { action: 'fail'; step: PrewarmStep; cause: FailureCause; reason: string; credentialRefused?: boolean }
  /** Upstream could not be asked (5xx, no answer), but the cache holds the tag: it serves that. */
  | { action: 'unverified'; step: PrewarmStep; cause: FailureCause; reason: string };

const DOCKER_HUB_THROTTLE = 'not retried, Docker Hub throttles failed logins';

/** Maps a registry error to the report's failure cause; `via` says whose answer it was. */
export function failureCause(
  error: Pick<RegistryError, 'kind'> & { details?: { credentialsRejected?: boolean; status?: number } },
  via: 'upstream' | 'ecr',
): FailureCause {
  switch (error.kind) {
    case 'auth':
      // Docker Hub answers 401/403 for a repository that does not exist; only the realm refusing
      // the credentials themselves is an auth failure.
      return via === 'upstream' && !error.details?.credentialsRejected ? 'not-found' : 'auth';
    case 'not-found':
      return 'not-found';
    case 'rate-limited':
      return 'upstream-429';
    case 'server':
      return via === 'ecr' && error.details?.status !== 503 ? 'ecr-error' : 'upstream-5xx';
    case 'network':
      return 'network';
    case 'digest-mismatch':
      return 'digest-mismatch';
    default:
      return 'other';
  }
}

/** Before any request for the image: is there time, and may upstream be asked at all? */
export function decideBeforeLookup(
  facts: Pick<WarmFacts, 'timeLeftMs' | 'marginMs' | 'stoppedUpstream' | 'upstreamUnusable'>,
): WarmDecision | undefined {
  if (facts.timeLeftMs < facts.marginMs)
    return {
      action: 'defer',
      reason: `less than ${Math.round(facts.marginMs / 1000)} s of Lambda time left`,
    };
  if (facts.stoppedUpstream) return { action: 'defer', reason: `not checked: ${facts.stoppedUpstream}` };
  if (facts.upstreamUnusable)
    return { action: 'fail', step: 'upstream-check', cause: 'auth', reason: facts.upstreamUnusable };
  return undefined;
}

/** The causes that say upstream is failing (each request already retried), not that the image is. */
const UPSTREAM_DOWN_CAUSES = new Set<FailureCause>(['upstream-5xx', 'network']);

/**
 * How many upstream checks in a row may fail with a 5xx or no answer (each after its retries)
 * before the run stops asking that upstream: an outage then costs a few checks' retries, not
 * every image's.
 */
export const UPSTREAM_DOWN_AFTER = 5;

/**
 * One upstream's checks in a row that failed for upstream's own reasons, after this answer; and
 * why the upstream is now taken for down (said once, when the count reaches UPSTREAM_DOWN_AFTER).
 */
export function upstreamDownAfter(
  failuresInARow: number,
  answer: UpstreamAnswer,
  upstreamName: string,
): { failuresInARow: number; down?: string } {
  if (!('error' in answer)) return { failuresInARow: 0 };
  const cause = failureCause({ kind: answer.error.kind, details: answer.error }, 'upstream');
  if (!UPSTREAM_DOWN_CAUSES.has(cause)) return { failuresInARow: 0 };
  const count = failuresInARow + 1;
  if (count !== UPSTREAM_DOWN_AFTER) return { failuresInARow: count };
  const how = answer.error.status ? `HTTP ${answer.error.status}` : 'no answer';
  return {
    failuresInARow: count,
    down: `${upstreamName} failed ${count} checks in a row (${how}): not asked again tonight`,
  };
}

/** Why the gate refuses `cost` pulls, or undefined when it allows them. */
export function quotaRefusal(gate: GateState, cost: number): string | undefined {
  if (cost > gate.budgetLeft)
    return `run budget of ${gate.budget} upstream pulls reached (maxUpstreamPullsPerRun)`;
  if (gate.remaining !== undefined && gate.remaining - cost < gate.reserve)
    return `Docker Hub has ${gate.remaining} pulls left; pulling needs ${cost} and ${gate.reserve} are kept in reserve for CI (reserveUpstreamPulls)`;
  return undefined;
}

/** After the cache lookup and the upstream HEAD: what to do with the image. */
export function decideWarm(facts: WarmFacts): WarmDecision {
  const before = decideBeforeLookup(facts);
  if (before) return before;
  const upstream = facts.upstream;
  if (!upstream)
    return { action: 'fail', step: 'upstream-check', cause: 'other', reason: 'upstream not asked' };
  if ('error' in upstream) {
    const cause = failureCause({ kind: upstream.error.kind, details: upstream.error }, 'upstream');
    if (cause === 'auth')
      return {
        action: 'fail',
        step: 'upstream-check',
        cause,
        reason: `upstream refused the credential (${upstream.error.message}); ${DOCKER_HUB_THROTTLE}`,
        credentialRefused: true,
      };
    if (cause === 'upstream-429')
      return {
        action: 'defer',
        step: 'upstream-check',
        cause,
        reason: 'upstream answered 429 TOOMANYREQUESTS',
        stopUpstream: true,
      };
    // Upstream failing says nothing about the cache: CI still pulls what it holds, so no alarm.
    if (UPSTREAM_DOWN_CAUSES.has(cause) && facts.cachedDigest && !facts.cacheLookupError)
      return {
        action: 'unverified',
        step: 'upstream-check',
        cause,
        reason: `${upstream.error.message}; the cache still serves ${facts.cachedDigest.slice(7, 19)}, checked again next night`,
      };
    return {
      action: 'fail',
      step: 'upstream-check',
      cause,
      reason:
        cause === 'not-found'
          ? `${facts.label} does not exist upstream (or is not accessible)`
          : upstream.error.message,
    };
  }
  if (facts.cacheLookupError)
    // ECR failing for the moment says nothing of the image: no pull on a guess, and no alarm.
    return facts.cacheLookupForNow
      ? {
          action: 'unverified',
          step: 'cache-lookup',
          cause: 'ecr-error',
          reason: `${facts.cacheLookupError}; the cache could not be asked, checked again next night`,
        }
      : { action: 'fail', step: 'cache-lookup', cause: 'ecr-error', reason: facts.cacheLookupError };
  // An archived image cannot be pulled, and what a pull through the cache would do to it is not
  // documented: nothing is spent on it, and it is not a failure of the night.
  if (facts.cachedStatus === 'ARCHIVED')
    return {
      action: 'archived',
      reason:
        'the cache holds it in the archive storage class (a lifecycle rule moved it there), which cannot be pulled: restore it (aws ecr update-image-storage-class --target-storage-class STANDARD) or take it off prewarm.images',
    };
  if (facts.cachedStatus === 'ACTIVATING')
    return {
      action: 'archived',
      reason: 'being restored from the archive storage class; warmed once it is active',
    };
  // Immutable tags stop ECR from refreshing a cached tag: pulling it again would change nothing.
  if (facts.immutableTag && facts.cachedDigest && facts.cachedDigest !== upstream.digest)
    return {
      action: 'skip',
      reason: `moved upstream (now ${upstream.digest.slice(0, 19)}), but tags are immutable in this repository (the template's imageTagMutability): ECR keeps the cached one`,
    };
  if (facts.cachedDigest === upstream.digest) {
    if (facts.mode === 'manifest-only') return { action: 'skip', reason: 'unchanged' };
    if (facts.layersVerified) return { action: 'skip', reason: `unchanged; ${facts.layersVerified}` };
    return { action: 'fill-layers', digest: upstream.digest };
  }
  const cost = pullsSpent(upstream.mediaType, facts.expectedPlatforms, facts.platformCount);
  const refusal = quotaRefusal(facts.gate, cost);
  if (refusal) return { action: 'defer', reason: refusal };
  return { action: 'pull', cost, reason: facts.cachedDigest ? 'moved' : 'new' };
}

/**
 * The upstream pulls a pull through the cache may have spent, once its manifest is known. Whether ECR,
 * caching an index, fetches every child manifest from upstream (each a pull) or only those a client
 * asks for is not documented; an index counts all its children, and never fewer than the platforms
 * configured, so the run's budget is never under-counted.
 */
export function pullsSpent(
  mediaType: string,
  children: number | undefined,
  configuredPlatforms: number,
): number {
  return isIndex(mediaType) ? Math.max(configuredPlatforms, children ?? 0) : 1;
}

/** After the pull through the cache: did ECR fetch upstream, or does it still serve its old copy? */
export function pullOutcome(
  upstreamDigest: string,
  servedDigest: string,
): { status: 'warmed' | 'stale-pending'; fetchedUpstream: boolean } {
  // A cache that still serves another digest is inside ECR's 24-hour window: it did not ask upstream.
  return servedDigest === upstreamDigest
    ? { status: 'warmed', fetchedUpstream: true }
    : { status: 'stale-pending', fetchedUpstream: false };
}

/**
 * A failed pull through the cache: an upstream 429 stops that registry's work for the night; the rest
 * fail the image.
 * Upstream was asked first and has the image, so the cache's "not found" means the cache did not
 * fetch it: no rule for the prefix, or (ECR answers "not found" for it too) no BatchImportUpstreamImage.
 */
export function decidePullFailure(cause: FailureCause, message: string, rulePrefix?: string): WarmDecision {
  if (cause === 'upstream-429')
    return {
      action: 'defer',
      step: 'pull-manifest',
      cause,
      reason: 'the cache reported upstream 429 TOOMANYREQUESTS',
      stopUpstream: true,
    };
  if (cause === 'not-found' && rulePrefix)
    return {
      action: 'fail',
      step: 'pull-manifest',
      cause,
      reason: `${message}; upstream has it, so the cache did not fetch it: no pull-through cache rule has the prefix "${rulePrefix}" (cache-keeper plan shows it; reconcile creates it), or this role lacks ecr:BatchImportUpstreamImage (ECR answers "not found" for that, not "denied")`,
    };
  return { action: 'fail', step: 'pull-manifest', cause, reason: message };
}

/** Kept back from the deadline to publish the metrics and return the report: 10 s, or a tenth of a short run. */
export function reportReserveMs(budgetMs: number): number {
  return Math.max(0, Math.min(10_000, Math.floor(budgetMs / 10)));
}

/**
 * Entries that name the same cache reference (`node:22`, `docker.io/library/node:22`, …) are one
 * image: warmed once, under the first, so the night spends its pulls once.
 */
export function mergeDuplicates<T extends { original: string }>(
  images: T[],
  referenceOf: (image: T) => string,
): { unique: T[]; merged: Array<{ image: string; sameAs: string }> } {
  const first = new Map<string, T>();
  const merged: Array<{ image: string; sameAs: string }> = [];
  for (const image of images) {
    const key = referenceOf(image);
    const earlier = first.get(key);
    if (earlier) merged.push({ image: image.original, sameAs: earlier.original });
    else first.set(key, image);
  }
  return { unique: [...first.values()], merged };
}

/**
 * A 429 from the cache's registry endpoint: ECR's own throttling ("Rate exceeded"), or the upstream's
 * limit that ECR passes on? Docker Hub's last answer decides: with pulls left (or no limit at all),
 * the upstream did not refuse, so it is ECR's and may be retried; with none left, it is Docker Hub's.
 */
export function cacheThrottleIsEcrs(remaining: number | undefined, cost: number): boolean {
  return remaining === undefined || remaining >= cost;
}

/**
 * Whether ECR holds `tag` immutable under a template's settings: IMMUTABLE except the tags an
 * exclusion filter matches (IMMUTABLE_WITH_EXCLUSION), or only those (MUTABLE_WITH_EXCLUSION).
 * Filters take `*` wildcards.
 */
export function tagIsImmutable(
  template: { imageTagMutability: string; imageTagMutabilityExclusionFilters?: string[] } | undefined,
  tag: string,
): boolean {
  const mode = template?.imageTagMutability ?? 'MUTABLE';
  const excluded = wildcardMatcher(template?.imageTagMutabilityExclusionFilters ?? [])(tag);
  if (mode === 'IMMUTABLE') return true;
  if (mode === 'IMMUTABLE_WITH_EXCLUSION') return !excluded;
  if (mode === 'MUTABLE_WITH_EXCLUSION') return excluded;
  return false;
}
