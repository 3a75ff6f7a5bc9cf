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
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  type ECRClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { cacheRepositoryName } from '../config/images.js';
import type { DesiredRule, KeeperConfig, PrewarmImage } from '../config/load.js';
import { RegistryClient } from '../registry/client.js';
import { RegistryError } from '../registry/errors.js';
import { IMAGE_MEDIA_TYPES, INDEX_MEDIA_TYPES } from '../registry/media-types.js';
import type { Endpoints } from '../registry/upstreams.js';
import { awsErrorName, errorMessage, KeeperError } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import { registerSecret } from '../runtime/redact.js';
import { mapConcurrent } from '../runtime/retry.js';
import {
  decideBeforeLookup,
  decidePullFailure,
  decideWarm,
  failureCause,
  pullOutcome,
  type WarmDecision,
} from './decide.js';
import { warmPlatforms } from './layers.js';
import { UpstreamPullGate } from './quota.js';
import {
  countStatuses,
  type FailureCause,
  type ImageResult,
  type PrewarmReport,
  type PrewarmStep,
} from './report.js';
import { connectUpstream, type Upstream, upstreamRepository } from './upstream.js';

export interface PrewarmDeps {
  ecr: ECRClient;
  secrets: SecretsManagerClient;
  config: KeeperConfig;
  /** Absolute time (ms) by which the run must have returned. */
  deadline: number;
  fetch?: typeof fetch;
  logger?: Logger;
  onImage?: (result: ImageResult, done: number, total: number) => void;
  endpoints?: Endpoints;
  now?: () => number;
}

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

const short = (digest?: string) => (digest ? digest.slice(7, 19) : '(none)');

/** Any error met while warming an image, as a failure of the step it happened in. */
function asImageFailure(error: unknown, step: PrewarmStep): ImageFailure {
  if (error instanceof ImageFailure) return error;
  const via = step === 'upstream-check' ? 'upstream' : 'ecr';
  const cause: FailureCause =
    error instanceof RegistryError
      ? failureCause(error, via)
      : error instanceof Error && '$metadata' in error
        ? 'ecr-error'
        : 'other';
  const name = awsErrorName(error);
  const message =
    error instanceof RegistryError || !name || name === 'Error'
      ? errorMessage(error)
      : `${name}: ${errorMessage(error)}`;
  return new ImageFailure(step, cause, message, { cause: error });
}

