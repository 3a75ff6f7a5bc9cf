/** cache-keeper metrics [--publish] */
import { cacheMetrics } from '../../lib/metrics/cache-metrics.js';
import { collectCacheMetrics } from '../../lib/metrics/collect.js';
import { formatCacheReport } from '../../lib/metrics/format.js';
import { publishMetrics } from '../../lib/metrics/publish.js';
import type { CommandDeps } from '../deps.js';
import type { CliIo } from '../io.js';

export async function metricsCommand(
  deps: CommandDeps,
  io: CliIo,
  options: { json: boolean; publish: boolean },
): Promise<number> {
  const { config } = deps;
  const report = await collectCacheMetrics(deps.ecr, config, { now: deps.now() });
  const published = options.publish
    ? await publishMetrics(
        deps.cloudwatch,
        config.metrics.namespace,
        cacheMetrics(report, config.metrics.topRepositories),
        new Date(report.generatedAt),
      )
    : undefined;
  if (options.json) io.out(JSON.stringify(published ? { ...report, published } : report, null, 2));
  else {
    // The table shows as many repositories as the metrics publish (metrics.topRepositories).
    io.out(formatCacheReport(report, config.metrics.topRepositories));
    io.out(
      published
        ? `Published ${published.datums} metric(s) to CloudWatch namespace ${config.metrics.namespace} in ${published.calls} call(s).`
        : 'Nothing published (add --publish to send these to CloudWatch).',
    );
  }
  return 0;
}
