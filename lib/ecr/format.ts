/**
 * A plan and its result as a person reads them, in the manner of `terraform plan`: `+` create,
 * `~` update in place, `-/+` replace (and why), `-` destroy; every create lists the attributes it
 * sets; every update names each field with the value ECR holds and the declared one; lifecycle
 * policies are compared rule by rule as data (`rule 1: countNumber 6 → 10`), never as cut strings;
 * repositories that share one change are grouped; a summary line counts what changes.
 */
import { describeGrantees, statementChanges } from '../config/access.js';
import { type Change, type ChangeKind, isLeftAccess, nameList, type Plan } from './plan.js';
import type { ReconcileReport } from './reconcile.js';

export interface PlanSummary {
  add: number;
  change: number;
  destroy: number;
}

const SIGN: Record<ChangeKind, string> = {
  'create-rule': '+',
  'create-template': '+',
  'register-exclusion': '+',
  'update-rule': '~',
  'update-template': '~',
  'put-lifecycle-policy': '~',
  'put-registry-policy': '~',
  'set-repository-policy': '~',
  'recreate-rule': '-/+',
  'recreate-template': '-/+',
  'delete-rule': '-',
  'delete-template': '-',
  'delete-registry-policy': '-',
  'delete-repository-policy': '-',
};

/** Back-fill changes, one per repository, shown grouped where they are the same change. */
const BACKFILL_HEADING: Partial<Record<ChangeKind, string>> = {
  'put-lifecycle-policy': 'PutLifecyclePolicy: creation templates only reach new repositories',
  'set-repository-policy': 'SetRepositoryPolicy: creation templates only reach new repositories',
  'delete-repository-policy': 'DeleteRepositoryPolicy: it held only the access the config no longer grants',
};
const repositoryOf = (change: Change) => ('repositoryName' in change ? change.repositoryName : change.target);

/** What a plan does, counted as terraform counts it (a replacement is one add and one destroy). */
export function planSummary(plan: Pick<Plan, 'changes'>): PlanSummary {
  const summary: PlanSummary = { add: 0, change: 0, destroy: 0 };
  for (const c of plan.changes) {
    const sign = SIGN[c.kind];
    if (sign === '+' || sign === '-/+') summary.add++;
    if (sign === '-' || sign === '-/+') summary.destroy++;
    if (sign === '~') summary.change++;
  }
  return summary;
}

const show = (value: unknown): string =>
  value === undefined ? '(none)' : typeof value === 'string' ? value : JSON.stringify(value);

interface PolicyRule {
  rulePriority?: number;
  [key: string]: unknown;
}

function rulesOf(text: unknown): PolicyRule[] | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const parsed = JSON.parse(text) as { rules?: PolicyRule[] };
    return Array.isArray(parsed.rules) ? parsed.rules : undefined;
  } catch {
    return undefined;
  }
}

/** Leaf fields of a rule, by their last name where that is unambiguous (`countNumber`), else their path. */
function leaves(value: unknown, path = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value))
      for (const [p, x] of leaves(v, path ? `${path}.${k}` : k)) out.set(p, x);
  } else out.set(path, value);
  return out;
}

/**
 * A lifecycle policy change as data: one line per rule added, removed, or field changed.
 * Pure; the snapshot test reads `rule 1: countNumber 6 → 10`.
 */
