/**
 * Lambda `prewarm`: nightly, or by hand with `{"images": ["node:22-alpine", …]}` to warm a list of
 * your own. Returns the report and publishes its metrics; images that failed show up in the
 * PrewarmImagesFailed alarm, not as a failed invocation.
 */
import { sharedCloudWatch, sharedEcr, sharedSecrets } from '../lib/aws/clients.js';
import { resolveImage } from '../lib/config/images.js';
import { publishMetrics } from '../lib/metrics/publish.js';
import { prewarmMetrics } from '../lib/prewarm/metrics.js';
import type { PrewarmReport } from '../lib/prewarm/report.js';
import { runPrewarm } from '../lib/prewarm/run.js';
import { parseOptions } from '../lib/runtime/events.js';
import { type HandlerDeps, keeperHandler } from '../lib/runtime/handler.js';

export const parsePrewarmEvent = (event: unknown) => parseOptions('prewarm', event, { images: 'string[]' });

export async function runPrewarmHandler(
  event: { images?: string[] },
  deps: HandlerDeps,
): Promise<PrewarmReport> {
  const images = event.images
    ? event.images.map((text) => resolveImage(deps.config, text))
    : deps.config.prewarm.images;
  const report = await runPrewarm(images, {
    ecr: sharedEcr(),
    secrets: sharedSecrets(),
    config: deps.config,
    deadline: deps.deadline,
    logger: deps.logger,
  });
  await publishMetrics(sharedCloudWatch(), deps.config.metrics.namespace, prewarmMetrics(report));
  deps.logger.info('prewarm report', {
    counts: report.counts,
    upstreamPulls: report.upstreamPulls,
    dockerHub: report.dockerHub,
    stoppedUpstream: report.stoppedUpstream,
  });
  return report;
}

export const handler = keeperHandler('prewarm', parsePrewarmEvent, runPrewarmHandler);
