/** Lambda `cacheMetrics`: hourly; cache size, image count, staleness and cost → CloudWatch. */
import { sharedCloudWatch, sharedEcr } from '../lib/aws/clients.js';
import { cacheMetrics } from '../lib/metrics/cache-metrics.js';
import { type CacheReport, collectCacheMetrics } from '../lib/metrics/collect.js';
import { publishMetrics } from '../lib/metrics/publish.js';
import { parseOptions } from '../lib/runtime/events.js';
import { type HandlerDeps, keeperHandler } from '../lib/runtime/handler.js';

export interface CacheMetricsResult {
  report: Omit<CacheReport, 'repositories'> & { repositories: CacheReport['repositories'] };
  published: { calls: number; datums: number };
}

export async function runCacheMetrics(_event: unknown, deps: HandlerDeps): Promise<CacheMetricsResult> {
  const report = await collectCacheMetrics(sharedEcr(), deps.config);
  const metrics = cacheMetrics(report, deps.config.metrics.topRepositories);
  const published = await publishMetrics(sharedCloudWatch(), deps.config.metrics.namespace, metrics);
  deps.logger.info('cache metrics', { total: report.total, apiCalls: report.apiCalls, published });
  // The full repository list can be long; the invocation result keeps the top of it.
  return {
    report: { ...report, repositories: report.repositories.slice(0, deps.config.metrics.topRepositories) },
    published,
  };
}

export const handler = keeperHandler(
  'cacheMetrics',
  (e) => parseOptions('cacheMetrics', e, {}),
  runCacheMetrics,
);
