/**
 * The state machine's three handlers, built for a local run of the night (the cycle, `prewarm
 * --fan-out`, the tests): `depsFor(fn)` gives each its dependencies (in the sandbox, as its own role).
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createPrewarmPlanHandler } from '../handlers/prewarmPlan.js';
import { createPrewarmReportHandler } from '../handlers/prewarmReport.js';
import { createWarmImageHandler } from '../handlers/warmImage.js';
import type { LocalNightOptions, StepFunction } from '../lib/prewarm/local-execution.js';
import type { Runtime } from '../lib/runtime/deps.js';

export type NightDeps = Runtime & {
  ecr: ECRClient;
  secrets: SecretsManagerClient;
  cloudwatch: CloudWatchClient;
};

export function nightHandlers(depsFor: (fn: StepFunction) => NightDeps): LocalNightOptions['handlers'] {
  return {
    prewarmPlan: createPrewarmPlanHandler(depsFor('prewarmPlan')),
    warmImage: createWarmImageHandler(depsFor('warmImage')),
    prewarmReport: createPrewarmReportHandler(depsFor('prewarmReport')),
  };
}
