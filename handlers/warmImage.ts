/**
 * Lambda `warmImage`, one Map iteration of the state machine: one image the plan chose, warmed by
 * the same code as a single run, inside the execution's lease (lib/prewarm/fanout.ts). Returns the
 * image's line of the report; its failures are in the line, not a failed invocation.
 */
import { ECRClient } from '@aws-sdk/client-ecr';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type WarmItem, type WarmOutcome, warmPlannedImage } from '../lib/prewarm/fanout.js';
import { parseWarmItem } from '../lib/prewarm/fanout-events.js';
import type { Runtime } from '../lib/runtime/deps.js';
import { type Invocation, keeperHandler } from '../lib/runtime/handler.js';
import { lambdaEntry } from '../lib/runtime/lambda.js';

export interface WarmImageDeps extends Runtime {
  ecr: ECRClient;
  secrets: SecretsManagerClient;
}

export async function runWarmImageHandler(
  item: WarmItem,
  deps: Invocation<WarmImageDeps>,
): Promise<WarmOutcome> {
  // The run logs the image's line itself, as a single run does.
  return warmPlannedImage(item, deps);
}

export const createWarmImageHandler = keeperHandler('warmImage', parseWarmItem, runWarmImageHandler);

export const handler = lambdaEntry('warmImage', createWarmImageHandler, (aws) => ({
  ecr: new ECRClient(aws),
  secrets: new SecretsManagerClient(aws),
}));
