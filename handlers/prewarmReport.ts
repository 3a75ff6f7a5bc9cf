/**
 * Lambda `prewarmReport`, the state machine's last step: the night's report from the plan and every
 * warmImage (a crashed one named), in the night's order, as a single run reports it; its metrics;
 * the night's marks; the lease released (lib/prewarm/fanout.ts).
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { assembleNight, executionOutput, finishNight, overflowLines } from '../lib/prewarm/fanout.js';
import { parseReportEvent } from '../lib/prewarm/fanout-events.js';
import { publishNight } from '../lib/prewarm/invocation.js';
import type { PrewarmReport } from '../lib/prewarm/report.js';
import type { Runtime } from '../lib/runtime/deps.js';
import { type Invocation, keeperHandler } from '../lib/runtime/handler.js';
import { lambdaEntry } from '../lib/runtime/lambda.js';

export interface PrewarmReportDeps extends Runtime {
  secrets: SecretsManagerClient;
  cloudwatch: CloudWatchClient;
}

export async function runReportHandler(
  event: ReturnType<typeof parseReportEvent>,
  deps: Invocation<PrewarmReportDeps>,
): Promise<PrewarmReport> {
  const { outcomes, ...plan } = event;
  const report = assembleNight(plan, outcomes, deps.config.prewarm.mode, deps.now());
  // The images the payload could not carry are settled here: their lines are logged here, as the
  // plan and warmImage log the lines they settle.
  for (const { result } of overflowLines(plan)) deps.logger.info('image', { ...result });
  if (plan.discovered) report.discovered = plan.discovered;
  await finishNight(plan, report, deps);
  return executionOutput(await publishNight(report, deps));
}

export const createPrewarmReportHandler = keeperHandler('prewarmReport', parseReportEvent, runReportHandler);

export const handler = lambdaEntry('prewarmReport', createPrewarmReportHandler, (aws) => ({
  secrets: new SecretsManagerClient(aws),
  cloudwatch: new CloudWatchClient(aws),
}));
