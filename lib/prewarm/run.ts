/**
 * The nightly warm. For each image: compare the digest ECR holds (DescribeImages) with the
 * upstream digest (HEAD: free on Docker Hub). Unchanged → skip (in full mode, first make sure
 * every layer of the configured platforms is in the cache, which costs no upstream pull). Missing
 * or changed → pull by tag through the ECR endpoint, then the configured platforms' manifests,
 * then (full mode) config and layer blobs, streamed and digest-verified.
 *
 * Pulls are spent only while the account keeps its reserve and the run its budget; a 429 stops
 * upstream work, a refused credential too (never a retry loop on 401). One image's failure never
 * stops the others, and no image starts when the Lambda's remaining time is below the margin.
 */

import { randomUUID } from 'node:crypto';
import { DescribeImagesCommand, type ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { cacheRepositoryName } from '../config/images.js';
import type { DesiredRule, KeeperConfig, PrewarmImage } from '../config/load.js';
import { setTags } from '../credential/metadata.js';
import { RegistryClient } from '../registry/client.js';
import { RegistryError } from '../registry/errors.js';
import { isIndex } from '../registry/media-types.js';
import type { Endpoints } from '../registry/upstreams.js';
import {
  AWS_THROTTLING,
  awsErrorName,
  errorMessage,
  isTransientAwsError,
  KeeperError,
} from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import { registerSecret } from '../runtime/redact.js';
import { mapConcurrent, sleep, slots } from '../runtime/retry.js';
import {
  cacheThrottleIsEcrs,
  decideBeforeLookup,
  decidePullFailure,
  decideWarm,
  failureCause,
  mergeDuplicates,
  pullOutcome,
  pullsSpent,
  reportReserveMs,
  tagIsImmutable,
  upstreamDownAfter,
  type WarmDecision,
} from './decide.js';
import { IndexWidths } from './index-width.js';
import {
  cachedSinceMark,
  coversNight,
  everyImageWhole,
  formatReceivedMark,
  LAYERS_RECEIVED_TAG,
  LAYERS_VERIFIED_TAG,
  layerCheckWaived,
  parseReceivedMark,
  parseVerifiedMark,
  pulledIn,
  type ReceivedMark,
  receivedDuringMarkedRun,
  receivedFingerprint,
  sameBucket,
} from './layer-audit.js';
import { uncachedPlatformManifests, warmPlatforms } from './layers.js';
import { leaseNotHeld, leaseRefusal, releaseLease, takeLease } from './lease.js';
import { nextResume, RESUME_TAG, resumeOrder } from './order.js';
import { UpstreamPullGate } from './quota.js';
import {
  countStatuses,
  type FailureCause,
  type ImageResult,
  notStartedLine,
  type PrewarmReport,
  type PrewarmStep,
} from './report.js';
import { connectUpstream, type Upstream } from './upstream.js';

export interface PrewarmDeps {
  ecr: ECRClient;
  secrets: SecretsManagerClient;
  config: KeeperConfig;
  /** Absolute time (ms) by which the run must have returned. */
  deadline: number;
  fetch?: typeof fetch;
  logger?: Logger;
  onImage?: (result: ImageResult, done: number, total: number) => void;
  /** What an image is doing while in flight (its step, the bytes of each layer it has moved): for a live view. */
  onProgress?: (event: PrewarmProgress) => void;
  endpoints?: Endpoints;
  now?: () => number;
  /** Only the free checks (DescribeImages, upstream HEAD): say what would be pulled, pull nothing. */
  dryRun?: boolean;
  /**
   * With `dryRun`, for a plan that others carry out (fanout.ts): the first new multi-platform image
   * of each upstream, while nothing has shown how wide its indexes are, is pulled for real, so the
   * rest are planned at the width it showed instead of at their configured platforms.
   */
  learnIndexWidths?: boolean;
  /**
   * Part of a fanned-out night (fanout.ts): the execution's plan step holds the lease and its report
   * step records the marks, so this run takes no lease and writes no tag.
   */
  coordinated?: boolean;
  /**
   * What indexes have shown of their width, per upstream (index-width.ts), shared with the caller:
   * a plan reads what its dry run learnt, a fanned-out worker starts from it. A run of its own by default.
   */
  indexWidths?: IndexWidths;
  /** The layer mark (layer-audit.ts) when the caller has read it; otherwise read with the lease. */
  layersVerifiedUntil?: number;
  /** What the run that set that mark pulled in (layer-audit.ts), read with it. */
  layersReceived?: ReceivedMark;
}

export type PrewarmProgress =
  | { kind: 'step'; image: string; step: PrewarmStep }
  | { kind: 'bytes'; image: string; bytes: number }
  /** What the upstream's last HEAD said is left in its window (Docker Hub's RateLimit headers). */
  | { kind: 'quota'; upstream: string; remaining: number; limit: number };

/** A failure of one image, filed under the step that failed. */
class ImageFailure extends KeeperError {
  override name = 'ImageFailure';
  constructor(
    readonly step: PrewarmStep,
    readonly failureCause: FailureCause,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `docker-hub/library/node:22`: an image as the cache names it, for the night's marks. */
export const imageReference = (image: PrewarmImage) => `${cacheRepositoryName(image)}:${image.tag}`;

/**
 * The secret whose tags hold the night's lease and marks: the Docker Hub rule's credential secret,
 * else the first rule's that has one (deploy/stack.cjs grants the pre-warm role the same one).
 */
export const prewarmStateSecret = (config: KeeperConfig) =>
  (
    config.rules.find((r) => r.upstream === 'docker-hub' && r.credentialSecret) ??
    config.rules.find((r) => r.credentialSecret)
  )?.credentialSecret;

/** Records the night's marks (layer-audit.ts, order.ts) in one write; an absent resume clears it. */
export async function recordNight(
  secrets: SecretsManagerClient,
  secretId: string,
  marks: { layersVerified?: number; layersReceived?: ReceivedMark; resume?: string },
): Promise<void> {
  await setTags(secrets, secretId, {
    ...(marks.layersVerified !== undefined
      ? {
          [LAYERS_VERIFIED_TAG]: new Date(marks.layersVerified).toISOString(),
          // Set with the mark, always: a received mark from an older run must not outlive its mark.
          [LAYERS_RECEIVED_TAG]: marks.layersReceived ? formatReceivedMark(marks.layersReceived) : undefined,
        }
      : {}),
    [RESUME_TAG]: marks.resume,
  });
}

/** The received mark a whole run leaves: its end, and what it pulled in (layer-audit.ts). */
export function receivedMark(
  references: string[],
  results: Array<Pick<ImageResult, 'status' | 'upstreamPulls' | 'cachedDigest'>>,
  until: number,
): ReceivedMark {
  const lines = results.map((r, i) => ({ ...r, reference: references[i]! }));
  return { until, fingerprint: receivedFingerprint(pulledIn(lines)) };
}

/** Why a fanned-out night's plan pulled an image itself (see learnIndexWidths). */
export const PULLED_BY_PLAN =
  'pulled by the plan step, to learn how many platforms ECR fetches for a new multi-platform image';

/**
 * Per transfer slot (`prewarm.concurrency`: images moving their layers at once), how many images
 * are pulled by tag through the cache at once (a pull mostly waits on ECR fetching the manifests
 * from upstream, several Docker Hub round trips, so twice as many keep the transfers busy) and
 * how many are checked (the free HEAD and DescribeImages).
 */
const PULLS_PER_TRANSFER = 2;
const CHECKS_PER_TRANSFER = 4;

const short = (digest?: string) => (digest ? digest.slice(7, 19) : '(none)');

/** ECR's own registry throttling that outlasted the retries: the image is unverified, not failed. */
class EcrThrottledError extends KeeperError {
  override name = 'EcrThrottledError';
}

/**
 * ECR's own fault of the moment, past the retries: a 5xx, a timeout or no answer. Not its registry's
 * 503, which is how it answers for upstream (a blob upstream cut short or sent with other bytes):
 * what the cache lacks then, CI cannot pull either.
 */
const ecrFailingForNow = (error: unknown): boolean =>
  error instanceof RegistryError
    ? (error.kind === 'server' && error.details.status !== 503) || error.kind === 'network'
    : isTransientAwsError(error);

/** Any error met while warming an image, as a failure of the step it happened in. */
function asImageFailure(error: unknown, step: PrewarmStep): ImageFailure {
  if (error instanceof ImageFailure) return error;
  const via = step === 'upstream-check' ? 'upstream' : 'ecr';
  const name = awsErrorName(error);
  const cause: FailureCause =
    error instanceof RegistryError
      ? failureCause(error, via)
      : name && AWS_THROTTLING.has(name)
        ? 'ecr-throttled'
        : error instanceof Error && '$metadata' in error
          ? 'ecr-error'
          : 'other';
  const message =
    error instanceof RegistryError || !name || name === 'Error'
      ? errorMessage(error)
      : `${name}: ${errorMessage(error)}`;
  return new ImageFailure(step, cause, message, { cause: error });
}

/**
 * Warms the images; always returns the report, in time. Every request (HTTP and AWS) carries one
 * abort signal that fires at the deadline minus a reserve for publishing the metrics and returning
 * the report, so a slow request near the end is cut short and reported for its image instead of
 * taking the whole night's report down with the Lambda timeout.
 */
export async function runPrewarm(requested: PrewarmImage[], deps: PrewarmDeps): Promise<PrewarmReport> {
  const now = deps.now ?? (() => Date.now());
  const started = now();
  const { config, ecr } = deps;
  const settings = config.prewarm;
  const marginMs = settings.safetyMarginSeconds * 1000;
  let { unique: images, merged } = mergeDuplicates(
    requested,
    (i) => `${cacheRepositoryName(i)}:${i.tag}@${[...i.platforms].sort().join(',')}`,
  );
  const gate = new UpstreamPullGate(settings.reserveUpstreamPulls, settings.maxUpstreamPullsPerRun);
  const upstreams = new Map<string, Upstream>();
  /**
   * Per upstream registry (its host): why the night asks it nothing more (a 429, or checks that
   * kept failing), and its checks that failed in a row. Another registry's trouble is not its own.
   */
  const stoppedUpstreams = new Map<string, string>();
  const stopUpstream = (host: string, reason: string) => {
    if (!stoppedUpstreams.has(host)) stoppedUpstreams.set(host, reason);
  };
  const failuresInARow = new Map<string, number>();

  const workDeadline = deps.deadline - reportReserveMs(deps.deadline - started);
  const work = new AbortController();
  const timer = setTimeout(() => work.abort(), Math.max(0, workDeadline - now()));
  timer.unref?.();
  const signal = work.signal;
  const aws = { abortSignal: signal };

  const report = (results: ImageResult[], extra: Partial<PrewarmReport> = {}): PrewarmReport => ({
    mode: settings.mode,
    startedAt: new Date(started).toISOString(),
    durationMs: now() - started,
    images: results,
    counts: countStatuses(results),
    upstreamPulls: { estimated: gate.spent },
    ...(merged.length ? { merged } : {}),
    ...extra,
  });

  // One pre-warm at a time (see lease.ts): held on a credential secret (prewarmStateSecret).
  // A dry run spends nothing, so it needs no lease.
  const leaseSecret = deps.dryRun || deps.coordinated ? undefined : prewarmStateSecret(config);
  const runId = randomUUID();
  // The last run that left every image whole (layer-audit.ts): read with the lease, full mode only.
  let verifiedUntil = settings.mode === 'full' ? deps.layersVerifiedUntil : undefined;
  let received = settings.mode === 'full' ? deps.layersReceived : undefined;

  // While the lease is taken, only what sends no secret and spends nothing: the credential secret
  // is read, Docker Hub's challenge and ECR's registry token asked. The token request to Docker Hub,
  // which carries the credential, waits for the lease.
  let leaseTaken: (taken: boolean) => void = () => undefined;
  const mayLogIn = leaseSecret
    ? new Promise<boolean>((resolve) => {
        leaseTaken = resolve;
      })
    : undefined;
  // One connection per upstream (login: the /v2/ challenge, then the tokens for every repository).
  const connecting = new Map<string, Promise<Upstream>>();
  const upstreamFor = (rule: DesiredRule): Promise<Upstream> => {
    let pending = connecting.get(rule.prefix);
    if (!pending) {
      const repositories = images.filter((i) => i.rulePrefix === rule.prefix).map((i) => i.repository);
      pending = connectUpstream(rule, repositories, {
        secrets: deps.secrets,
        fetch: deps.fetch,
        deadline: workDeadline,
        endpoints: deps.endpoints,
        signal,
        mayLogIn,
      });
      void pending.then((u) => upstreams.set(rule.prefix, u));
      connecting.set(rule.prefix, pending);
    }
    return pending;
  };
  for (const rule of config.rules)
    if (images.some((i) => i.rulePrefix === rule.prefix)) void upstreamFor(rule);
  const cacheAuth = ecr.send(new GetAuthorizationTokenCommand({}), aws);
  cacheAuth.catch(() => undefined); // awaited once the lease is held

  if (leaseSecret) {
    // Not started: what was begun meanwhile is cut short, and the login told not to go on.
    const notStarted = () => {
      leaseTaken(false);
      work.abort();
      clearTimeout(timer);
    };
    const lease = await takeLease(deps.secrets, leaseSecret, { id: runId, until: deps.deadline, now }).catch(
      (error: unknown) => {
        notStarted();
        throw error;
      },
    );
    leaseTaken(lease.acquired);
    if (!lease.acquired) {
      notStarted();
      const reason = leaseRefusal(lease);
      return report(
        images.map((image) => notStartedLine(image, cacheRepositoryName(image), reason)),
        { lease: leaseNotHeld(lease) },
      );
    }
    if (settings.mode === 'full') {
      verifiedUntil = parseVerifiedMark(lease.tags[LAYERS_VERIFIED_TAG]);
      received = parseReceivedMark(lease.tags[LAYERS_RECEIVED_TAG]);
    }
    // Last night's deferred images first (order.ts).
    images = resumeOrder(images, lease.tags[RESUME_TAG], imageReference);
  }
  const sinceMark = new Map<ImageResult, boolean | undefined>();

  try {
    // The cache's registry endpoint and a credential for it (12 hours; one per run).
    let auth: { authorizationToken?: string; proxyEndpoint?: string } | undefined;
    try {
      auth = (await cacheAuth).authorizationData?.[0];
      if (!auth?.authorizationToken || !auth.proxyEndpoint)
        throw new KeeperError('GetAuthorizationToken returned no token or proxyEndpoint');
    } catch (error) {
      // Nothing can be warmed: every image says why, and the report still goes out.
      const failure = asImageFailure(error, 'cache-lookup');
      return report(
        images.map((image) => ({
          image: image.original,
          cacheReference: cacheRepositoryName(image),
          status: signal.aborted ? 'deferred' : 'failed',
          step: 'cache-lookup',
          cause: signal.aborted ? 'deadline' : failure.failureCause,
          reason: `GetAuthorizationToken: ${failure.message}`,
          platforms: image.platforms,
          upstreamPulls: 0,
          durationMs: 0,
        })),
      );
    }
    const token = auth.authorizationToken!;
    registerSecret(token);
    registerSecret(Buffer.from(token, 'base64').toString('utf8').replace(/^AWS:/, ''));
    const cacheHost = new URL(auth.proxyEndpoint!).host;
    const cacheOptions = {
      baseUrl: auth.proxyEndpoint!,
      credentials: { basic: token },
      fetch: deps.fetch,
      deadline: workDeadline,
      signal,
    };
    // Content already in the cache (child manifests and blobs by digest): retried on 5xx and network errors.
    const cache = new RegistryClient(cacheOptions);
    // A pull by tag may make ECR fetch from upstream and spend a Docker Hub pull: sent once, never retried blindly.
    const cachePull = new RegistryClient({ ...cacheOptions, attempts: 1 });
    const layerContext = { cache, ecr, mode: settings.mode, signal };

    /**
     * Tag → digest (and when the cache received it) for a cache repository, and every digest it holds
     * (child manifests are untagged): one DescribeImages walk per repository, shared by its images.
     */
    type CachedImage = { digest: string; pushedAt?: number; status?: string };
    type CachedRepository = { tags: Map<string, CachedImage>; present: Set<string> };
    const repositoryTags = new Map<string, Promise<CachedRepository | { error: string; forNow: boolean }>>();
    const cachedDigest = async (repository: string, tag: string) => {
      let pending = repositoryTags.get(repository);
      if (!pending) {
        pending = (async () => {
          const tags = new Map<string, CachedImage>();
          const present = new Set<string>();
          try {
            let nextToken: string | undefined;
            do {
              const page = await ecr.send(
                // Archived images too: a tag ECR holds in the archive class is not one to pull again.
                new DescribeImagesCommand({
                  repositoryName: repository,
                  maxResults: 1000,
                  nextToken,
                  filter: { imageStatus: 'ANY' },
                }),
                aws,
              );
              for (const d of page.imageDetails ?? []) {
                if (!d.imageDigest) continue;
                const active = (d.imageStatus ?? 'ACTIVE') === 'ACTIVE';
                if (active) present.add(d.imageDigest);
                for (const t of d.imageTags ?? [])
                  tags.set(t, {
                    digest: d.imageDigest,
                    pushedAt: d.imagePushedAt?.getTime(),
                    ...(active ? {} : { status: d.imageStatus }),
                  });
              }
              nextToken = page.nextToken;
            } while (nextToken);
            return { tags, present };
          } catch (error) {
            const name = awsErrorName(error);
            if (name === 'RepositoryNotFoundException') return { tags, present };
            if (signal.aborted) throw error;
            if (name && AWS_THROTTLING.has(name)) throw error;
            return {
              error: `DescribeImages: ${name}: ${errorMessage(error)}`,
              forNow: isTransientAwsError(error),
            };
          }
        })();
        repositoryTags.set(repository, pending);
      }
      const found = await pending;
      if ('error' in found) return { error: found.error, forNow: found.forNow };
      const image = found.tags.get(tag);
      return {
        digest: image?.digest,
        pushedAt: image?.pushedAt,
        status: image?.status,
        present: found.present,
      };
    };

    /** The upstream HEAD (free on Docker Hub): the digest, or what went wrong. */
    const headUpstream = async (client: RegistryClient, repository: string, tag: string) => {
      try {
        return await client.headManifest(repository, tag);
      } catch (error) {
        if (!(error instanceof RegistryError) || error.kind === 'aborted') throw error;
        return {
          error: {
            kind: error.kind,
            message: error.message,
            credentialsRejected: error.details.credentialsRejected,
            status: error.details.status,
          },
        };
      }
    };

    /** Full mode, unchanged image: the layers a crashed or manifest-only earlier run left behind. */

    /**
     * The pull by tag through the cache. A 429 from the cache is ECR's own throttling ("Rate
     * exceeded") or Docker Hub's limit passed on; Docker Hub's own answer to a free HEAD says which.
     * ECR's is waited out (nothing was spent); Docker Hub's ends upstream work for the night.
     */
    const pullThroughCache = async (
      repository: string,
      tag: string,
      upstream: { key: string; client: RegistryClient; repository: string },
      cost: number,
    ) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await cachePull.getManifest(repository, tag);
        } catch (error) {
          if (!(error instanceof RegistryError) || error.kind !== 'rate-limited') throw error;
          const sent = gate.sendMark(upstream.key);
          const head = await upstream.client
            .headManifest(upstream.repository, tag)
            .catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
          const remaining =
            head instanceof Error ? gate.quota(upstream.key)?.remaining : head.rateLimit?.remaining;
          const ecrs =
            !(head instanceof RegistryError && head.kind === 'rate-limited') &&
            cacheThrottleIsEcrs(remaining, cost);
          // After Docker Hub's 429 the quota also counts other clients' pulls: stop measuring first.
          if (!ecrs) gate.freezeMeasurement(upstream.key);
          if (!(head instanceof Error)) gate.observe(upstream.key, head.rateLimit, sent);
          if (!ecrs) throw error;
          const delay = Math.min(4000, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
          if (attempt >= 4 || now() + delay >= workDeadline)
            throw new EcrThrottledError(error.message, { cause: error });
          await sleep(delay);
        }
      }
    };

    /**
     * The free checks (upstream HEAD, DescribeImages) of `checksInFlight` images run at once; a pull
     * by tag holds one of the pull slots and then layer transfers one of `concurrency` slots, so an
     * unchanged night is not paced by the transfer limit, nor transfers by pulls waiting upstream.
     */
    const transfers = slots(settings.concurrency);
    const pulls = slots(settings.concurrency * PULLS_PER_TRANSFER);
    const checksInFlight = settings.concurrency * CHECKS_PER_TRANSFER;
    const checks = slots(checksInFlight);
    /** What tonight's indexes showed of their width, per upstream (index-width.ts). */
    const indexWidths = deps.indexWidths ?? new IndexWidths();
    /** The slots an image holds (each released once, when its stage ends or the image does). */
    type Held = {
      releaseCheck?: () => void;
      releasePull?: () => void;
      release?: () => void;
      endWidthTurn?: () => void;
    };

    /**
     * The fingerprint of what the cache received between the mark and the end of the run that set
     * it, to hold against what that run pulled in (layer-audit.ts); undefined when a lookup failed.
     * Known once every image's lookup has answered (the lookups are the checks' own: no extra call);
     * asked only by images received in that window.
     */
    let receivedSinceMark: Promise<string | undefined> | undefined;
    const receivedFingerprintNow = () => {
      receivedSinceMark ??= (async () => {
        const keys: string[] = [];
        let known = true;
        await mapConcurrent(images, checksInFlight, async (image) => {
          const found = await cachedDigest(cacheRepositoryName(image), image.tag).catch(() => undefined);
          if (!found || 'error' in found) known = false;
          else if (found.digest && receivedDuringMarkedRun(found.pushedAt, verifiedUntil, received))
            keys.push(`${imageReference(image)}@${found.digest}`);
        });
        return known ? receivedFingerprint(keys) : undefined;
      })();
      return receivedSinceMark;
    };
    const checkAndWarm = async (image: PrewarmImage, held: Held): Promise<ImageResult> => {
      held.releaseCheck = await checks.acquire();
      const t0 = now();
      const repository = cacheRepositoryName(image);
      const result: ImageResult = {
        image: image.original,
        cacheReference: `${cacheHost}/${repository}:${image.tag}`,
        status: 'failed',
        platforms: image.platforms,
        upstreamPulls: 0,
        durationMs: 0,
      };
      const done = (patch: Partial<ImageResult>): ImageResult =>
        Object.assign(result, patch, { durationMs: now() - t0 });
      const rule = config.rules.find((r) => r.prefix === image.rulePrefix);
      const settle = (
        decision: WarmDecision & { action: 'defer' | 'fail' | 'skip' | 'archived' | 'unverified' },
      ): ImageResult => {
        if (decision.action === 'skip') return done({ status: 'skipped', reason: decision.reason });
        if (decision.action === 'archived') return done({ status: 'archived', reason: decision.reason });
        if (decision.action === 'unverified')
          return done({
            status: 'unverified',
            step: decision.step,
            cause: decision.cause,
            reason: decision.reason,
          });
        if (decision.action === 'defer') {
          if (decision.stopUpstream && rule)
            stopUpstream(rule.upstreamUrl, `${rule.upstreamUrl}: ${decision.reason}`);
          return done({
            status: 'deferred',
            reason: decision.reason,
            ...(decision.step ? { step: decision.step, cause: decision.cause } : {}),
          });
        }
        return done({
          status: 'failed',
          step: decision.step,
          cause: decision.cause,
          reason: decision.reason,
        });
      };

      const early = decideBeforeLookup({ timeLeftMs: deps.deadline - now(), marginMs });
      if (early) return settle(early as WarmDecision & { action: 'defer' });
      if (!rule)
        return done({
          status: 'failed',
          step: 'cache-lookup',
          cause: 'other',
          reason: `no rule with prefix ${image.rulePrefix}`,
        });
      let step: PrewarmStep = 'upstream-check';
      const enter = (next: PrewarmStep) => {
        step = next;
        deps.onProgress?.({ kind: 'step', image: image.original, step: next });
      };
      const imageLayers = deps.onProgress
        ? {
            ...layerContext,
            onBytes: (bytes: number) => deps.onProgress?.({ kind: 'bytes', image: image.original, bytes }),
          }
        : layerContext;
      enter('upstream-check');
      // The cache lookup needs neither the Docker Hub login nor the HEAD: sent while the login runs.
      const lookup = cachedDigest(repository, image.tag);
      lookup.catch(() => undefined); // awaited below, unless the image stops before its HEAD
      try {
        const upstream = await upstreamFor(rule);
        if (upstream.stopped) stopUpstream(rule.upstreamUrl, `${rule.upstreamUrl}: ${upstream.stopped}`);
        const gateFacts = {
          label: `${image.repository}:${image.tag}`,
          mode: settings.mode,
          platformCount: image.platforms.length,
          marginMs,
          stoppedUpstream: stoppedUpstreams.get(rule.upstreamUrl),
          upstreamUnusable: upstream.unusable,
        };
        const blocked = decideBeforeLookup({ ...gateFacts, timeLeftMs: deps.deadline - now() });
        if (blocked) return settle(blocked as WarmDecision & { action: 'defer' | 'fail' });

        // The cache lookup and the upstream HEAD are independent: both at once.
        const sent = gate.sendMark(upstream.key);
        const [cached, firstHead] = await Promise.all([
          lookup.catch((error: unknown) => {
            step = 'cache-lookup';
            throw error;
          }),
          headUpstream(upstream.client!, image.repository, image.tag),
        ]);
        // A credential refused mid-run (a rotation retired it): once the secret holds another,
        // ask again with it rather than fail the rest of the night.
        const head =
          'error' in firstHead && firstHead.error.credentialsRejected && (await upstream.renew?.())
            ? await headUpstream(upstream.client!, image.repository, image.tag)
            : firstHead;
        held.releaseCheck();
        const health = upstreamDownAfter(failuresInARow.get(rule.upstreamUrl) ?? 0, head, rule.upstreamUrl);
        failuresInARow.set(rule.upstreamUrl, health.failuresInARow);
        if (health.down) stopUpstream(rule.upstreamUrl, health.down);
        result.cachedDigest = cached.digest;
        if (!cached.error) sinceMark.set(result, cachedSinceMark(cached, verifiedUntil));
        if ('digest' in head) {
          gate.observe(upstream.key, head.rateLimit, sent);
          if (head.rateLimit)
            deps.onProgress?.({
              kind: 'quota',
              upstream: upstream.key,
              remaining: head.rateLimit.remaining,
              limit: head.rateLimit.limit,
            });
          result.upstreamDigest = head.digest;
        }
        // A moved multi-platform image: the index it moved from, read from the cache (no upstream
        // request), says how many platforms ECR may fetch, so the pull is reserved at what it may cost.
        const cachedPlatforms =
          'digest' in head && cached.digest && cached.digest !== head.digest && isIndex(head.mediaType)
            ? await cache
                .getManifest(repository, cached.digest)
                .then((m) => m.json.manifests?.length)
                .catch(() => undefined)
            : undefined;
        indexWidths.note(upstream.key, cachedPlatforms);
        // A new (or unreadable) multi-platform image: what its pull costs is unknown until one shows it.
        held.endWidthTurn = await indexWidths.turn(
          upstream.key,
          (!deps.dryRun || !!deps.learnIndexWidths) &&
            'digest' in head &&
            isIndex(head.mediaType) &&
            head.digest !== cached.digest &&
            cachedPlatforms === undefined,
        );
        // Unchanged and received while the last whole run ran: whole if that run pulled it in.
        const pulledInByThatRun =
          'digest' in head &&
          head.digest === cached.digest &&
          receivedDuringMarkedRun(cached.pushedAt, verifiedUntil, received) &&
          sameBucket(imageReference(image), await receivedFingerprintNow(), received?.fingerprint);
        const decision = decideWarm({
          ...gateFacts,
          // Checked before the lookups; what other images found meanwhile does not undo this HEAD.
          stoppedUpstream: undefined,
          upstreamUnusable: undefined,
          timeLeftMs: Number.POSITIVE_INFINITY,
          cachedDigest: cached.digest,
          cachedStatus: cached.status,
          immutableTag: tagIsImmutable(rule.template, image.tag),
          expectedPlatforms: cachedPlatforms ?? indexWidths.widest(upstream.key),
          cacheLookupError: cached.error,
          cacheLookupForNow: cached.forNow,
          upstream: head,
          gate: gate.state(upstream.key),
          layersVerified: layerCheckWaived({
            pushedAt: cached.pushedAt,
            verifiedUntil,
            reference: `${repository}:${image.tag}`,
            now: now(),
            pulledInByThatRun,
          }),
        });
        switch (decision.action) {
          case 'skip':
          case 'defer':
          case 'archived':
          case 'unverified':
            return settle(decision);
          case 'fail':
            if (decision.credentialRefused) upstream.unusable ??= decision.reason;
            return settle(decision);
          case 'fill-layers': {
            if (deps.dryRun)
              return done({
                status: 'skipped',
                planned: 'fill-layers',
                reason:
                  'unchanged (a run also checks its layers, free of pulls while the cache holds its platforms)',
              });
            held.release = await transfers.acquire();
            enter('pull-blobs');
            // By digest, through the registry: served from the cache, no upstream pull and no API call.
            const top = await cache.getManifest(repository, decision.digest);
            // A configured platform's manifest the cache does not hold (CI pulled another platform
            // first) may be fetched from upstream when asked for: a pull, held to the reserve and budget.
            // (`present` is known here: a failed lookup never decides fill-layers.)
            const fetching = uncachedPlatformManifests(
              top.json,
              top.mediaType,
              image.platforms,
              cached.present!,
            );
            const stopped = stoppedUpstreams.get(rule.upstreamUrl);
            if (fetching.length && stopped)
              return done({ status: 'deferred', reason: `upstream work stopped: ${stopped}` });
            const refused = fetching.length ? gate.tryReserve(upstream.key, fetching.length) : undefined;
            if (refused) return done({ status: 'deferred', reason: refused });
            let blobs: Awaited<ReturnType<typeof warmPlatforms>>;
            try {
              blobs = await warmPlatforms(
                imageLayers,
                repository,
                top.json,
                top.mediaType,
                image.platforms,
                true,
              );
            } catch (error) {
              // Whether the cache reached upstream is unknown: released, and not asked again tonight.
              if (fetching.length) gate.settle(upstream.key, fetching.length, false);
              // A 429 while the cache fetched a platform is taken for Docker Hub's limit, as for a pull:
              // deferred and upstream work stopped, never a failure (at worst ECR's throttling stops
              // the night's upstream work early).
              if (fetching.length && error instanceof RegistryError && error.kind === 'rate-limited')
                return settle(
                  decidePullFailure('upstream-429', error.message) as WarmDecision & { action: 'defer' },
                );
              throw error;
            }
            if (fetching.length) {
              gate.settle(upstream.key, fetching.length, true);
              result.upstreamPulls = fetching.length;
            }
            if (blobs.count === 0 && !fetching.length)
              return done({ status: 'skipped', reason: 'unchanged' });
            const filled = [
              ...(fetching.length
                ? [`${fetching.length} platform manifest(s) fetched through the cache`]
                : []),
              ...(blobs.count ? [`${blobs.count} missing layer(s) filled in`] : []),
            ];
            return done({
              status: 'warmed',
              reason: `unchanged; ${filled.join(', ')}`,
              blobs: { count: blobs.count, bytes: blobs.bytes },
            });
          }
          case 'pull':
            break;
        }
        const upstreamDigest = result.upstreamDigest!;
        const { cost } = decision;
        const refusal = gate.tryReserve(upstream.key, cost);
        if (refusal) return done({ status: 'deferred', reason: refusal });
        if (deps.dryRun && !(deps.learnIndexWidths && held.endWidthTurn)) {
          // Counted as spent, so the budget and the reserve apply to the next images as in a run.
          gate.settle(upstream.key, cost, true);
          result.upstreamPulls = cost;
          // An index's platforms upstream are known only from the cached version it moved from.
          const atLeast = 'mediaType' in head && isIndex(head.mediaType) && cachedPlatforms === undefined;
          return done({
            status: 'would-pull',
            planned: 'pull',
            ...(atLeast ? { upstreamPullsAtLeast: true as const } : {}),
            reason: `${cached.digest ? `moved from ${short(cached.digest)}` : 'not cached'}: ${atLeast ? 'at least ' : ''}${cost} Docker Hub pull(s)`,
          });
        }
        held.releasePull = await pulls.acquire();
        // While it waited for a slot, upstream may have answered 429 or the time run short.
        const waited = decideBeforeLookup({
          timeLeftMs: deps.deadline - now(),
          marginMs,
          stoppedUpstream: stoppedUpstreams.get(rule.upstreamUrl),
        });
        if (waited) {
          gate.settle(upstream.key, cost, false);
          return settle(waited as WarmDecision & { action: 'defer' });
        }
        enter('pull-manifest');
        let pulled: Awaited<ReturnType<RegistryClient['getManifest']>>;
        try {
          pulled = await pullThroughCache(
            repository,
            image.tag,
            { key: upstream.key, client: upstream.client!, repository: image.repository },
            cost,
          );
        } catch (error) {
          // Whether the cache reached upstream before failing is unknown: the reservation is released
          // but the pull is never sent again tonight.
          gate.settle(upstream.key, cost, false);
          if (error instanceof EcrThrottledError)
            return done({
              status: 'unverified',
              step,
              cause: 'ecr-throttled',
              reason:
                'ECR kept throttling its registry (429 Rate exceeded); not verified tonight, no pull spent',
            });
          if (!(error instanceof RegistryError) || error.kind === 'aborted') throw error;
          return settle(
            decidePullFailure(failureCause(error, 'ecr'), error.message, image.rulePrefix) as WarmDecision & {
              action: 'defer' | 'fail';
            },
          );
        }
        const outcome = pullOutcome(upstreamDigest, pulled.digest);
        const spent = pullsSpent(pulled.mediaType, pulled.json.manifests?.length, cost);
        if (isIndex(pulled.mediaType)) indexWidths.note(upstream.key, pulled.json.manifests?.length);
        gate.settle(upstream.key, cost, outcome.fetchedUpstream, spent);
        held.endWidthTurn?.();
        result.upstreamPulls = outcome.fetchedUpstream ? spent : 0;
        if (outcome.status === 'stale-pending') {
          return done({
            status: 'stale-pending',
            cachedDigest: pulled.digest,
            reason: `the cache serves ${short(pulled.digest)} until ECR re-checks upstream (at most once per 24 h); upstream has ${short(upstreamDigest)}`,
          });
        }
        held.releasePull?.();
        if (deps.dryRun) {
          // The plan's pull to learn the index's width (learnIndexWidths): its platforms' manifests
          // are fetched here; its layers are a worker's, which has a whole Lambda timeout for them.
          await warmPlatforms(
            { ...imageLayers, mode: 'manifest-only' },
            repository,
            pulled.json,
            pulled.mediaType,
            image.platforms,
            false,
          );
          return done({
            status: 'warmed',
            cachedDigest: pulled.digest,
            reason: `${cached.digest ? `moved from ${short(cached.digest)}` : 'new'}: ${PULLED_BY_PLAN}`,
            ...(settings.mode === 'full' ? { planned: 'fill-layers' as const } : {}),
          });
        }
        if (settings.mode === 'full') held.release = await transfers.acquire();
        enter('pull-blobs');
        const blobs = await warmPlatforms(
          imageLayers,
          repository,
          pulled.json,
          pulled.mediaType,
          image.platforms,
          false,
        );
        const missing = blobs.missingPlatforms.length
          ? `; upstream has no ${blobs.missingPlatforms.join(', ')}`
          : '';
        return done({
          status: 'warmed',
          cachedDigest: pulled.digest,
          reason: `${cached.digest ? `moved from ${short(cached.digest)}` : 'new'}${missing}`,
          ...(settings.mode === 'full' ? { blobs: { count: blobs.count, bytes: blobs.bytes } } : {}),
        });
      } catch (error) {
        if (signal.aborted)
          return done({
            status: 'deferred',
            step,
            cause: 'deadline',
            reason: `cut short at ${step}: the run stops ${Math.round((deps.deadline - workDeadline) / 1000)} s before its deadline to return the report`,
          });
        const failure = asImageFailure(error, step);
        if (failure.failureCause === 'ecr-throttled')
          return done({
            status: 'unverified',
            step,
            cause: 'ecr-throttled',
            reason: `${failure.message}; not verified tonight`,
          });
        // ECR failing for the moment (a 5xx or no answer past the retries) on an image the cache
        // holds: it says nothing of the image, which CI goes on pulling. No alarm for it.
        if (result.cachedDigest && ecrFailingForNow(error))
          return done({
            status: 'unverified',
            step: failure.step,
            cause: failure.failureCause,
            reason: `${failure.message}; ECR failed, not the image: the cache holds ${short(result.cachedDigest)}, checked again next night`,
          });
        return done({
          status: 'failed',
          step: failure.step,
          cause: failure.failureCause,
          reason: failure.message,
        });
      }
    };

    let finished = 0;
    // Every image is under way at once, queued by the slots (in the night's order): an image's
    // checks never wait for another image's pull or transfer to end.
    const results = await mapConcurrent(images, images.length, async (image) => {
      const held: Held = {};
      try {
        const result = await checkAndWarm(image, held);
        finished++;
        deps.logger?.info('image', { ...result });
        deps.onImage?.(result, finished, images.length);
        return result;
      } finally {
        held.releaseCheck?.();
        held.releasePull?.();
        held.release?.();
        held.endWidthTurn?.();
      }
    });

    // One last free HEAD per quota-reporting upstream, to measure what the run really spent; not
    // after a 429 (the quota then says nothing about this run) nor once the deadline has passed.
    const measures: Array<number | undefined> = [];
    let dockerHub = undefined as PrewarmReport['dockerHub'];
    // A dry run's pulls are estimates, except the plan's pulls to learn an index's width (warmed).
    const pulledForReal = deps.dryRun ? results.some((r) => r.status === 'warmed') : gate.spent > 0;
    // One measure per quota (rules drawing on the same account share one), with a rule's own client.
    const quotas = new Set([...upstreams.values()].map((u) => u.key));
    for (const key of quotas) {
      const probeAt = results.findIndex(
        (r, i) => r.upstreamDigest && upstreams.get(images[i]!.rulePrefix)?.key === key,
      );
      const probeImage = probeAt >= 0 ? images[probeAt] : undefined;
      const upstream = probeImage && upstreams.get(probeImage.rulePrefix);
      if (upstream?.client && probeImage && !upstream.unusable && gate.quota(key)) {
        // Nothing pulled: the quota already seen says all (an unchanged night costs no extra request).
        const host = config.rules.find((r) => r.prefix === probeImage.rulePrefix)?.upstreamUrl;
        if (!(host && stoppedUpstreams.has(host)) && !signal.aborted && pulledForReal) {
          try {
            const sent = gate.sendMark(key);
            gate.observe(
              key,
              (await upstream.client.headManifest(probeImage.repository, probeImage.tag)).rateLimit,
              sent,
            );
          } catch {
            // the measurement is best effort
          }
        }
        measures.push(gate.measuredSpend(key));
        dockerHub = gate.quota(key);
      }
    }

    // Measured only when every upstream's quota measured this run alone; otherwise the estimate stands.
    const measured =
      measures.length && measures.every((m) => m !== undefined)
        ? measures.reduce((a, m) => a + m, 0)
        : undefined;

    if (leaseSecret) {
      // Nothing left half-warmed: whatever the cache held when this run started has all its layers,
      // so later runs need check only what it received since (a client may pull one platform of a
      // new digest while a run is under way; that image is checked next night).
      const whole =
        settings.mode === 'full' &&
        !signal.aborted &&
        coversNight(settings.images.map(imageReference), images.map(imageReference)) &&
        everyImageWhole(results.map((r) => ({ ...r, cachedSinceMark: sinceMark.get(r) })));
      await recordNight(deps.secrets, leaseSecret, {
        ...(whole
          ? {
              layersVerified: started,
              layersReceived: receivedMark(images.map(imageReference), results, now()),
            }
          : {}),
        resume: nextResume(
          images,
          results.map((r) => r.status),
          imageReference,
        ),
      }).catch((error: unknown) =>
        deps.logger?.warn('night marks not recorded', { error: errorMessage(error) }),
      );
    }

    return report(results, {
      ...(deps.dryRun ? { dryRun: true } : {}),
      upstreamPulls: { estimated: gate.spent, ...(measured !== undefined ? { measured } : {}) },
      ...(dockerHub ? { dockerHub } : {}),
      ...(stoppedUpstreams.size ? { stoppedUpstream: [...stoppedUpstreams.values()].join('; ') } : {}),
    });
  } finally {
    clearTimeout(timer);
    if (leaseSecret) await releaseLease(deps.secrets, leaseSecret, runId).catch(() => undefined);
  }
}
