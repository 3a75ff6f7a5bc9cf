/** cache-keeper plan [-out FILE] | apply [FILE] */
import { readFileSync } from 'node:fs';
import { exclusionPrincipals, prewarmRoleFromEnv } from '../../lib/ecr/exclusion.js';
import { formatReconcile } from '../../lib/ecr/format.js';
import {
  applySavedPlan,
  type ReconcileReport,
  readSavedPlan,
  reconcile,
  savePlan,
} from '../../lib/ecr/reconcile.js';
import type { CommandDeps } from '../deps.js';
import { type CliIo, writeFileWhole } from '../io.js';

export interface ReconcileCommandOptions {
  dryRun: boolean;
  json: boolean;
  env: NodeJS.ProcessEnv;
  detailedExitCode?: boolean;
  /** plan: save the plan here for `apply FILE`. */
  out?: string;
  /** apply: apply exactly this saved plan. */
  planFile?: string;
  autoApprove?: boolean;
}

/**
 * plan: exit 0 (also with changes) or 1 (a problem blocks part of the plan); with
 * `--detailed-exitcode`, as terraform: 0 no changes, 2 changes, 1 a problem.
 * apply: exit 0 when everything declared now holds, 1 otherwise. Without a plan file, apply shows
 * the plan and asks on a terminal (unless --auto-approve); not on a terminal it never asks, and
 * needs --auto-approve or a plan file.
 */
export async function reconcileCommand(
  deps: CommandDeps,
  io: CliIo,
  options: ReconcileCommandOptions,
): Promise<number> {
  const reconcileOptions = {
    exclusionPrincipalArns: exclusionPrincipals(deps.config, prewarmRoleFromEnv(options.env)),
  };
  const print = (report: ReconcileReport) =>
    io.out(options.json ? JSON.stringify(report, null, 2) : formatReconcile(report));

  if (options.dryRun) {
    const report = await reconcile(deps, deps.config, { ...reconcileOptions, dryRun: true });
    print(report);
    if (options.out) {
      writeFileWhole(options.out, `${JSON.stringify(savePlan(report, deps.config, deps.now()), null, 1)}\n`);
      if (!options.json)
        io.out(`Saved the plan to ${options.out}: \`cache-keeper apply ${options.out}\` applies exactly it.`);
    }
    if (report.plan.problems.length) return 1;
    return options.detailedExitCode && report.plan.changes.length ? 2 : 0;
  }

  if (options.planFile) {
    const saved = readSavedPlan(readFileSync(options.planFile, 'utf8'), options.planFile);
    const report = await applySavedPlan(deps, deps.config, saved, reconcileOptions);
    print(report);
    return report.result.ok ? 0 : 1;
  }

  if (!options.autoApprove) {
    const plan = await reconcile(deps, deps.config, { ...reconcileOptions, dryRun: true });
    if (plan.plan.changes.length === 0) {
      print(plan);
      return plan.plan.problems.length ? 1 : 0;
    }
    if (!io.isTty || !io.prompt) {
      io.err(
        'cache-keeper apply: not on a terminal, so not asking: pass --auto-approve, or apply a saved plan (`cache-keeper plan -out FILE`, then `cache-keeper apply FILE`)',
      );
      return 1;
    }
    io.out(formatReconcile(plan));
    const answer = await io.prompt(
      `Apply these ${plan.plan.changes.length} change(s)? Only 'yes' is accepted: `,
    );
    if (answer.trim() !== 'yes') {
      io.err('cache-keeper apply: cancelled; nothing applied');
      return 1;
    }
  }
  const report = await reconcile(deps, deps.config, reconcileOptions);
  print(report);
  return report.result.ok ? 0 : 1;
}
