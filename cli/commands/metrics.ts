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
  if (options.publish)
    await publishMetrics(
      deps.cloudwatch,
      config.metrics.namespace,
      cacheMetrics(report, config.metrics.topRepositories),
    );
  io.out(options.json ? JSON.stringify(report, null, 2) : formatCacheReport(report));
  return 0;
}
