/**
 * Walks the cache: every repository under each managed prefix (DescribeRepositories, all pages,
 * 1000 a page) and every image in them (DescribeImages, all pages, 1000 a page, archived ones
 * included), with bounded concurrency; the SDK's adaptive retry absorbs Describe* throttling.
 * Optionally reads the manifests (BatchGetImage, 100 a call) to count layers shared inside a
 * repository once.
 */
import {
  BatchGetImageCommand,
  type ECRClient,
  type ImageDetail,
  paginateDescribeImages,
  paginateDescribeRepositories,
} from '@aws-sdk/client-ecr';
import type { KeeperConfig } from '../config/load.js';
import { prefixOf, refusedEverywhere, type UnreadableRepository, walkRepositories } from '../ecr/state.js';
import { IMAGE_MEDIA_TYPES, isIndex } from '../registry/media-types.js';
import { DeadlineError } from '../runtime/errors.js';
import {
  addFigures,
  emptyFigures,
  lastActivity,
  monthlyCost,
  type SizeFigures,
  summarizeImages,
} from './cache-size.js';

export interface RepositoryFigures extends SizeFigures {
  name: string;
  prefix: string;
  /** Bytes with layers shared between images of the repository counted once (exactLayerBytes). */
  dedupedBytes?: number;
}

export interface StaleImage {
  repository: string;
  tags: string[];
  digest: string;
  bytes: number;
  lastActivity?: string;
}

export interface CacheReport {
  generatedAt: string;
  staleAfterDays: number;
  pricePerGbMonth: number;
  total: SizeFigures & { repositories: number; monthlyCost: number; dedupedBytes?: number };
  byPrefix: Array<
    SizeFigures & { prefix: string; repositories: number; monthlyCost: number; dedupedBytes?: number }
  >;
  /** Every repository, largest first. */
  repositories: RepositoryFigures[];
  /** The largest stale images (at most 20). */
  staleImages: StaleImage[];
  /** Repositories listed but deleted before their images were read: left out of every figure. */
  vanished: string[];
  /**
   * Repositories whose reads were refused to this caller alone (AccessDenied: a guardrail's Deny in
   * the repository's own policy): left out of every figure, counted in CacheRepositoriesUnreadable.
   */
  unreadable: UnreadableRepository[];
  /** Repositories whose first read failed for a reason of the moment, read again after the walk. */
  readAgain: number;
  /** API calls made, by operation (the benchmark compares them with the minimum pages). */
  apiCalls: Record<string, number>;
}

const PAGE = 1000;

/** The line a report prints for the repositories it left out because their policies refused it. */
export const unreadableLine = (unreadable: UnreadableRepository[]): string =>
  `Not readable by this caller, left out: ${unreadable.map((r) => r.name).join(', ')} (${unreadable[0]?.error}).`;

/** Every repository under the given rule prefixes (DescribeRepositories, all pages), with its prefix. */
export async function cachedRepositories(
  ecr: ECRClient,
  prefixes: string[],
  count: (operation: string) => void = () => {},
): Promise<Array<{ name: string; prefix: string }>> {
  const hasRoot = prefixes.includes('ROOT');
  const repositories: Array<{ name: string; prefix: string }> = [];
  for await (const page of paginateDescribeRepositories({ client: ecr, pageSize: PAGE }, {})) {
    count('DescribeRepositories');
    for (const repo of page.repositories ?? []) {
      const prefix = prefixOf(repo.repositoryName!, prefixes) ?? (hasRoot ? 'ROOT' : undefined);
      if (prefix) repositories.push({ name: repo.repositoryName!, prefix });
    }
  }
  return repositories;
}

/** Every image of a repository, archived ones included (DescribeImages, all pages). */
export async function repositoryImages(
  ecr: ECRClient,
  repositoryName: string,
  count: (operation: string) => void = () => {},
): Promise<ImageDetail[]> {
  const images: ImageDetail[] = [];
  for await (const page of paginateDescribeImages(
    { client: ecr, pageSize: PAGE },
    { repositoryName, filter: { imageStatus: 'ANY' } },
  )) {
    count('DescribeImages');
    images.push(...(page.imageDetails ?? []));
  }
  return images;
}

