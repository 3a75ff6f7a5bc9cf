/** Lambda `pullEvents`: ECR pull-through cache events → UpstreamPullFailures metric and a log line. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { publishMetrics } from '../lib/metrics/publish.js';
import {
  type PullThroughEvent,
  parsePullThroughEvent,
  pullEventMetrics,
} from '../lib/metrics/pull-events.js';
import type { Runtime } from '../lib/runtime/deps.js';
import { type Invocation, keeperHandler } from '../lib/runtime/handler.js';
import { lambdaEntry } from '../lib/runtime/lambda.js';

export interface PullEventsDeps extends Runtime {
  cloudwatch: CloudWatchClient;
}

export async function runPullEvents(
  event: PullThroughEvent,
  deps: Invocation<PullEventsDeps>,
): Promise<PullThroughEvent> {
  // Logged before the metric: the log line is the one record of which image failed.
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
  await publishMetrics(
    deps.cloudwatch,
    deps.config.metrics.namespace,
    pullEventMetrics(event),
    new Date(deps.now()),
  );
  return event;
}

export const createPullEventsHandler = keeperHandler('pullEvents', parsePullThroughEvent, runPullEvents);

export const handler = lambdaEntry('pullEvents', createPullEventsHandler, (aws) => ({
  cloudwatch: new CloudWatchClient(aws),
}));