export async function runPrewarm(images: PrewarmImage[], deps: PrewarmDeps): Promise<PrewarmReport> {
  const now = deps.now ?? Date.now;
  const started = now();
  const { config, ecr } = deps;
  const settings = config.prewarm;
  const marginMs = settings.safetyMarginSeconds * 1000;
  const gate = new UpstreamPullGate(settings.reserveUpstreamPulls, settings.maxUpstreamPullsPerRun);
  const upstreams = new Map<string, Upstream>();
  let stoppedUpstream: string | undefined;

  // The cache's registry endpoint and a credential for it (12 hours; one per run).
  const auth = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0];
  if (!auth?.authorizationToken || !auth.proxyEndpoint)
    throw new KeeperError('GetAuthorizationToken returned no token or proxyEndpoint');
  registerSecret(auth.authorizationToken);
  registerSecret(Buffer.from(auth.authorizationToken, 'base64').toString('utf8').replace(/^AWS:/, ''));
  const cacheHost = new URL(auth.proxyEndpoint).host;
  const cache = new RegistryClient({
    baseUrl: auth.proxyEndpoint,
    credentials: { basic: auth.authorizationToken },
    fetch: deps.fetch,
    deadline: deps.deadline,
  });
  const layerContext = { cache, ecr, mode: settings.mode };

  // One connection per upstream, made by the first image that needs it.
  const connecting = new Map<string, Promise<Upstream>>();
  const upstreamFor = (rule: DesiredRule): Promise<Upstream> => {
    let pending = connecting.get(rule.prefix);
    if (!pending) {
      const repositories = images
        .filter((i) => i.rulePrefix === rule.prefix)
        .map((i) => upstreamRepository(rule, i));
      pending = connectUpstream(rule, repositories, {
        secrets: deps.secrets,
        fetch: deps.fetch,
        deadline: deps.deadline,
        endpoints: deps.endpoints,
      });
      void pending.then((u) => upstreams.set(rule.prefix, u));
      connecting.set(rule.prefix, pending);
    }
    return pending;
  };

  /** The digest ECR holds for the tag; undefined when not cached. */
  const cachedDigest = async (repository: string, tag: string) => {
    try {
      const out = await ecr.send(
        new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: tag }] }),
      );
      return { digest: out.imageDetails?.[0]?.imageDigest };
    } catch (error) {
      const name = awsErrorName(error);
      if (name === 'RepositoryNotFoundException' || name === 'ImageNotFoundException') return {};
      return { error: `DescribeImages: ${name}: ${errorMessage(error)}` };
    }
  };

  /** The upstream HEAD (free on Docker Hub): the digest, or what went wrong. */
  const headUpstream = async (client: RegistryClient, repository: string, tag: string) => {
    try {
      return await client.headManifest(repository, tag);
    } catch (error) {
      if (!(error instanceof RegistryError)) throw error;
      return {
        error: {
          kind: error.kind,
          message: error.message,
          credentialsRejected: error.details.credentialsRejected,
        },
      };
    }
  };

  /** Full mode, unchanged image: the layers a crashed or manifest-only earlier run left behind. */
  const fillLayers = async (repository: string, digest: string, platforms: string[]) => {
    const stored = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: repository,
        imageIds: [{ imageDigest: digest }],
        acceptedMediaTypes: [...INDEX_MEDIA_TYPES, ...IMAGE_MEDIA_TYPES],
      }),
    );
    const top = stored.images?.[0];
    if (!top?.imageManifest) return { count: 0, bytes: 0 };
    return warmPlatforms(
      layerContext,
      repository,
      JSON.parse(top.imageManifest),
      top.imageManifestMediaType ?? '',
      platforms,
      true,
    );
  };

  const warmOne = async (image: PrewarmImage): Promise<ImageResult> => {
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
    const settle = (decision: WarmDecision & { action: 'defer' | 'fail' | 'skip' }): ImageResult => {
      if (decision.action === 'skip') return done({ status: 'skipped', reason: decision.reason });
      if (decision.action === 'defer') {
        if (decision.stopUpstream) stoppedUpstream ??= decision.reason;
        return done({
          status: 'deferred',
          reason: decision.reason,
          ...(decision.step ? { step: decision.step, cause: decision.cause } : {}),
        });
      }
      return done({ status: 'failed', step: decision.step, cause: decision.cause, reason: decision.reason });
    };

    const early = decideBeforeLookup({ timeLeftMs: deps.deadline - now(), marginMs });
    if (early) return settle(early as WarmDecision & { action: 'defer' });
    const rule = config.rules.find((r) => r.prefix === image.rulePrefix);
    if (!rule)
      return done({
        status: 'failed',
        step: 'cache-lookup',
        cause: 'other',
        reason: `no rule with prefix ${image.rulePrefix}`,
      });
    const upstream = await upstreamFor(rule);
    let step: PrewarmStep = 'upstream-check';
    try {
      const gateFacts = {
        label: `${image.repository}:${image.tag}`,
        mode: settings.mode,
        platformCount: image.platforms.length,
        marginMs,
        stoppedUpstream,
        upstreamUnusable: upstream.unusable,
      };
      const blocked = decideBeforeLookup({ ...gateFacts, timeLeftMs: deps.deadline - now() });
      if (blocked) return settle(blocked as WarmDecision & { action: 'defer' | 'fail' });

      // The cache lookup and the upstream HEAD are independent: both at once.
      const [cached, head] = await Promise.all([
        cachedDigest(repository, image.tag),
        headUpstream(upstream.client!, upstreamRepository(rule, image), image.tag),
      ]);
      result.cachedDigest = cached.digest;
      if ('digest' in head) {
        gate.observe(upstream.key, head.rateLimit);
        result.upstreamDigest = head.digest;
      }
      const decision = decideWarm({
        ...gateFacts,
        // Checked before the lookups; what other images found meanwhile does not undo this HEAD.
        stoppedUpstream: undefined,
        upstreamUnusable: undefined,
        timeLeftMs: Number.POSITIVE_INFINITY,
        cachedDigest: cached.digest,
        cacheLookupError: cached.error,
        upstream: head,
        gate: gate.state(upstream.key),
      });
      switch (decision.action) {
        case 'skip':
        case 'defer':
          return settle(decision);
        case 'fail':
          if (decision.credentialRefused) upstream.unusable ??= decision.reason;
          return settle(decision);
        case 'fill-layers': {
          step = 'pull-blobs';
          const blobs = await fillLayers(repository, decision.digest, image.platforms);
          if (blobs.count === 0) return done({ status: 'skipped', reason: 'unchanged' });
          return done({
            status: 'warmed',
            reason: `unchanged; ${blobs.count} missing layer(s) filled in`,
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
      step = 'pull-manifest';
      let pulled: Awaited<ReturnType<RegistryClient['getManifest']>>;
      try {
        pulled = await cache.getManifest(repository, image.tag);
      } catch (error) {
        gate.settle(upstream.key, cost, false);
        if (!(error instanceof RegistryError)) throw error;
        const failed = decidePullFailure(failureCause(error, 'ecr'), error.message);
        return settle(failed as WarmDecision & { action: 'defer' | 'fail' });
      }
      const outcome = pullOutcome(upstreamDigest, pulled.digest);
      gate.settle(upstream.key, cost, outcome.fetchedUpstream);
      result.upstreamPulls = outcome.fetchedUpstream ? cost : 0;
      if (outcome.status === 'stale-pending') {
        return done({
          status: 'stale-pending',
          cachedDigest: pulled.digest,
          reason: `the cache serves ${short(pulled.digest)} until ECR re-checks upstream (at most once per 24 h); upstream has ${short(upstreamDigest)}`,
        });
      }
      step = 'pull-blobs';
      const blobs = await warmPlatforms(
        layerContext,
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
      const failure = asImageFailure(error, step);
      return done({
        status: 'failed',
        step: failure.step,
        cause: failure.failureCause,
        reason: failure.message,
      });
    }
  };

  let finished = 0;
  const results = await mapConcurrent(images, settings.concurrency, async (image) => {
    const result = await warmOne(image);
    finished++;
    deps.logger?.info('image', { ...result });
    deps.onImage?.(result, finished, images.length);
    return result;
  });

  // One last free HEAD per quota-reporting upstream, to measure what the run really spent.
  let measured: number | undefined;
  let dockerHub = undefined as PrewarmReport['dockerHub'];
  for (const [key, upstream] of upstreams) {
    const probe = results.find((r, i) => images[i]!.rulePrefix === key && r.upstreamDigest);
    const probeImage = probe && images[results.indexOf(probe)];
    if (upstream.client && probeImage && !upstream.unusable && gate.quota(key)) {
      const rule = config.rules.find((r) => r.prefix === key)!;
      try {
        gate.observe(
          key,
          (await upstream.client.headManifest(upstreamRepository(rule, probeImage), probeImage.tag))
            .rateLimit,
        );
      } catch {
        // the measurement is best effort
      }
      measured = (measured ?? 0) + (gate.measuredSpend(key) ?? 0);
      dockerHub = gate.quota(key);
    }
  }

  return {
    mode: settings.mode,
    startedAt: new Date(started).toISOString(),
    durationMs: now() - started,
    images: results,
    counts: countStatuses(results),
    upstreamPulls: { estimated: gate.spent, ...(measured !== undefined ? { measured } : {}) },
    ...(dockerHub ? { dockerHub } : {}),
    ...(stoppedUpstream ? { stoppedUpstream } : {}),
  };
}
