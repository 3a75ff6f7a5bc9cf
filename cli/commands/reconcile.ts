/** cache-keeper plan | apply */
import { exclusionPrincipal, prewarmRoleFromEnv } from '../../lib/ecr/exclusion.js';
import { formatReconcile } from '../../lib/ecr/format.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import type { CommandDeps } from '../deps.js';
import type { CliIo } from '../io.js';

export async function reconcileCommand(
  deps: CommandDeps,
  io: CliIo,
  options: { dryRun: boolean; json: boolean; env: NodeJS.ProcessEnv },
): Promise<number> {
  const report = await reconcile(deps, deps.config, {
    dryRun: options.dryRun,
    exclusionPrincipalArn: exclusionPrincipal(deps.config, prewarmRoleFromEnv(options.env)),
  });
  io.out(
    options.json
      ? JSON.stringify(
          {
            changes: report.plan.changes,
            problems: report.plan.problems,
            unmanaged: report.plan.unmanaged,
            result: report.result,
          },
          null,
          2,
        )
      : formatReconcile(report),
  );
  if (options.dryRun) return report.plan.problems.length ? 1 : 0;
  return report.result.ok ? 0 : 1;
}
