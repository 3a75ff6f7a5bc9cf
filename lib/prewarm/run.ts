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
import { IMAGE_MEDIA_TYPES, INDEX_MEDIA_TYPES, isIndex } from '../registry/media-types.js';
import { errorMessage } from '../runtime/errors.js';
import type { Logger } from '../runtime/logger.js';
import { registerSecret } from '../runtime/redact.js';
import { mapConcurrent } from '../runtime/retry.js';
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
  env?: NodeJS.ProcessEnv;
}

class ImageFailure extends Error {
  constructor(
    readonly step: PrewarmStep,
    readonly cause_: FailureCause,
    message: string,
    readonly defer = false,
  ) {
    super(message);
  }
}

const short = (digest?: string) => (digest ? digest.slice(7, 19) : '(none)');

function causeOf(error: RegistryError, via: 'upstream' | 'ecr'): FailureCause {
  switch (error.kind) {
    case 'auth':
      return via === 'upstream' && !error.details.credentialsRejected ? 'not-found' : 'auth';
    case 'not-found':
      return 'not-found';
    case 'rate-limited':
      return 'upstream-429';
    case 'server':
      return via === 'ecr' && error.details.status !== 503 ? 'ecr-error' : 'upstream-5xx';
    case 'network':
      return 'network';
    case 'digest-mismatch':
      return 'digest-mismatch';
    default:
      return 'other';
  }
}

