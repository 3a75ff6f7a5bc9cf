/** cache-keeper plan | apply */
import { createAwsClients } from '../../lib/aws/clients.js';
import type { KeeperConfig } from '../../lib/config/load.js';
import { formatReconcile } from '../../lib/ecr/format.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import type { CliIo } from '../io.js';

export async function reconcileCommand(
  config: KeeperConfig,
  io: CliIo,
  options: { dryRun: boolean; json: boolean },
): Promise<number> {
  const clients = createAwsClients();
  const report = await reconcile(clients, config, {
    dryRun: options.dryRun,
    exclusionPrincipalArn: process.env.KEEPER_PREWARM_ROLE_ARN || undefined,
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
