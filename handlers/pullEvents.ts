/** Lambda `pullEvents`: ECR pull-through cache events → UpstreamPullFailures metric and a log line. */
import { sharedCloudWatch } from '../lib/aws/clients.js';
import { publishMetrics } from '../lib/metrics/publish.js';
import {
  type PullThroughEvent,
  parsePullThroughEvent,
  pullEventMetrics,
} from '../lib/metrics/pull-events.js';
import { type HandlerDeps, keeperHandler } from '../lib/runtime/handler.js';

export async function runPullEvents(event: PullThroughEvent, deps: HandlerDeps): Promise<PullThroughEvent> {
  await publishMetrics(sharedCloudWatch(), deps.config.metrics.namespace, pullEventMetrics(event));
  if (event.status === 'FAILED') {
    deps.logger.warn(
      `upstream pull failed: ${event.repository}:${event.tag ?? '?'} (${event.failureCode ?? 'no code'})`,
      {
        repository: event.repository,
        tag: event.tag,
        prefix: event.prefix,
        failureCode: event.failureCode,
        failureReason: event.failureReason,
      },
    );
  }
  return event;
}

export const handler = keeperHandler('pullEvents', parsePullThroughEvent, runPullEvents);