export async function collectCacheMetrics(
  ecr: ECRClient,
  config: KeeperConfig,
  options: { now?: number; concurrency?: number } = {},
): Promise<CacheReport> {
  const now = options.now ?? Date.now();
  const settings = config.metrics;
  const calls: Record<string, number> = {};
  const count = (op: string) => {
    calls[op] = (calls[op] ?? 0) + 1;
  };
  const prefixes = config.rules.map((r) => r.prefix);

  const repositories = await cachedRepositories(ecr, prefixes, count);

  const concurrency = options.concurrency ?? settings.concurrency;
  const progress = { done: 0 };
  const walk = await walkRepositories(
    repositories,
    concurrency,
    (repo) => repositoryFigures(ecr, repo, settings, now, count),
    progress,
  ).catch((error: unknown) => {
    // A cache too big for the function's time: say how far the walk got and what would let it finish.
    if (!(error instanceof DeadlineError)) throw error;
    throw new DeadlineError(
      `the cache walk read ${progress.done} of ${repositories.length} repositories before the invocation's deadline (metrics.concurrency ${concurrency}): raise metrics.concurrency, or the cacheMetrics function's timeout; ${error.message}`,
      { cause: error },
    );
  });
  const everywhere = refusedEverywhere(walk, repositories.length);
  if (everywhere) throw everywhere;
  const perRepository = walk.read.map((r) => r.value.figures);
  const stale = walk.read.flatMap((r) => r.value.stale);

  const byPrefix = new Map<string, SizeFigures & { repositories: number; dedupedBytes?: number }>();
  for (const prefix of prefixes)
    byPrefix.set(prefix, {
      ...emptyFigures(),
      repositories: 0,
      ...(settings.exactLayerBytes ? { dedupedBytes: 0 } : {}),
    });
  const total = {
    ...emptyFigures(),
    repositories: 0,
    ...(settings.exactLayerBytes ? { dedupedBytes: 0 } : {}),
  };
  for (const repo of perRepository) {
    const { name: _n, prefix, dedupedBytes: deduped, ...figures } = repo;
    const group = byPrefix.get(prefix)!;
    addFigures(group, figures);
    addFigures(total, figures);
    group.repositories++;
    total.repositories++;
    if (deduped !== undefined) {
      group.dedupedBytes = (group.dedupedBytes ?? 0) + deduped;
      total.dedupedBytes = (total.dedupedBytes ?? 0) + deduped;
    }
  }
  return {
    generatedAt: new Date(now).toISOString(),
    staleAfterDays: settings.staleAfterDays,
    pricePerGbMonth: settings.pricePerGbMonth,
    total: { ...total, monthlyCost: monthlyCost(total.bytes, settings.pricePerGbMonth) },
    byPrefix: [...byPrefix].map(([prefix, f]) => ({
      prefix,
      ...f,
      monthlyCost: monthlyCost(f.bytes, settings.pricePerGbMonth),
    })),
    repositories: perRepository.sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name)),
    staleImages: stale.sort((a, b) => b.bytes - a.bytes).slice(0, 20),
    vanished: walk.vanished,
    unreadable: walk.unreadable,
    readAgain: walk.readAgain,
    apiCalls: calls,
  };
}

/** One repository's figures and its stale images. */
async function repositoryFigures(
  ecr: ECRClient,
  repo: { name: string; prefix: string },
  settings: KeeperConfig['metrics'],
  now: number,
  count: (operation: string) => void,
): Promise<{ figures: RepositoryFigures; stale: StaleImage[] }> {
  const images = await repositoryImages(ecr, repo.name, count);
  const figures: RepositoryFigures = {
    name: repo.name,
    prefix: repo.prefix,
    ...summarizeImages(images, now, settings.staleAfterDays),
  };
  const staleBefore = now - settings.staleAfterDays * 86_400_000;
  const stale: StaleImage[] = [];
  for (const image of images) {
    const active = lastActivity(image);
    if (!isIndex(image.imageManifestMediaType) && active !== undefined && active < staleBefore) {
      stale.push({
        repository: repo.name,
        tags: image.imageTags ?? [],
        digest: image.imageDigest!,
        bytes: image.imageSizeInBytes ?? 0,
        lastActivity: new Date(active).toISOString(),
      });
    }
  }
  if (settings.exactLayerBytes) figures.dedupedBytes = await dedupedBytes(ecr, repo.name, images, count);
  return { figures, stale };
}

/**
 * Sum of distinct config and layer blobs over the repository's image manifests. An image whose
 * manifest ECR does not return (expired by a lifecycle rule since the listing, or not readable in
 * its storage class) counts at its full size, as in the simple sum: never less than it holds.
 */
async function dedupedBytes(
  ecr: ECRClient,
  repositoryName: string,
  images: ImageDetail[],
  count: (op: string) => void,
): Promise<number> {
  const manifests = images.filter((i) => !isIndex(i.imageManifestMediaType));
  const blobs = new Map<string, number>();
  let unread = 0;
  for (let i = 0; i < manifests.length; i += 100) {
    const chunk = manifests.slice(i, i + 100);
    count('BatchGetImage');
    const out = await ecr.send(
      new BatchGetImageCommand({
        repositoryName,
        imageIds: chunk.map((image) => ({ imageDigest: image.imageDigest! })),
        acceptedMediaTypes: [...IMAGE_MEDIA_TYPES],
      }),
    );
    const read = new Set<string>();
    for (const image of out.images ?? []) {
      read.add(image.imageId?.imageDigest ?? '');
      const doc = JSON.parse(image.imageManifest ?? '{}') as {
        config?: { digest: string; size: number };
        layers?: Array<{ digest: string; size: number }>;
      };
      for (const blob of [doc.config, ...(doc.layers ?? [])]) if (blob) blobs.set(blob.digest, blob.size);
    }
    for (const image of chunk) if (!read.has(image.imageDigest!)) unread += image.imageSizeInBytes ?? 0;
  }
  return [...blobs.values()].reduce((a, b) => a + b, unread);
}
