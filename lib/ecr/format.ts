/** A plan and its result as a person reads them: a diff per change, then what happened. */
import type { ReconcileReport } from './reconcile.js';

const show = (value: unknown): string => {
  if (value === undefined) return '(none)';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
};

export function formatReconcile({ plan, result }: ReconcileReport): string {
  const lines: string[] = [];
  if (plan.changes.length === 0 && plan.problems.length === 0) {
    lines.push(
      `No changes: ${plan.checked.rules} rule(s), ${plan.checked.templates} template(s), ${plan.checked.repositories} repositories match the desired state.`,
    );
  }
  for (const change of plan.changes) {
    const sign =
      change.kind.startsWith('create') || change.kind === 'register-exclusion'
        ? '+'
        : change.kind.startsWith('delete')
          ? '-'
          : '~';
    lines.push(`${sign} ${change.target}  (${change.action})`);
    for (const d of change.diffs) lines.push(`    ${d.field}: ${show(d.actual)} → ${show(d.desired)}`);
  }
  for (const p of plan.problems) lines.push(`! ${p.target}: ${p.message}`);
  for (const u of plan.unmanaged)
    lines.push(
      `? ${u} exists but is not declared${u.startsWith('rule') || u.startsWith('template') ? ' (kept; set reconcile.prune to delete)' : ''}`,
    );
  if (result.dryRun) {
    lines.push(`Dry run: ${plan.changes.length} change(s) planned, nothing written.`);
  } else {
    if (result.applied.length) lines.push(`Applied ${result.applied.length} change(s).`);
    for (const v of result.validations)
      lines.push(
        `  rule ${v.prefix}: ${v.isValid ? 'validated upstream' : `NOT valid upstream: ${v.failure ?? 'no reason given'}`}`,
      );
    if (result.failed) {
      lines.push(`FAILED at ${result.failed.target}: ${result.failed.errorName}: ${result.failed.error}`);
      if (result.notAttempted.length)
        lines.push(
          `Not attempted (the next run finishes them): ${result.notAttempted.map((c) => c.target).join(', ')}`,
        );
    }
  }
  return lines.join('\n');
}
