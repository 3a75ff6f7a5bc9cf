/** cache-keeper plan | apply */
import { exclusionPrincipal, prewarmRoleFromEnv } from '../../lib/ecr/exclusion.js';
import { formatReconcile } from '../../lib/ecr/format.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import type { CommandDeps } from '../deps.js';
import type { CliIo } from '../io.js';

/**
 * plan: exit 0 (also with changes) or 1 (a problem blocks part of the plan); with
 * `--detailed-exitcode`, as terraform: 0 no changes, 2 changes, 1 a problem.
 * apply: exit 0 when everything declared now holds, 1 otherwise.
 */
export async function reconcileCommand(
  deps: CommandDeps,
  io: CliIo,
  options: { dryRun: boolean; json: boolean; env: NodeJS.ProcessEnv; detailedExitCode?: boolean },
): Promise<number> {
  const report = await reconcile(deps, deps.config, {
    dryRun: options.dryRun,
    exclusionPrincipalArn: exclusionPrincipal(deps.config, prewarmRoleFromEnv(options.env)),
  });
  // The same shape the reconcile function returns.
  io.out(options.json ? JSON.stringify(report, null, 2) : formatReconcile(report));
  if (options.dryRun) {
    if (report.plan.problems.length) return 1;
    return options.detailedExitCode && report.plan.changes.length ? 2 : 0;
  }
  return report.result.ok ? 0 : 1;
}