export async function runPrewarm(images: PrewarmImage[], deps: PrewarmDeps): Promise<PrewarmReport> {
  const started = Date.now();
  const { config, ecr } = deps;
  const settings = config.prewarm;
  const env = deps.env ?? process.env;
  const gate = new UpstreamPullGate(settings.reserveUpstreamPulls, settings.maxUpstreamPullsPerRun);
  const upstreams = new Map<string, Upstream>();
  let stoppedUpstream: string | undefined;

  // The cache's registry endpoint and a credential for it (12 hours; one per run).
  const auth = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0];
  if (!auth?.authorizationToken || !auth.proxyEndpoint)
    throw new Error('GetAuthorizationToken returned no token or proxyEndpoint');
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
        env,
      });
      void pending.then((u) => upstreams.set(rule.prefix, u));
      connecting.set(rule.prefix, pending);
    }
    return pending;
  };

  const cachedDigest = async (repository: string, tag: string): Promise<string | undefined> => {
    try {
      const out = await ecr.send(
        new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: tag }] }),
      );
      return out.imageDetails?.[0]?.imageDigest;
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'RepositoryNotFoundException' || name === 'ImageNotFoundException') return undefined;
      throw new ImageFailure('cache-lookup', 'ecr-error', `DescribeImages: ${name}: ${errorMessage(error)}`);
    }
  };

  const warmOne = async (image: PrewarmImage): Promise<ImageResult> => {
    const t0 = Date.now();
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
      Object.assign(result, patch, { durationMs: Date.now() - t0 });
    if (Date.now() > deps.deadline - settings.safetyMarginSeconds * 1000) {
      return done({
        status: 'deferred',
        reason: `less than ${settings.safetyMarginSeconds} s of Lambda time left`,
      });
    }
    const rule = config.rules.find((r) => r.prefix === image.rulePrefix);
    if (!rule)
      return done({
        status: 'failed',
        step: 'cache-lookup',
        cause: 'other',
        reason: `no rule with prefix ${image.rulePrefix}`,
      });
    const upstream = await upstreamFor(rule);
    try {
      if (stoppedUpstream) return done({ status: 'deferred', reason: `not checked: ${stoppedUpstream}` });
      if (upstream.unusable) throw new ImageFailure('upstream-check', 'auth', upstream.unusable);

      const cached = await cachedDigest(repository, image.tag);
      result.cachedDigest = cached;
      let head: Awaited<ReturnType<RegistryClient['headManifest']>>;
      try {
        head = await upstream.client!.headManifest(upstreamRepository(rule, image), image.tag);
      } catch (error) {
        if (!(error instanceof RegistryError)) throw error;
        const cause = causeOf(error, 'upstream');
        if (cause === 'auth') {
          upstream.unusable = `upstream refused the credential (${error.message}); not retried, Docker Hub throttles failed logins`;
          throw new ImageFailure('upstream-check', 'auth', upstream.unusable);
        }
        if (cause === 'upstream-429') {
          stoppedUpstream = 'upstream answered 429 TOOMANYREQUESTS';
          throw new ImageFailure('upstream-check', cause, stoppedUpstream, true);
        }
        const reason =
          cause === 'not-found'
            ? `${image.repository}:${image.tag} does not exist upstream (or is not accessible)`
            : error.message;
        throw new ImageFailure('upstream-check', cause, reason);
      }
      gate.observe(upstream.key, head.rateLimit);
      result.upstreamDigest = head.digest;

      if (cached === head.digest) {
        if (settings.mode === 'manifest-only') return done({ status: 'skipped', reason: 'unchanged' });
        // Unchanged: make sure a crashed or manifest-only earlier run left no layer behind (no upstream pull).
        const stored = await ecr.send(
          new BatchGetImageCommand({
            repositoryName: repository,
            imageIds: [{ imageDigest: cached }],
            acceptedMediaTypes: [...INDEX_MEDIA_TYPES, ...IMAGE_MEDIA_TYPES],
          }),
        );
        const top = stored.images?.[0];
        if (!top?.imageManifest) return done({ status: 'skipped', reason: 'unchanged' });
        const blobs = await warmPlatforms(
          layerContext,
          repository,
          JSON.parse(top.imageManifest),
          top.imageManifestMediaType ?? '',
          image.platforms,
          true,
        ).catch((error) => {
          throw new ImageFailure(
            'pull-blobs',
            error instanceof RegistryError ? causeOf(error, 'ecr') : 'ecr-error',
            errorMessage(error),
          );
        });
        if (blobs.count === 0) return done({ status: 'skipped', reason: 'unchanged' });
        return done({
          status: 'warmed',
          reason: `unchanged; ${blobs.count} missing layer(s) filled in`,
          blobs: { count: blobs.count, bytes: blobs.bytes },
        });
      }

      const cost = isIndex(head.mediaType) ? image.platforms.length : 1;
      const refusal = gate.tryReserve(upstream.key, cost);
      if (refusal) return done({ status: 'deferred', reason: refusal });
      let pulled: Awaited<ReturnType<RegistryClient['getManifest']>>;
      try {
        pulled = await cache.getManifest(repository, image.tag);
      } catch (error) {
        gate.settle(upstream.key, cost, false);
        if (!(error instanceof RegistryError)) throw error;
        const cause = causeOf(error, 'ecr');
        if (cause === 'upstream-429') {
          stoppedUpstream = 'the cache reported upstream 429 TOOMANYREQUESTS';
          throw new ImageFailure('pull-manifest', cause, stoppedUpstream, true);
        }
        throw new ImageFailure('pull-manifest', cause, error.message);
      }
      // A cache that still serves the old digest is inside ECR's 24-hour window: it did not ask upstream.
      const fetchedUpstream = pulled.digest === head.digest;
      gate.settle(upstream.key, cost, fetchedUpstream);
      result.upstreamPulls = fetchedUpstream ? cost : 0;
      if (!fetchedUpstream) {
        return done({
          status: 'stale-pending',
          cachedDigest: pulled.digest,
          reason: `the cache serves ${short(pulled.digest)} until ECR re-checks upstream (at most once per 24 h); upstream has ${short(head.digest)}`,
        });
      }
      const blobs = await warmPlatforms(
        layerContext,
        repository,
        pulled.json,
        pulled.mediaType,
        image.platforms,
        false,
      ).catch((error) => {
        throw new ImageFailure(
          'pull-blobs',
          error instanceof RegistryError ? causeOf(error, 'ecr') : 'ecr-error',
          errorMessage(error),
        );
      });
      const missing = blobs.missingPlatforms.length
        ? `; upstream has no ${blobs.missingPlatforms.join(', ')}`
        : '';
      return done({
        status: 'warmed',
        cachedDigest: pulled.digest,
        reason: `${cached ? `moved from ${short(cached)}` : 'new'}${missing}`,
        ...(settings.mode === 'full' ? { blobs: { count: blobs.count, bytes: blobs.bytes } } : {}),
      });
    } catch (error) {
      if (error instanceof ImageFailure) {
        if (error.defer)
          return done({ status: 'deferred', step: error.step, cause: error.cause_, reason: error.message });
        return done({ status: 'failed', step: error.step, cause: error.cause_, reason: error.message });
      }
      return done({ status: 'failed', step: 'pull-manifest', cause: 'other', reason: errorMessage(error) });
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
    durationMs: Date.now() - started,
    images: results,
    counts: countStatuses(results),
    upstreamPulls: { estimated: gate.spent, ...(measured !== undefined ? { measured } : {}) },
    ...(dockerHub ? { dockerHub } : {}),
    ...(stoppedUpstream ? { stoppedUpstream } : {}),
  };
}
