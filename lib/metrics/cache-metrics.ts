/**
 * The CloudWatch metrics of a cache report: per prefix and in total, and per repository for the
 * N largest only, so the number of custom metrics (and the CloudWatch bill) stays bounded.
 */

import type { SizeFigures } from './cache-size.js';
import type { CacheReport } from './collect.js';
import type { Metric } from './publish.js';

function figureMetrics(
  f: SizeFigures & { repositories?: number; monthlyCost?: number; dedupedBytes?: number },
  dimensions: Record<string, string>,
): Metric[] {
  const metrics: Metric[] = [
    { name: 'CacheImages', value: f.images, dimensions },
    { name: 'CacheTaggedImages', value: f.tagged, dimensions },
    { name: 'CacheUntaggedImages', value: f.untagged, dimensions },
    { name: 'CacheBytes', value: f.bytes, unit: 'Bytes', dimensions },
    { name: 'CacheBytesStandard', value: f.bytesStandard, unit: 'Bytes', dimensions },
    { name: 'CacheBytesArchive', value: f.bytesArchive, unit: 'Bytes', dimensions },
    { name: 'CacheStaleImages', value: f.staleImages, dimensions },
    { name: 'CacheStaleBytes', value: f.staleBytes, unit: 'Bytes', dimensions },
  ];
  if (f.repositories !== undefined)
    metrics.push({ name: 'CacheRepositories', value: f.repositories, dimensions });
  if (f.monthlyCost !== undefined)
    metrics.push({ name: 'CacheEstimatedMonthlyCost', value: f.monthlyCost, unit: 'None', dimensions });
  if (f.dedupedBytes !== undefined)
    metrics.push({ name: 'CacheBytesDeduplicated', value: f.dedupedBytes, unit: 'Bytes', dimensions });
  return metrics;
}

export function cacheMetrics(report: CacheReport, topRepositories: number): Metric[] {
  const metrics = figureMetrics(report.total, {});
  // Repositories the caller may not read are in no figure: how many, so a guardrail shows.
  metrics.push({ name: 'CacheRepositoriesUnreadable', value: report.unreadable.length, dimensions: {} });
  for (const group of report.byPrefix) metrics.push(...figureMetrics(group, { Prefix: group.prefix }));
  for (const repo of report.repositories.slice(0, topRepositories)) {
    metrics.push(
      { name: 'RepositoryBytes', value: repo.bytes, unit: 'Bytes', dimensions: { Repository: repo.name } },
      { name: 'RepositoryImages', value: repo.images, dimensions: { Repository: repo.name } },
    );
  }
  return metrics;
}
