/**
 * Lambda `reconcile`: daily schedule, or by hand (`{"dryRun": true}` for a plan only). Returns the
 * plan and what was applied; fails the invocation when something could not be applied, so the
 * function-error alarm fires.
 */
import { sharedEcr, sharedSecrets } from '../lib/aws/clients.js';
import { formatReconcile } from '../lib/ecr/format.js';
import { type ReconcileReport, reconcile } from '../lib/ecr/reconcile.js';
import { KeeperError } from '../lib/runtime/errors.js';
import { parseOptions } from '../lib/runtime/events.js';
import { type HandlerDeps, keeperHandler } from '../lib/runtime/handler.js';

export class ReconcileFailedError extends KeeperError {
  override name = 'ReconcileFailedError';
}

export const parseReconcileEvent = (event: unknown) => ({
  dryRun: false,
  ...parseOptions('reconcile', event, { dryRun: 'boolean' }),
});

/**
 * The pre-warm function's role, registered as a pull-time update exclusion: KEEPER_PREWARM_ROLE_ARN,
 * or KEEPER_PREWARM_ROLE_NAME completed with the partition and account of this function's own ARN.
 */
export function prewarmRoleArn(
  lambda: { invokedFunctionArn?: string },
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (env.KEEPER_PREWARM_ROLE_ARN) return env.KEEPER_PREWARM_ROLE_ARN;
  const name = env.KEEPER_PREWARM_ROLE_NAME;
  const [, partition, , , account] = lambda.invokedFunctionArn?.split(':') ?? [];
  return name && partition && account && /^\d{12}$/.test(account)
    ? `arn:${partition}:iam::${account}:role/${name}`
    : undefined;
}

export async function runReconcile(event: { dryRun: boolean }, deps: HandlerDeps): Promise<ReconcileReport> {
  const report = await reconcile({ ecr: sharedEcr(), secrets: sharedSecrets() }, deps.config, {
    dryRun: event.dryRun,
    exclusionPrincipalArn: prewarmRoleArn(deps.lambda ?? {}),
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
    applied: report.result.applied.length,
    failed: report.result.failed,
    validations: report.result.validations,
  });
  if (!event.dryRun && !report.result.ok) throw new ReconcileFailedError(formatReconcile(report));
  return report;
}

export const handler = keeperHandler('reconcile', parseReconcileEvent, runReconcile);
