/**
 * Lambda `prewarmPlan`, the state machine's first step: the night's images, their free checks and
 * the Docker Hub quota decision for the whole night (lib/prewarm/fanout.ts). A small night is
 * warmed right here; a big one goes to the Map, one warmImage per image.
 */
import { ECRClient } from '@aws-sdk/client-ecr';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { fitPayload, planNight } from '../lib/prewarm/fanout.js';
import { parsePlanEvent } from '../lib/prewarm/fanout-events.js';
import { nightImages, parsePrewarmEvent } from '../lib/prewarm/invocation.js';
import { type NightPayload, nightPayload } from '../lib/prewarm/night-payload.js';
import type { Runtime } from '../lib/runtime/deps.js';
import { type Invocation, keeperHandler } from '../lib/runtime/handler.js';
import { lambdaEntry } from '../lib/runtime/lambda.js';

export interface PrewarmPlanDeps extends Runtime {
  ecr: ECRClient;
  secrets: SecretsManagerClient;
}

const parseEvent = (event: unknown) => {
  const parsed = parsePlanEvent(event);
  return { ...parsed, options: parsePrewarmEvent(parsed.input ?? {}, 'prewarmPlan') };
};

export async function runPlanHandler(
  event: ReturnType<typeof parseEvent>,
  deps: Invocation<PrewarmPlanDeps>,
): Promise<NightPayload> {
  const { images, discovered } = await nightImages(event.options, deps);
  const plan = await planNight(images, {
    ...deps,
    runId: event.execution,
    executionDeadline: Date.parse(event.startedAt) + event.timeoutSeconds * 1000,
  });
  deps.logger.info('prewarm plan', {
    mode: plan.mode,
    images: plan.order.length,
    items: plan.items.length,
    settled: plan.settled.length,
    overflow: plan.overflow?.length ?? 0,
  });
  // What discovery found travels with the plan, so it counts against the payload too.
  return nightPayload(discovered ? fitPayload({ ...plan, discovered }) : plan);
}

export const createPrewarmPlanHandler = keeperHandler('prewarmPlan', parseEvent, runPlanHandler);

export const handler = lambdaEntry('prewarmPlan', createPrewarmPlanHandler, (aws) => ({
  ecr: new ECRClient(aws),
  secrets: new SecretsManagerClient(aws),
}));
