/**
 * The cache side of a warm, after the top manifest: the configured platforms' manifests, then (in
 * full mode) their config and layer blobs, a few at a time, streamed and digest-verified. For an
 * unchanged image only the blobs the cache does not hold yet are fetched (BatchCheckLayerAvailability),
 * which repairs a crashed or manifest-only earlier run without any upstream pull.
 */
import { BatchCheckLayerAvailabilityCommand, type ECRClient } from '@aws-sdk/client-ecr';
import type { Descriptor, ManifestDocument, RegistryClient } from '../registry/client.js';
import { isIndex } from '../registry/media-types.js';
import { mapConcurrent } from '../runtime/retry.js';

const BLOBS_IN_FLIGHT_PER_IMAGE = 4;

export interface LayerContext {
  cache: RegistryClient;
  ecr: ECRClient;
  mode: 'full' | 'manifest-only';
  /** The run's deadline signal, for the API calls. */
  signal?: AbortSignal;
  /** Told the size of each blob as it arrives (a live view's bytes moved). */
  onBytes?: (bytes: number) => void;
}

export function matchesPlatform(descriptor: Descriptor, platform: string): boolean {
  const [os, architecture, variant] = platform.split('/');
  const p = descriptor.platform;
  return (
    p?.os === os && p?.architecture === architecture && (variant === undefined || p?.variant === variant)
  );
}

async function availableBlobs(
  ecr: ECRClient,
  repository: string,
  digests: string[],
  signal?: AbortSignal,
): Promise<Set<string>> {
  const available = new Set<string>();
  for (let i = 0; i < digests.length; i += 100) {
    const out = await ecr.send(
      new BatchCheckLayerAvailabilityCommand({
        repositoryName: repository,
        layerDigests: digests.slice(i, i + 100),
      }),
      { abortSignal: signal },
    );
    for (const layer of out.layers ?? [])
      if (layer.layerAvailability === 'AVAILABLE' && layer.layerDigest) available.add(layer.layerDigest);
  }
  return available;
}

/**
 * The configured platforms' manifests an index lists that the cache does not hold (`present`: the
 * digests it does): asking for them may make ECR fetch them from upstream.
 */
export function uncachedPlatformManifests(
  document: ManifestDocument,
  mediaType: string,
  platforms: string[],
  present: ReadonlySet<string>,
): string[] {
  if (!isIndex(mediaType)) return [];
  return platforms
    .map((platform) => document.manifests?.find((m) => matchesPlatform(m, platform))?.digest)
    .filter((digest): digest is string => digest !== undefined && !present.has(digest));
}

export async function warmPlatforms(
  ctx: LayerContext,
  repository: string,
  document: ManifestDocument,
  mediaType: string,
  platforms: string[],
  onlyMissing: boolean,
): Promise<{ count: number; bytes: number; missingPlatforms: string[] }> {
  const imageManifests: ManifestDocument[] = [];
  const missingPlatforms: string[] = [];
  if (isIndex(mediaType)) {
    const children = platforms.map((platform) => ({
      platform,
      child: document.manifests?.find((m) => matchesPlatform(m, platform)),
    }));
    for (const { platform, child } of children) if (!child) missingPlatforms.push(platform);
    // The platforms' manifests at once: they are independent.
    const found = children.filter((c) => c.child).map((c) => c.child!.digest);
    imageManifests.push(
      ...(await Promise.all(
        found.map(async (digest) => (await ctx.cache.getManifest(repository, digest)).json),
      )),
    );
  } else {
    imageManifests.push(document);
  }
  let count = 0;
  let bytes = 0;
  if (ctx.mode === 'full') {
    const digests = [
      ...new Set(
        imageManifests
          .flatMap((m) => [m.config?.digest, ...(m.layers ?? []).map((l) => l.digest)])
          .filter((d): d is string => !!d),
      ),
    ];
    const present =
      onlyMissing && digests.length > 0
        ? await availableBlobs(ctx.ecr, repository, digests, ctx.signal)
        : new Set<string>();
    await mapConcurrent(
      digests.filter((d) => !present.has(d)),
      BLOBS_IN_FLIGHT_PER_IMAGE,
      async (digest) => {
        const fetched = await ctx.cache.fetchBlob(repository, digest);
        bytes += fetched.bytes;
        count++;
        ctx.onBytes?.(fetched.bytes);
      },
    );
  }
  return { count, bytes, missingPlatforms };
}
