/**
 * Lambda `reconcile`: daily schedule, or by hand (`{"dryRun": true}` for a plan only; a scheduled
 * event may carry `"dryRun": true` too). Returns the plan and what was applied; fails the
 * invocation when something could not be applied, so the function-error alarm fires.
 */
import { ECRClient } from '@aws-sdk/client-ecr';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { exclusionPrincipals, type PrewarmRoleSetting, prewarmRoleFromEnv } from '../lib/ecr/exclusion.js';
import { formatReconcile } from '../lib/ecr/format.js';
import { isLeftAccess } from '../lib/ecr/plan.js';
import { type ReconcileReport, reconcile } from '../lib/ecr/reconcile.js';
import type { Runtime } from '../lib/runtime/deps.js';
import { KeeperError } from '../lib/runtime/errors.js';
import { parseOptions } from '../lib/runtime/events.js';
import { type Invocation, keeperHandler } from '../lib/runtime/handler.js';
import { lambdaEntry } from '../lib/runtime/lambda.js';

export class ReconcileFailedError extends KeeperError {
  override name = 'ReconcileFailedError';
}

export interface ReconcileDeps extends Runtime {
  ecr: ECRClient;
  secrets: SecretsManagerClient;
  /** The pre-warm role the deployment names (registered as a pull-time update exclusion). */
  prewarmRole?: PrewarmRoleSetting;
}

export const parseReconcileEvent = (event: unknown) => ({
  dryRun: false,
  ...parseOptions('reconcile', event, { dryRun: 'boolean' }),
});

export async function runReconcile(
  event: { dryRun: boolean },
  deps: Invocation<ReconcileDeps>,
): Promise<ReconcileReport> {
  const report = await reconcile(deps, deps.config, {
    dryRun: event.dryRun,
    exclusionPrincipalArns: exclusionPrincipals(
      deps.config,
      deps.prewarmRole,
      deps.lambda?.invokedFunctionArn,
    ),
  });
  deps.logger.info('reconcile report', {
    dryRun: event.dryRun,
    changes: report.plan.changes.map((c) => ({
      kind: c.kind,
      target: c.target,
      diffs: c.diffs.map((d) => d.field),
    })),
    problems: report.plan.problems,
    unmanaged: report.plan.unmanaged,
    ...(report.plan.excluded.length ? { excluded: report.plan.excluded } : {}),
    ...(report.plan.unmatchedExclusions.length
      ? { unmatchedExclusions: report.plan.unmatchedExclusions }
      : {}),
    applied: report.result.applied.length,
    ...(report.result.gone.length ? { gone: report.result.gone.map((c) => c.target) } : {}),
    failed: report.result.failed,
    ...(report.result.failures.length > 1 ? { failures: report.result.failures } : {}),
    validations: report.result.validations,
  });
  // Other accounts still let in by what the config no longer declares: said louder than a report.
  const leftAccess = report.plan.unmanaged.filter(isLeftAccess);
  if (leftAccess.length)
    deps.logger.warn('access left in the registry policy by an earlier access:', {
      statements: leftAccess,
      takeBack: 'set access: { accounts: [] } in keeper.config.yaml and reconcile',
    });
  if (!event.dryRun && !report.result.ok) throw new ReconcileFailedError(formatReconcile(report));
  return report;
}

export const createReconcileHandler = keeperHandler('reconcile', parseReconcileEvent, runReconcile);

export const handler = lambdaEntry('reconcile', createReconcileHandler, (aws, env) => ({
  ecr: new ECRClient(aws),
  secrets: new SecretsManagerClient(aws),
  prewarmRole: prewarmRoleFromEnv(env),
}));
