/**
 * What the pre-warm list misses and what it carries for nothing, from ECR's own record of pulls
 * (`lastRecordedPullTime`): tags under any rule's prefix that something pulled within N days but that
 * are not on the list, and listed images nobody pulled within N days. Pulls by the pre-warm role do
 * not count once it is registered as a pull-time update exclusion (reconcile registers it), so
 * warming alone cannot keep an image looking used. ECR refreshes the recorded time at least once a
 * day, so "within N days" is good to a day.
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import { cacheRepositoryName, registryName, resolveImage, upstreamRepositoryOf } from '../config/images.js';
import type { DesiredRule, KeeperConfig, PrewarmImage } from '../config/load.js';
import { refusedEverywhere, type UnreadableRepository, walkRepositories } from '../ecr/state.js';
import { cachedRepositories, repositoryImages, unreadableLine } from '../metrics/collect.js';

export interface SuggestReport {
  pulledWithinDays: number;
  /** Pulled within the window, not on the list: candidates to add (most recently pulled first). */
  pulledNotListed: Array<{ image: string; lastPulledAt: string }>;
  /** On the list, not pulled within the window (or never): candidates to drop. */
  listedNotPulled: Array<{ image: string; lastPulledAt?: string }>;
  /** Repositories listed but deleted before their images were read. */
  vanished: string[];
  /** Repositories whose own policy refuses the caller's reads: their pulls are not known. */
  unreadable: UnreadableRepository[];
}

/**
 * A cached repository's upstream image as people write it: `node`, `bitnami/redis` for Docker Hub
 * (no host, no `library/`), `quay.io/prometheus/node-exporter` for the others.
 */
export const upstreamImageName = (rule: DesiredRule, cacheRepository: string) => {
  const repository = upstreamRepositoryOf(rule, cacheRepository);
  return rule.upstream === 'docker-hub'
    ? repository.replace(/^library\//, '')
    : `${registryName(rule)}/${repository}`;
};

export async function suggestImages(
  ecr: ECRClient,
  config: KeeperConfig,
  options: { now: number; pulledWithinDays: number },
): Promise<SuggestReport> {
  const since = options.now - options.pulledWithinDays * 86_400_000;
  const rules = new Map(config.rules.map((r) => [r.prefix, r]));
  const repositories = await cachedRepositories(ecr, [...rules.keys()]);
  /** `<cache repository>:<tag>` → the rule that caches it and its last recorded pull (ms). */
  const lastPull = new Map<string, { rule: DesiredRule; repository: string; tag: string; at?: number }>();
  const walk = await walkRepositories(repositories, config.metrics.concurrency, (repo) =>
    repositoryImages(ecr, repo.name),
  );
  const everywhere = refusedEverywhere(walk, repositories.length);
  if (everywhere) throw everywhere;
  for (const { repository, value: images } of walk.read)
    for (const image of images)
      for (const tag of image.imageTags ?? [])
        lastPull.set(`${repository.name}:${tag}`, {
          rule: rules.get(repository.prefix)!,
          repository: repository.name,
          tag,
          at: image.lastRecordedPullTime?.getTime(),
        });

  const listed = listedKeys(config);
  const pulledNotListed = [...lastPull.entries()]
    .filter(([key, { at }]) => at !== undefined && at >= since && !listed.has(key))
    .sort(([a, x], [b, y]) => y.at! - x.at! || a.localeCompare(b))
    .map(([, p]) => ({
      image: `${upstreamImageName(p.rule, p.repository)}:${p.tag}`,
      lastPulledAt: new Date(p.at!).toISOString(),
    }));
  const listedNotPulled = config.prewarm.images.flatMap((i) => {
    const at = lastPull.get(`${cacheRepositoryName(i)}:${i.tag}`)?.at;
    if (at !== undefined && at >= since) return [];
    return [{ image: i.original, ...(at !== undefined ? { lastPulledAt: new Date(at).toISOString() } : {}) }];
  });
  return {
    pulledWithinDays: options.pulledWithinDays,
    pulledNotListed,
    listedNotPulled,
    vanished: walk.vanished,
    unreadable: walk.unreadable,
  };
}

/** `<cache repository>:<tag>` of each image on prewarm.images, however it is written. */
export const listedKeys = (config: KeeperConfig) =>
  new Set(config.prewarm.images.map((i) => `${cacheRepositoryName(i)}:${i.tag}`));

export function formatSuggestions(report: SuggestReport, withConfigLines: boolean): string {
  const days = report.pulledWithinDays;
  const lines: string[] = [];
  lines.push(
    report.pulledNotListed.length
      ? `Pulled through the cache within ${days} days, not on prewarm.images (${report.pulledNotListed.length}):`
      : `Everything pulled through the cache within ${days} days is on prewarm.images.`,
  );
  for (const p of report.pulledNotListed) lines.push(`  ${p.image.padEnd(32)} last pulled ${p.lastPulledAt}`);
  lines.push(
    report.listedNotPulled.length
      ? `On prewarm.images, not pulled within ${days} days (${report.listedNotPulled.length}):`
      : `Every image on prewarm.images was pulled within ${days} days.`,
  );
  for (const p of report.listedNotPulled)
    lines.push(
      `  ${p.image.padEnd(32)} ${p.lastPulledAt ? `last pulled ${p.lastPulledAt}` : 'never pulled'}`,
    );
  if (report.unreadable.length) lines.push(unreadableLine(report.unreadable));
  if (withConfigLines && report.pulledNotListed.length) {
    lines.push('', 'To add them, under prewarm.images in keeper.config.yaml:');
    for (const p of report.pulledNotListed) lines.push(`    - ${p.image}`);
  }
  return lines.join('\n');
}

/**
 * The night's discovered images (prewarm.discover): the tags pulled within the window that are not
 * on the list, most recently pulled first, at most maxImages.
 */
export async function discoverImages(
  ecr: ECRClient,
  config: KeeperConfig,
  now: number,
): Promise<{ images: PrewarmImage[]; unreadable: string[] }> {
  const discover = config.prewarm.discover;
  if (!discover) return { images: [], unreadable: [] };
  const report = await suggestImages(ecr, config, { now, pulledWithinDays: discover.pulledWithinDays });
  return {
    images: report.pulledNotListed.slice(0, discover.maxImages).map((p) => resolveImage(config, p.image)),
    unreadable: report.unreadable.map((r) => r.name),
  };
}
