/** Reconcile end to end: read the actual state, plan, and (unless a dry run) apply. */
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KeeperConfig } from '../config/load.js';
import { KeeperError } from '../runtime/errors.js';
import { type ApplyReport, applyPlan } from './apply.js';
import { type PlanSummary, planSummary } from './format.js';
import { canonicalJson, type Plan, planReconcile } from './plan.js';
import { readActualState } from './state.js';

export interface ReconcileOptions {
  dryRun?: boolean;
  /** The pre-warm role to register as a pull-time update exclusion (see exclusion.ts). */
  exclusionPrincipalArns?: string[];
  concurrency?: number;
}

/** One shape, returned by the reconcile function and printed by `cache-keeper plan|apply --json`. */
export interface ReconcileReport {
  plan: Plan;
  result: ApplyReport;
  /** What the plan does, counted as terraform counts it. */
  summary?: PlanSummary;
}

const SAVED_KIND = 'ecr-cache-keeper/plan';

/** A plan saved by `plan -out FILE`, to be applied as it is by `apply FILE`. */
export interface SavedPlan {
  kind: typeof SAVED_KIND;
  version: 1;
  createdAt: string;
  config: string;
  plan: Plan;
}

export function savePlan(report: ReconcileReport, config: KeeperConfig, now: number): SavedPlan {
  return {
    kind: SAVED_KIND,
    version: 1,
    createdAt: new Date(now).toISOString(),
    config: config.source,
    plan: report.plan,
  };
}

export class StalePlanError extends KeeperError {
  override name = 'StalePlanError';
}

/** Reads a saved plan, refusing anything else. */
export function readSavedPlan(text: string, source: string): SavedPlan {
  let saved: SavedPlan;
  try {
    saved = JSON.parse(text) as SavedPlan;
  } catch {
    throw new KeeperError(
      `${source}: not a saved plan (not JSON); write one with \`cache-keeper plan -out ${source}\``,
    );
  }
  if (saved?.kind !== SAVED_KIND || saved.version !== 1 || !Array.isArray(saved.plan?.changes))
    throw new KeeperError(`${source}: not a plan saved by \`cache-keeper plan -out\``);
  return saved;
}

/**
 * Applies exactly a saved plan: the account is read again and planned again, and when that plan is
 * not the saved one (someone changed the account, or the config, in between), nothing is applied.
 * When it is, the fresh plan is what is applied: the same changes, but a policy others write to is
 * merged into as it is now, not as it was when the plan was saved.
 */
export async function applySavedPlan(
  clients: { ecr: ECRClient; secrets: SecretsManagerClient },
  config: KeeperConfig,
  saved: SavedPlan,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const fresh = await reconcile(clients, config, { ...options, dryRun: true });
  // The same changes and the same problems (a problem the plan showed, such as a repository it may
  // not read, is no change to the account).
  const same = (p: Plan) =>
    canonicalJson({
      changes: p.changes.map(({ kind, target, diffs }) => ({ kind, target, diffs })),
      problems: p.problems,
    });
  if (same(fresh.plan) !== same(saved.plan))
    throw new StalePlanError(
      `the account or the config changed since the plan was saved (${saved.createdAt}): nothing applied; run \`cache-keeper plan -out FILE\` again`,
    );
  const result = await applyPlan(clients.ecr, fresh.plan, { concurrency: options.concurrency });
  return { plan: fresh.plan, result, summary: planSummary(fresh.plan) };
}

export async function reconcile(
  clients: { ecr: ECRClient; secrets: SecretsManagerClient },
  config: KeeperConfig,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const principals = options.exclusionPrincipalArns ?? [];
  const actual = await readActualState(clients, config, {
    concurrency: options.concurrency,
    includeRepositories: config.reconcile.backfillLifecycle,
    includeAccess: config.access !== undefined,
    includeRegistryPolicy: true,
    includeExclusions: principals.length > 0,
  });
  const plan = planReconcile(config, actual, { exclusionPrincipalArns: principals });
  const result = await applyPlan(clients.ecr, plan, {
    dryRun: options.dryRun,
    concurrency: options.concurrency,
  });
  return { plan, result, summary: planSummary(plan) };
}
