/**
 * Lambda `prewarm`: a whole night in one invocation, by hand with `{"images": ["node:22-alpine", …]}`
 * to warm a list of your own (the nightly run is the state machine: prewarmPlan, warmImage,
 * prewarmReport). Returns the report and publishes its metrics; images that failed show up in the
 * PrewarmImagesFailed alarm, not as a failed invocation.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECRClient } from '@aws-sdk/client-ecr';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { nightImages, parsePrewarmEvent, publishNight } from '../lib/prewarm/invocation.js';
import type { PrewarmReport } from '../lib/prewarm/report.js';
import { runPrewarm } from '../lib/prewarm/run.js';
import type { Runtime } from '../lib/runtime/deps.js';
import { type Invocation, keeperHandler } from '../lib/runtime/handler.js';
import { lambdaEntry } from '../lib/runtime/lambda.js';

export { MAX_IMAGES, parsePrewarmEvent } from '../lib/prewarm/invocation.js';

export interface PrewarmDeps extends Runtime {
  ecr: ECRClient;
  secrets: SecretsManagerClient;
  cloudwatch: CloudWatchClient;
}

export async function runPrewarmHandler(
  event: { images?: string[] },
  deps: Invocation<PrewarmDeps>,
): Promise<PrewarmReport> {
  const { images, discovered } = await nightImages(event, deps);
  const report = await runPrewarm(images, deps);
  if (discovered) report.discovered = discovered;
  return publishNight(report, deps);
}

export const createPrewarmHandler = keeperHandler('prewarm', (e) => parsePrewarmEvent(e), runPrewarmHandler);

export const handler = lambdaEntry('prewarm', createPrewarmHandler, (aws) => ({
  ecr: new ECRClient(aws),
  secrets: new SecretsManagerClient(aws),
  cloudwatch: new CloudWatchClient(aws),
}));
