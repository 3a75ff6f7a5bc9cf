/**
 * Applies a plan in order and stops at the first failing change of a rule, a template or the
 * registry; a repository's change (the back-fill) is its own, so one refused there holds back no
 * other repository's. The report says what was applied, what failed and what was not attempted. Every step tolerates having already happened
 * (a re-run after a crash repairs, never duplicates), and every rule created or given a new
 * credential is checked with ValidatePullThroughCacheRule.
 */
import {
  CreatePullThroughCacheRuleCommand,
  CreateRepositoryCreationTemplateCommand,
  DeletePullThroughCacheRuleCommand,
  DeleteRegistryPolicyCommand,
  DeleteRepositoryCreationTemplateCommand,
  DeleteRepositoryPolicyCommand,
  type ECRClient,
  PutLifecyclePolicyCommand,
  PutRegistryPolicyCommand,
  RegisterPullTimeUpdateExclusionCommand,
  SetRepositoryPolicyCommand,
  UpdatePullThroughCacheRuleCommand,
  UpdateRepositoryCreationTemplateCommand,
} from '@aws-sdk/client-ecr';
import {
  awsErrorName,
  DeadlineError,
  errorMessage,
  isTransientAwsError,
  KeeperError,
  unlessNamed,
} from '../runtime/errors.js';
import { mapConcurrent } from '../runtime/retry.js';
import type { Change, ChangeKind, Plan } from './plan.js';
import { type RuleValidation, validateRule as validateRuleOnce } from './validate.js';

export type { RuleValidation };

export interface ChangeFailure {
  target: string;
  kind: ChangeKind;
  error: string;
  errorName: string;
}

export interface ApplyReport {
  dryRun: boolean;
  applied: Array<{ target: string; kind: ChangeKind }>;
  /** The first change that failed (also in `failures`). */
  failed?: ChangeFailure;
  /** Every change that failed, in the order they failed. */
  failures: ChangeFailure[];
  notAttempted: Array<{ target: string; kind: ChangeKind }>;
  /** Repository changes not made because the repository was deleted since the plan: nothing left to change. */
  gone: Array<{ target: string; kind: ChangeKind }>;
  validations: RuleValidation[];
  /**
   * Applied: everything declared now holds (nothing failed, nothing blocked, every rule validated).
   * Dry run: the plan could be made (nothing blocks it); `notAttempted` lists what it would change.
   */
  ok: boolean;
}

/** How long putting back a rule or template may take once the invocation's deadline has cut the create. */
const RESTORE_MS = 1_000;

/** A refused re-creation, named as ECR named it, saying what became of the previous one. */
class ReplaceError extends KeeperError {
  constructor(cause: unknown, outcome: string) {
    super(`${errorMessage(cause)}; ${outcome}`, { cause });
    this.name = (cause as Error)?.name ?? 'Error';
  }
}

/**
 * Delete, then create: what ECR cannot change in place. When the create is refused, the previous
 * one is created again, so a refused change never leaves the cache without its rule or template.
 */
async function replace<I>(
  what: 'rule' | 'template',
  remove: () => Promise<unknown>,
  create: (input: I, abortSignal?: AbortSignal) => Promise<unknown>,
  input: I,
  previous: I | undefined,
): Promise<void> {
  await remove();
  try {
    await create(input);
  } catch (error) {
    if (!previous) throw error;
    try {
      // Cut short at the invocation's deadline, the create leaves no time under that bound: the
      // restore takes some of the time kept back for the report (one quick call).
      await create(previous, error instanceof DeadlineError ? AbortSignal.timeout(RESTORE_MS) : undefined);
    } catch (restoreError) {
      throw new ReplaceError(
        error,
        `putting the previous ${what} back failed too (${errorMessage(restoreError)}): there is none until an apply succeeds`,
      );
    }
    throw new ReplaceError(error, `the previous ${what} was put back`);
  }
}

