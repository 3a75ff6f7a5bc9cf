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
import { discoverImages } from '../lib/prewarm/suggest.js';
import type { Runtime } from '../lib/runtime/deps.js';
import { errorMessage, InvalidEventError } from '../lib/runtime/errors.js';
import { parseOptions } from '../lib/runtime/events.js';
import { type Invocation, keeperHandler } from '../lib/runtime/handler.js';
import { lambdaEntry } from '../lib/runtime/lambda.js';
import { withTimeout } from '../lib/runtime/retry.js';

export interface PrewarmDeps extends Runtime {
  ecr: ECRClient;
  secrets: SecretsManagerClient;
  cloudwatch: CloudWatchClient;
}

/** The most images one invocation takes, as many as the config's `prewarm.images` may list. */
export const MAX_IMAGES = 1000;

/** What is left for publishing: the time until the deadline, less a quarter (at most 1 s) for returning. */
const publishBudgetMs = (leftMs: number) => Math.max(1, Math.floor(leftMs - Math.min(1000, leftMs / 4)));

export const parsePrewarmEvent = (event: unknown) => {
  const options = parseOptions('prewarm', event, { images: 'string[]' });
  if (options.images && options.images.length > MAX_IMAGES)
    throw new InvalidEventError(
      `prewarm: event.images lists ${options.images.length} images; at most ${MAX_IMAGES}, as in keeper.config.yaml`,
    );
  return options;
};

export async function runPrewarmHandler(
  event: { images?: string[] },
  deps: Invocation<PrewarmDeps>,
): Promise<PrewarmReport> {
  let images = event.images
    ? event.images.map((text) => resolveImage(deps.config, text))
    : deps.config.prewarm.images;
  // prewarm.discover, on the nightly run only: a quarter of the time at most, and a failure costs
  // only the discovered images, never the night.
  let discovered: PrewarmReport['discovered'];
  if (!event.images && deps.config.prewarm.discover) {
    const budgetMs = Math.max(1, Math.floor((deps.deadline - deps.now()) / 4));
    try {
      const found = await withTimeout(
        discoverImages(deps.ecr, deps.config, deps.now()),
        budgetMs,
        'discovery',
      );
      images = [...images, ...found];
      discovered = { images: found.map((i) => i.original) };
    } catch (error) {
      discovered = { images: [], error: errorMessage(error) };
      deps.logger.warn('prewarm discovery failed', { error });
    }
  }
  const report = await runPrewarm(images, deps);
  if (discovered) report.discovered = discovered;
  // Best effort, bounded by what is left: a throttled or slow CloudWatch never costs the report.
  try {
    await publishMetrics(
      deps.cloudwatch,
      deps.config.metrics.namespace,
      prewarmMetrics(report),
      new Date(deps.now()),
      {
        abortSignal: AbortSignal.timeout(publishBudgetMs(deps.deadline - deps.now())),
      },
    );
    report.metrics = { published: true };
  } catch (error) {
    report.metrics = { published: false, error: errorMessage(error) };
    deps.logger.warn('prewarm metrics not published', { error });
  }
  deps.logger.info('prewarm report', {
    counts: report.counts,
    upstreamPulls: report.upstreamPulls,
    dockerHub: report.dockerHub,
    stoppedUpstream: report.stoppedUpstream,
    merged: report.merged,
    discovered: report.discovered,
    metrics: report.metrics,
  });
  return report;
}

export const createPrewarmHandler = keeperHandler('prewarm', parsePrewarmEvent, runPrewarmHandler);

export const handler = lambdaEntry('prewarm', createPrewarmHandler, (aws) => ({
  ecr: new ECRClient(aws),
  secrets: new SecretsManagerClient(aws),
  cloudwatch: new CloudWatchClient(aws),
}));