export function lifecycleDiff(actual: unknown, desired: unknown): string[] {
  const before = rulesOf(actual);
  const after = rulesOf(desired);
  if (!after) return [`lifecycle policy: ${show(actual)} → ${show(desired)}`];
  if (!before) return after.map((r) => `lifecycle rule ${r.rulePriority}: added (${ruleSummary(r)})`);
  const lines: string[] = [];
  const priorities = [...new Set([...before, ...after].map((r) => r.rulePriority))].sort(
    (a, b) => Number(a) - Number(b),
  );
  for (const priority of priorities) {
    const a = before.find((r) => r.rulePriority === priority);
    const b = after.find((r) => r.rulePriority === priority);
    if (!a) lines.push(`lifecycle rule ${priority}: added (${ruleSummary(b!)})`);
    else if (!b) lines.push(`lifecycle rule ${priority}: removed (${ruleSummary(a)})`);
    else {
      const x = leaves(a);
      const y = leaves(b);
      for (const key of [...new Set([...x.keys(), ...y.keys()])]) {
        if (JSON.stringify(x.get(key)) === JSON.stringify(y.get(key))) continue;
        const name = key.split('.').at(-1)!;
        const shown =
          [...x.keys(), ...y.keys()].filter((k) => k.endsWith(`.${name}`) || k === name).length > 2
            ? key
            : name;
        lines.push(`lifecycle rule ${priority}: ${shown} ${show(x.get(key))} → ${show(y.get(key))}`);
      }
    }
  }
  return lines;
}

function ruleSummary(r: PolicyRule): string {
  const sel = (r.selection ?? {}) as Record<string, unknown>;
  const action = (r.action ?? {}) as Record<string, unknown>;
  return [sel.tagStatus, sel.countType, sel.countNumber, sel.countUnit, action.type]
    .filter((v) => v !== undefined)
    .join(' ');
}

/** A lifecycle policy's rules as data, one line each (`lifecycle rule 1: any imageCountMoreThan 6 expire`). */
export function lifecycleLines(policyText: string): string[] {
  const rules = rulesOf(policyText);
  if (!rules) return [`lifecycle policy ${policyText}`];
  return rules.map((r) => `lifecycle rule ${r.rulePriority}: ${ruleSummary(r)}`);
}

/** The attributes a create sets, one per line, lifecycle rules as data. */
function attributes(change: Change): string[] {
  if (!('input' in change)) return [];
  const lines: string[] = [];
  for (const [key, value] of Object.entries(change.input as unknown as Record<string, unknown>)) {
    if (value === undefined) continue;
    const rules = key === 'lifecyclePolicy' ? rulesOf(value) : undefined;
    if (rules) lines.push(...lifecycleLines(value as string));
    else lines.push(`${key} = ${show(value)}`);
  }
  return lines;
}

/** A repository policy's change as who may pull and which statements come and go, not as JSON. */
function repositoryPolicyDiff(actual: unknown, desired: unknown): string[] {
  const changes = statementChanges(actual as string | undefined, desired as string | undefined);
  if (!changes) return [`repositoryPolicy: ${show(actual)} → ${show(desired)}`];
  const what = 'repositoryPolicy';
  const who = [
    describeGrantees(actual as string | undefined, what),
    describeGrantees(desired as string | undefined, what),
  ];
  const changed = changes.added.filter((name) => changes.removed.includes(name));
  const only = (names: string[]) => names.filter((name) => !changed.includes(name));
  return [
    ...(who[0] !== who[1] ? [`repositoryPolicy: pull access ${who[0]} → ${who[1]}`] : []),
    ...only(changes.added).map((name) => `repositoryPolicy: statement ${name} added`),
    ...changed.map((name) => `repositoryPolicy: statement ${name} changed`),
    ...only(changes.removed).map((name) => `repositoryPolicy: statement ${name} removed`),
  ];
}

/** The lines under a change's heading: attributes for a create, field diffs for the rest. */
function details(change: Change): string[] {
  if (SIGN[change.kind] === '+') return attributes(change);
  return change.diffs.flatMap((d) =>
    d.field === 'lifecyclePolicy'
      ? lifecycleDiff(d.actual, d.desired)
      : d.field === 'repositoryPolicy'
        ? repositoryPolicyDiff(d.actual, d.desired)
        : [`${d.field}: ${show(d.actual)} → ${show(d.desired)}`],
  );
}