const named = (error: unknown, ...names: string[]) =>
  names.includes((error as { name?: string })?.name ?? '');

/** Deletes a rule; one already gone is fine (a re-run after a crash). */
const deleteRule = (ecr: ECRClient, prefix: string) =>
  unlessNamed(
    ecr.send(new DeletePullThroughCacheRuleCommand({ ecrRepositoryPrefix: prefix })),
    'PullThroughCacheRuleNotFoundException',
  );

/** Deletes a creation template; one already gone is fine. */
const deleteTemplate = (ecr: ECRClient, prefix: string) =>
  unlessNamed(ecr.send(new DeleteRepositoryCreationTemplateCommand({ prefix })), 'TemplateNotFoundException');

const validateRule = (ecr: ECRClient, prefix: string) => validateRuleOnce(ecr, prefix, { strict: true });

async function applyChange(ecr: ECRClient, change: Change): Promise<RuleValidation | undefined> {
  switch (change.kind) {
    case 'create-rule':
      try {
        await ecr.send(new CreatePullThroughCacheRuleCommand(change.input));
      } catch (error) {
        // Created by an earlier run that crashed before reporting: bring its credential in line.
        if (!named(error, 'PullThroughCacheRuleAlreadyExistsException')) throw error;
        if (change.input.credentialArn || change.input.customRoleArn) {
          await ecr.send(
            new UpdatePullThroughCacheRuleCommand({
              ecrRepositoryPrefix: change.prefix,
              credentialArn: change.input.credentialArn,
              customRoleArn: change.input.customRoleArn,
            }),
          );
        }
      }
      return validateRule(ecr, change.prefix);
    case 'update-rule':
      await ecr.send(new UpdatePullThroughCacheRuleCommand(change.input));
      return validateRule(ecr, change.prefix);
    case 'recreate-rule':
      await replace(
        'rule',
        () => deleteRule(ecr, change.prefix),
        (input, abortSignal) => ecr.send(new CreatePullThroughCacheRuleCommand(input), { abortSignal }),
        change.input,
        change.previous,
      );
      return validateRule(ecr, change.prefix);
    case 'delete-rule':
      await deleteRule(ecr, change.prefix);
      return undefined;
    case 'create-template':
      try {
        await ecr.send(new CreateRepositoryCreationTemplateCommand(change.input));
      } catch (error) {
        if (!named(error, 'TemplateAlreadyExistsException')) throw error;
        await ecr.send(new UpdateRepositoryCreationTemplateCommand(change.input));
      }
      return undefined;
    case 'update-template':
      await ecr.send(new UpdateRepositoryCreationTemplateCommand(change.input));
      return undefined;
    case 'recreate-template':
      await replace(
        'template',
        () => deleteTemplate(ecr, change.prefix),
        (input, abortSignal) => ecr.send(new CreateRepositoryCreationTemplateCommand(input), { abortSignal }),
        change.input,
        change.previous,
      );
      return undefined;
    case 'delete-template':
      await deleteTemplate(ecr, change.prefix);
      return undefined;
    case 'put-lifecycle-policy':
      await ecr.send(
        new PutLifecyclePolicyCommand({
          repositoryName: change.repositoryName,
          lifecyclePolicyText: change.lifecyclePolicyText,
        }),
      );
      return undefined;
    case 'put-registry-policy':
      await ecr.send(new PutRegistryPolicyCommand({ policyText: change.policyText }));
      return undefined;
    case 'delete-registry-policy':
      await unlessNamed(ecr.send(new DeleteRegistryPolicyCommand({})), 'RegistryPolicyNotFoundException');
      return undefined;
    case 'set-repository-policy':
      await ecr.send(
        new SetRepositoryPolicyCommand({
          repositoryName: change.repositoryName,
          policyText: change.policyText,
        }),
      );
      return undefined;
    case 'delete-repository-policy':
      await unlessNamed(
        ecr.send(new DeleteRepositoryPolicyCommand({ repositoryName: change.repositoryName })),
        'RepositoryPolicyNotFoundException',
      );
      return undefined;
    case 'register-exclusion':
      await unlessNamed(
        ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: change.principalArn })),
        'ExclusionAlreadyExistsException',
      );
      return undefined;
  }
}

