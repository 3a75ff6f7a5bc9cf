/**
 * Lambda `prewarm`: nightly, or by hand with `{"images": ["node:22-alpine", …]}` to warm a list of
 * your own. Returns the report and publishes its metrics; images that failed show up in the
 * PrewarmImagesFailed alarm, not as a failed invocation.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECRClient } from '@aws-sdk/client-ecr';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { resolveImage } from '../lib/config/images.js';
import { publishMetrics } from '../lib/metrics/publish.js';
import { prewarmMetrics } from '../lib/prewarm/metrics.js';
import type { PrewarmReport } from '../lib/prewarm/report.js';
import { runPrewarm } from '../lib/prewarm/run.js';
import type { Runtime } from '../lib/runtime/deps.js';
import { parseOptions } from '../lib/runtime/events.js';
import { type Invocation, keeperHandler } from '../lib/runtime/handler.js';
import { lambdaEntry } from '../lib/runtime/lambda.js';

export interface PrewarmDeps extends Runtime {
  ecr: ECRClient;
  secrets: SecretsManagerClient;
  cloudwatch: CloudWatchClient;
}

export const parsePrewarmEvent = (event: unknown) => parseOptions('prewarm', event, { images: 'string[]' });

export async function runPrewarmHandler(
  event: { images?: string[] },
  deps: Invocation<PrewarmDeps>,
): Promise<PrewarmReport> {
  const images = event.images
    ? event.images.map((text) => resolveImage(deps.config, text))
    : deps.config.prewarm.images;
  const report = await runPrewarm(images, deps);
  await publishMetrics(deps.cloudwatch, deps.config.metrics.namespace, prewarmMetrics(report));
  deps.logger.info('prewarm report', {
    counts: report.counts,
    upstreamPulls: report.upstreamPulls,
    dockerHub: report.dockerHub,
    stoppedUpstream: report.stoppedUpstream,
  });
  return report;
}

export const createPrewarmHandler = keeperHandler('prewarm', parsePrewarmEvent, runPrewarmHandler);

export const handler = lambdaEntry('prewarm', createPrewarmHandler, (aws) => ({
  ecr: new ECRClient(aws),
  secrets: new SecretsManagerClient(aws),
  cloudwatch: new CloudWatchClient(aws),
}));
