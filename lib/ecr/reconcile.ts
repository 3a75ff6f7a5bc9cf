/** Reconcile end to end: read the actual state, plan, and (unless a dry run) apply. */
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KeeperConfig } from '../config/load.js';
import { type ApplyReport, applyPlan } from './apply.js';
import { type PlanSummary, planSummary } from './format.js';
import { type Plan, planReconcile } from './plan.js';
import { readActualState } from './state.js';

export interface ReconcileOptions {
  dryRun?: boolean;
  /** The pre-warm role to register as a pull-time update exclusion (see exclusion.ts). */
  exclusionPrincipalArn?: string;
  concurrency?: number;
}

/** One shape, returned by the reconcile function and printed by `cache-keeper plan|apply --json`. */
export interface ReconcileReport {
  plan: Plan;
  result: ApplyReport;
  /** What the plan does, counted as terraform counts it. */
  summary?: PlanSummary;
}

export async function reconcile(
  clients: { ecr: ECRClient; secrets: SecretsManagerClient },
  config: KeeperConfig,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const principal = options.exclusionPrincipalArn;
  const actual = await readActualState(clients, config, {
    concurrency: options.concurrency,
    includeRepositories: config.reconcile.backfillLifecycle,
    includeExclusions: principal !== undefined,
  });
  const plan = planReconcile(config, actual, { exclusionPrincipalArn: principal });
  const result = await applyPlan(clients.ecr, plan, {
    dryRun: options.dryRun,
    concurrency: options.concurrency,
  });
  return { plan, result, summary: planSummary(plan) };
}
