/** Lambda `cacheMetrics`: hourly; cache size, image count, staleness and cost → CloudWatch. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECRClient } from '@aws-sdk/client-ecr';
import { cacheMetrics } from '../lib/metrics/cache-metrics.js';
import { type CacheReport, collectCacheMetrics } from '../lib/metrics/collect.js';
import { publishMetrics } from '../lib/metrics/publish.js';
import type { Runtime } from '../lib/runtime/deps.js';
import { parseOptions } from '../lib/runtime/events.js';
import { type Invocation, keeperHandler } from '../lib/runtime/handler.js';
import { lambdaEntry } from '../lib/runtime/lambda.js';

export interface CacheMetricsDeps extends Runtime {
  ecr: ECRClient;
  cloudwatch: CloudWatchClient;
}

export interface CacheMetricsResult {
  report: CacheReport;
  published: { calls: number; datums: number };
}

/** What the log keeps of a report: the totals, the calls, any repository deleted during the walk, and how many were read again. */
const logged = (report: CacheReport) => ({
  total: report.total,
  apiCalls: report.apiCalls,
  ...(report.vanished.length ? { vanished: report.vanished } : {}),
  ...(report.readAgain ? { readAgain: report.readAgain } : {}),
});

export async function runCacheMetrics(
  _event: unknown,
  deps: Invocation<CacheMetricsDeps>,
): Promise<CacheMetricsResult> {
  const report = await collectCacheMetrics(deps.ecr, deps.config, { now: deps.now() });
  if (report.unreadable.length)
    deps.logger.warn('cache repositories the keeper may not read', {
      repositories: report.unreadable.map((r) => r.name),
      error: report.unreadable[0]!.error,
      hint: 'left out of every figure (CacheRepositoriesUnreadable counts them): a policy on the repository denies the cacheMetrics role; exempt it there to count them',
    });
  const metrics = cacheMetrics(report, deps.config.metrics.topRepositories);
  let published: Awaited<ReturnType<typeof publishMetrics>>;
  try {
    published = await publishMetrics(
      deps.cloudwatch,
      deps.config.metrics.namespace,
      metrics,
      new Date(report.generatedAt),
    );
  } catch (error) {
    // The figures took a walk through every repository: they are logged before the invocation fails.
    deps.logger.info('cache metrics', { ...logged(report), published: false });
    throw error;
  }
  deps.logger.info('cache metrics', { ...logged(report), published });
  // The full repository list can be long; the invocation result keeps the top of it.
  return {
    report: { ...report, repositories: report.repositories.slice(0, deps.config.metrics.topRepositories) },
    published,
  };
}

export const createCacheMetricsHandler = keeperHandler(
  'cacheMetrics',
  (e) => parseOptions('cacheMetrics', e, {}),
  runCacheMetrics,
);

export const handler = lambdaEntry('cacheMetrics', createCacheMetricsHandler, (aws) => ({
  ecr: new ECRClient(aws),
  cloudwatch: new CloudWatchClient(aws),
}));
