/**
 * What the pre-warm functions share around the work itself: the event (`{"images": […]}` by hand),
 * the night's images (the config's, plus prewarm.discover's), and the end of a night (the report's
 * metrics, best effort, and its log line). The single-invocation `prewarm` and the state machine's
 * plan and report steps all go through these.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ECRClient } from '@aws-sdk/client-ecr';
import { resolveImage } from '../config/images.js';
import type { KeeperConfig, PrewarmImage } from '../config/load.js';
import { publishMetrics } from '../metrics/publish.js';
import { errorMessage, InvalidEventError } from '../runtime/errors.js';
import { parseOptions } from '../runtime/events.js';
import type { Logger } from '../runtime/logger.js';
import { withTimeout } from '../runtime/retry.js';
import { prewarmMetrics } from './metrics.js';
import type { PrewarmReport } from './report.js';
import { discoverImages } from './suggest.js';

/** The most images one night takes, as many as the config's `prewarm.images` may list. */
export const MAX_IMAGES = 1000;

export const parsePrewarmEvent = (event: unknown, functionName = 'prewarm') => {
  const options = parseOptions(functionName, event, { images: 'string[]' });
  if (options.images && options.images.length > MAX_IMAGES)
    throw new InvalidEventError(
      `${functionName}: event.images lists ${options.images.length} images; at most ${MAX_IMAGES}, as in keeper.config.yaml`,
    );
  return options;
};

/**
 * The night's images: the event's list, or the config's plus, on the nightly run, prewarm.discover's
 * (a quarter of the time at most; a failure costs only the discovered images, never the night).
 */
export async function nightImages(
  event: { images?: string[] },
  deps: { config: KeeperConfig; ecr: ECRClient; deadline: number; now: () => number; logger: Logger },
): Promise<{ images: PrewarmImage[]; discovered?: PrewarmReport['discovered'] }> {
  if (event.images) return { images: event.images.map((text) => resolveImage(deps.config, text)) };
  const images = deps.config.prewarm.images;
  if (!deps.config.prewarm.discover) return { images };
  const budgetMs = Math.max(1, Math.floor((deps.deadline - deps.now()) / 4));
  try {
    const found = await withTimeout(discoverImages(deps.ecr, deps.config, deps.now()), budgetMs, 'discovery');
    if (found.unreadable.length)
      deps.logger.warn('prewarm discovery could not read some repositories', {
        repositories: found.unreadable,
      });
    return {
      images: [...images, ...found.images],
      discovered: {
        images: found.images.map((i) => i.original),
        ...(found.unreadable.length ? { unreadable: found.unreadable } : {}),
      },
    };
  } catch (error) {
    deps.logger.warn('prewarm discovery failed', { error });
    return { images, discovered: { images: [], error: errorMessage(error) } };
  }
}

/** What is left for publishing: the time until the deadline, less a quarter (at most 1 s) for returning. */
const publishBudgetMs = (leftMs: number) => Math.max(1, Math.floor(leftMs - Math.min(1000, leftMs / 4)));

/**
 * The end of a night: its metrics, best effort and bounded by what is left (a throttled or slow
 * CloudWatch never costs the report, it is recorded in `report.metrics`), and the report's log line.
 */
export async function publishNight(
  report: PrewarmReport,
  deps: {
    config: KeeperConfig;
    cloudwatch: CloudWatchClient;
    deadline: number;
    now: () => number;
    logger: Logger;
  },
): Promise<PrewarmReport> {
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
    ...(report.fanOut ? { fanOut: report.fanOut } : {}),
  });
  return report;
}
