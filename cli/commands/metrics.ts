/** cache-keeper metrics [--publish] */
import { createAwsClients } from '../../lib/aws/clients.js';
import type { KeeperConfig } from '../../lib/config/load.js';
import { cacheMetrics } from '../../lib/metrics/cache-metrics.js';
import { collectCacheMetrics } from '../../lib/metrics/collect.js';
import { formatCacheReport } from '../../lib/metrics/format.js';
import { publishMetrics } from '../../lib/metrics/publish.js';
import type { CliIo } from '../io.js';

export async function metricsCommand(
  config: KeeperConfig,
  io: CliIo,
  options: { json: boolean; publish: boolean },
): Promise<number> {
  const clients = createAwsClients();
  const report = await collectCacheMetrics(clients.ecr, config);
  if (options.publish)
    await publishMetrics(
      clients.cloudwatch,
      config.metrics.namespace,
      cacheMetrics(report, config.metrics.topRepositories),
    );
  io.out(options.json ? JSON.stringify(report, null, 2) : formatCacheReport(report));
  return 0;
}