export function formatPlan(plan: Plan): string[] {
  const lines: string[] = [];
  // Repositories whose back-fill is the same change are one group.
  const groupKey = (change: Change) => `${change.kind}\n${details(change).join('\n')}`;
  const groups = new Map<string, Change[]>();
  for (const change of plan.changes) {
    if (!BACKFILL_HEADING[change.kind]) continue;
    const key = groupKey(change);
    groups.set(key, [...(groups.get(key) ?? []), change]);
  }
  const shownGroups = new Set<string>();
  for (const change of plan.changes) {
    const backfill = BACKFILL_HEADING[change.kind];
    if (backfill) {
      const key = groupKey(change);
      if (shownGroups.has(key)) continue;
      shownGroups.add(key);
      const names = groups.get(key)!.map(repositoryOf);
      const heading =
        names.length === 1
          ? `repository ${names[0]}`
          : `${names.length} repositories (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''})`;
      lines.push(`${SIGN[change.kind]} ${heading}  (${backfill})`);
    } else lines.push(`${SIGN[change.kind]} ${change.target}  (${change.action})`);
    for (const d of details(change)) lines.push(`    ${d}`);
  }
  return lines;
}

export function formatReconcile({ plan, result }: ReconcileReport): string {
  const lines: string[] = [];
  const summary = planSummary(plan);
  if (plan.changes.length === 0 && plan.problems.length === 0) {
    lines.push(
      `No changes: ${plan.checked.rules} rule(s), ${plan.checked.templates} template(s), ${plan.checked.repositories} repositories match the desired state.`,
    );
  }
  lines.push(...formatPlan(plan));
  for (const p of plan.problems) lines.push(`! ${p.target}: ${p.message}`);
  for (const u of plan.unmanaged) lines.push(`? ${u} exists but is not declared${unmanagedHint(u)}`);
  const excluded = plan.excluded.length;
  if (excluded)
    lines.push(
      `= ${excluded === 1 ? '1 repository' : `${excluded} repositories`} left as ${excluded === 1 ? 'it is' : 'they are'} (reconcile.excludeRepositories): ${nameList(plan.excluded)}`,
    );
  for (const pattern of plan.unmatchedExclusions)
    lines.push(`? reconcile.excludeRepositories: ${pattern} matches no cache repository now (a typo?)`);
  if (plan.changes.length)
    lines.push(`Plan: ${summary.add} to add, ${summary.change} to change, ${summary.destroy} to destroy.`);
  if (result.dryRun) {
    lines.push(`Dry run: ${plan.changes.length} change(s) planned, nothing written.`);
  } else {
    if (result.applied.length) lines.push(`Applied ${result.applied.length} change(s).`);
    if (result.gone.length)
      lines.push(
        `Not needed, deleted since the plan: ${result.gone.map((c) => c.target.replace(/^repository /, '')).join(', ')}.`,
      );
    for (const v of result.validations)
      lines.push(
        `  rule ${v.prefix}: ${v.isValid ? 'validated upstream' : `NOT valid upstream: ${v.failure ?? 'no reason given'}`}`,
      );
    const shown = 10;
    for (const f of result.failures.slice(0, shown))
      lines.push(`FAILED at ${f.target}: ${f.errorName}: ${f.error}`);
    if (result.failures.length > shown)
      lines.push(
        `FAILED: ${result.failures.length - shown} more (the JSON report lists them all, in result.failures)`,
      );
    // A guardrail fails the same way every night until one side gives way.
    if (
      result.failures.some(
        (f) => f.target.startsWith('repository ') && /explicit deny in a resource-based policy/.test(f.error),
      )
    )
      lines.push(
        "A repository's own policy refuses the keeper: exempt the reconcile role there, or leave the repository to its owners with reconcile.excludeRepositories.",
      );
    if (result.failed) {
      if (result.notAttempted.length)
        lines.push(
          `Not attempted (the next run finishes them): ${result.notAttempted.map((c) => c.target).join(', ')}`,
        );
    }
  }
  return lines.join('\n');
}

/** What to do about something that exists but is not declared. */
function unmanagedHint(entry: string): string {
  if (entry.startsWith('rule') || entry.startsWith('template'))
    return ' (kept; set reconcile.prune to delete)';
  if (isLeftAccess(entry))
    return ": an earlier `access:` wrote it, and the cache repositories' pull statements with it; set `access: { accounts: [] }` and reconcile to take it back";
  return '';
}