/** The phases a plan is applied in: rules before templates before the back-fill. */
const PHASE: Record<ChangeKind, number> = {
  'delete-rule': 0,
  'recreate-rule': 0,
  'create-rule': 0,
  'update-rule': 0,
  'delete-template': 1,
  'recreate-template': 1,
  'create-template': 1,
  'update-template': 1,
  // The registry policy's first-pull access with the templates, before the repositories' back-fill.
  'put-registry-policy': 1,
  'delete-registry-policy': 1,
  'put-lifecycle-policy': 2,
  'set-repository-policy': 2,
  'delete-repository-policy': 2,
  'register-exclusion': 3,
};

/**
 * Applies a plan: its phases in order, each change of a rule or template one at a time (in plan
 * order), the back-fill (lifecycle and repository policies) across repositories `concurrency` at a
 * time (independent calls).
 * A failure of a rule, template or registry change stops everything not yet started (what follows
 * may build on it). A repository's failure does not: the other repositories' changes and the
 * exclusions go ahead (a guardrail's Deny on one repository would otherwise hold back the rest
 * every night), one that failed for a reason of the moment is made again after the others, and
 * only the invocation's deadline stops them. The report says what was applied, what
 * failed and what was not attempted.
 */
export async function applyPlan(
  ecr: ECRClient,
  plan: Plan,
  options: { dryRun?: boolean; concurrency?: number } = {},
): Promise<ApplyReport> {
  const report: ApplyReport = {
    dryRun: options.dryRun === true,
    applied: [],
    failures: [],
    notAttempted: [],
    gone: [],
    validations: [],
    ok: false,
  };
  if (options.dryRun) {
    report.notAttempted = plan.changes.map((c) => ({ target: c.target, kind: c.kind }));
    report.ok = plan.problems.length === 0;
    return report;
  }
  const started = new Set<Change>();
  let stopped = false;
  // A repository's change that failed for a reason of the moment (throttled past the SDK's
  // retries, a 5xx): made again, one at a time, once the others are done.
  const again: Change[] = [];
  const run = async (change: Change, firstTry = true) => {
    if (stopped) return;
    started.add(change);
    try {
      const validation = await applyChange(ecr, change);
      report.applied.push({ target: change.target, kind: change.kind });
      if (validation) report.validations.push(validation);
    } catch (error) {
      const ofRepository = PHASE[change.kind] === 2;
      if (ofRepository && awsErrorName(error) === 'RepositoryNotFoundException') {
        report.gone.push({ target: change.target, kind: change.kind });
        return;
      }
      if (ofRepository && firstTry && !(error instanceof DeadlineError) && isTransientAwsError(error)) {
        again.push(change);
        return;
      }
      const failure = {
        target: change.target,
        kind: change.kind,
        error: errorMessage(error),
        errorName: (error as Error).name ?? 'Error',
      };
      report.failures.push(failure);
      if (!ofRepository || error instanceof DeadlineError) stopped = true;
    }
  };
  for (const phase of [0, 1, 2, 3]) {
    const changes = plan.changes.filter((c) => PHASE[c.kind] === phase);
    if (phase === 2) {
      await mapConcurrent(changes, options.concurrency ?? 8, (change) => run(change));
      for (const change of again) await run(change, false);
    } else for (const change of changes) await run(change);
    if (stopped) break;
  }
  if (report.failures[0]) report.failed = report.failures[0];
  report.notAttempted = plan.changes
    .filter((c) => !started.has(c))
    .map((c) => ({ target: c.target, kind: c.kind }));
  report.ok =
    report.failures.length === 0 && plan.problems.length === 0 && report.validations.every((v) => v.isValid);
  return report;
}
