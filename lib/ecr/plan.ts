/**
 * Compares the desired state (keeper.config.yaml) with what ECR holds and returns a plan: a plain
 * list of changes, each saying what differs (field, actual, desired) and which call applies it.
 * Minimal change: rules are updated in place where AWS allows it (credential, role) and re-created
 * only when the upstream URL or upstream prefix changed; templates are updated in place unless a
 * field must be removed.
 */
import type {
  CreatePullThroughCacheRuleCommandInput,
  CreateRepositoryCreationTemplateCommandInput,
  PullThroughCacheRule,
  RepositoryCreationTemplate,
  UpdatePullThroughCacheRuleCommandInput,
} from '@aws-sdk/client-ecr';
import {
  describeGrantees,
  holdsKeeperStatements,
  keeperGrants,
  type PolicyStatement,
  PolicyTextError,
  registryStatements,
  repositoryStatements,
  samePolicy,
  withKeeperStatements,
} from '../config/access.js';
import type { DesiredRule, DesiredTemplate, KeeperConfig } from '../config/load.js';
import { wildcardMatcher } from '../config/names.js';
import type { ActualState, UnreadableRepository } from './state.js';

export interface FieldDiff {
  field: string;
  actual: unknown;
  desired: unknown;
}

interface ChangeBase {
  /** What the change is about: `rule docker-hub`, `template docker-hub`, `repository docker-hub/library/node`. */
  target: string;
  /** How it will be applied, in words. */
  action: string;
  diffs: FieldDiff[];
}

export type Change =
  | (ChangeBase & { kind: 'create-rule'; prefix: string; input: CreatePullThroughCacheRuleCommandInput })
  | (ChangeBase & { kind: 'update-rule'; prefix: string; input: UpdatePullThroughCacheRuleCommandInput })
  | (ChangeBase & {
      kind: 'recreate-rule';
      prefix: string;
      input: CreatePullThroughCacheRuleCommandInput;
      /** The rule as it is, put back if ECR refuses the new one (absent in plans saved before it). */
      previous?: CreatePullThroughCacheRuleCommandInput;
    })
  | (ChangeBase & { kind: 'delete-rule'; prefix: string })
  | (ChangeBase & {
      kind: 'create-template';
      prefix: string;
      input: CreateRepositoryCreationTemplateCommandInput;
    })
  | (ChangeBase & {
      kind: 'update-template';
      prefix: string;
      input: CreateRepositoryCreationTemplateCommandInput;
    })
  | (ChangeBase & {
      kind: 'recreate-template';
      prefix: string;
      input: CreateRepositoryCreationTemplateCommandInput;
      /** The template as it is, put back if ECR refuses the new one (absent in plans saved before it). */
      previous?: CreateRepositoryCreationTemplateCommandInput;
    })
  | (ChangeBase & { kind: 'delete-template'; prefix: string })
  | (ChangeBase & { kind: 'put-lifecycle-policy'; repositoryName: string; lifecyclePolicyText: string })
  | (ChangeBase & { kind: 'put-registry-policy'; policyText: string })
  | (ChangeBase & { kind: 'delete-registry-policy' })
  | (ChangeBase & { kind: 'set-repository-policy'; repositoryName: string; policyText: string })
  | (ChangeBase & { kind: 'delete-repository-policy'; repositoryName: string })
  | (ChangeBase & { kind: 'register-exclusion'; principalArn: string });

export type ChangeKind = Change['kind'];

export interface PlanProblem {
  target: string;
  message: string;
}

export interface Plan {
  changes: Change[];
  /** What blocks part of the desired state (a bad credential secret): that rule is left unchanged. */
  problems: PlanProblem[];
  /**
   * Rules and templates that exist but are not declared (deleted only with `reconcile.prune`), and
   * registry-policy statements an earlier `access:` left (taken back by an emptied `access:`).
   */
  unmanaged: string[];
  /** Existing repositories `reconcile.excludeRepositories` leaves as they are (not read, not changed). */
  excluded: string[];
  /** Patterns of `reconcile.excludeRepositories` no cache repository matches now (a typo, or one yet to come). */
  unmatchedExclusions: string[];
  /** Counts of what was compared, for the report. */
  checked: { rules: number; templates: number; repositories: number };
}

export interface PlanOptions {
  /** Principal to register as a pull-time update exclusion, as lib/ecr/exclusion.ts works it out. */
  exclusionPrincipalArns?: string[];
}

/** JSON text compared by meaning: key order and whitespace do not count. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>)
          .filter(([, x]) => x !== undefined)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, x]) => [k, sort(x)]),
      );
    }
    return v;
  };
  if (typeof value === 'string') {
    try {
      return JSON.stringify(sort(JSON.parse(value)));
    } catch {
      return value;
    }
  }
  return JSON.stringify(sort(value));
}

const sameJson = (a: unknown, b: unknown) =>
  a === undefined || b === undefined ? a === b : canonicalJson(a) === canonicalJson(b);

export function templateInput(t: DesiredTemplate): CreateRepositoryCreationTemplateCommandInput {
  return {
    prefix: t.prefix,
    description: t.description,
    appliedFor: ['PULL_THROUGH_CACHE'],
    imageTagMutability:
      t.imageTagMutability as CreateRepositoryCreationTemplateCommandInput['imageTagMutability'],
    imageTagMutabilityExclusionFilters: t.imageTagMutabilityExclusionFilters?.map((filter) => ({
      filterType: 'WILDCARD',
      filter,
    })),
    encryptionConfiguration: t.encryption && {
      encryptionType: t.encryption.type,
      ...(t.encryption.type === 'KMS' && t.encryption.kmsKey ? { kmsKey: t.encryption.kmsKey } : {}),
    },
    resourceTags: Object.keys(t.resourceTags).length
      ? Object.entries(t.resourceTags).map(([Key, Value]) => ({ Key, Value }))
      : undefined,
    lifecyclePolicy: t.lifecyclePolicy,
    repositoryPolicy: t.repositoryPolicy,
    customRoleArn: t.customRoleArn,
  };
}

/** Field-by-field differences between a template ECR holds and the desired one. */
function templateDiffs(
  actual: RepositoryCreationTemplate,
  desired: CreateRepositoryCreationTemplateCommandInput,
): FieldDiff[] {
  const sortTags = (tags?: Array<{ Key?: string; Value?: string }>) =>
    tags?.length ? [...tags].sort((a, b) => (a.Key ?? '').localeCompare(b.Key ?? '')) : undefined;
  const sortFilters = (f?: Array<{ filter?: string }>) =>
    f?.length ? f.map((x) => x.filter).sort() : undefined;
  const aes = (e?: { encryptionType?: string; kmsKey?: string }) =>
    e && e.encryptionType !== 'AES256' ? e : undefined;
  const fields: Array<[string, unknown, unknown, ((a: string, b: string) => boolean)?]> = [
    ['description', actual.description, desired.description],
    ['lifecyclePolicy', actual.lifecyclePolicy, desired.lifecyclePolicy],
    ['imageTagMutability', actual.imageTagMutability ?? 'MUTABLE', desired.imageTagMutability ?? 'MUTABLE'],
    [
      'imageTagMutabilityExclusionFilters',
      sortFilters(actual.imageTagMutabilityExclusionFilters),
      sortFilters(desired.imageTagMutabilityExclusionFilters),
    ],
    ['encryptionConfiguration', aes(actual.encryptionConfiguration), aes(desired.encryptionConfiguration)],
    ['resourceTags', sortTags(actual.resourceTags), sortTags(desired.resourceTags)],
    ['repositoryPolicy', actual.repositoryPolicy, desired.repositoryPolicy, samePolicy],
    ['customRoleArn', actual.customRoleArn, desired.customRoleArn],
    ['appliedFor', [...(actual.appliedFor ?? [])].sort(), [...(desired.appliedFor ?? [])].sort()],
  ];
  return fields
    .filter(([, a, d, same]) => (same ? !same(a as string, d as string) : !sameJson(a, d)))
    .map(([field, a, d]) => ({ field, actual: a, desired: d }));
}

function planRule(rule: DesiredRule, actual: ActualState, problems: PlanProblem[]): Change[] {
  const target = `rule ${rule.prefix}`;
  let credentialArn: string | undefined;
  if (rule.credentialSecret) {
    const state = actual.secrets.get(rule.credentialSecret);
    if (!state?.ok) {
      problems.push({
        target,
        message: `${state?.error.message ?? `secret ${rule.credentialSecret} was not checked`}; the rule is left unchanged`,
      });
      return [];
    }
    credentialArn = state.secret.arn;
  }
  const input: CreatePullThroughCacheRuleCommandInput = {
    ecrRepositoryPrefix: rule.prefix,
    upstreamRegistryUrl: rule.upstreamUrl,
    upstreamRegistry: rule.upstreamRegistry as CreatePullThroughCacheRuleCommandInput['upstreamRegistry'],
    ...(credentialArn ? { credentialArn } : {}),
    ...(rule.customRoleArn ? { customRoleArn: rule.customRoleArn } : {}),
    ...(rule.upstreamPrefix !== 'ROOT' ? { upstreamRepositoryPrefix: rule.upstreamPrefix } : {}),
  };
  const existing: PullThroughCacheRule | undefined = actual.rules.get(rule.prefix);
  if (!existing) {
    return [
      {
        kind: 'create-rule',
        prefix: rule.prefix,
        target,
        action: `CreatePullThroughCacheRule ${rule.prefix} → ${rule.upstreamUrl}, then ValidatePullThroughCacheRule`,
        diffs: [{ field: 'rule', actual: undefined, desired: `${rule.prefix} → ${rule.upstreamUrl}` }],
        input,
      },
    ];
  }
  const structural: FieldDiff[] = [];
  if (existing.upstreamRegistryUrl !== rule.upstreamUrl) {
    structural.push({
      field: 'upstreamRegistryUrl',
      actual: existing.upstreamRegistryUrl,
      desired: rule.upstreamUrl,
    });
  }
  const actualUpstreamPrefix = existing.upstreamRepositoryPrefix ?? 'ROOT';
  if (actualUpstreamPrefix !== rule.upstreamPrefix) {
    structural.push({
      field: 'upstreamRepositoryPrefix',
      actual: actualUpstreamPrefix,
      desired: rule.upstreamPrefix,
    });
  }
  const inPlace: FieldDiff[] = [];
  if ((existing.credentialArn ?? undefined) !== credentialArn)
    inPlace.push({ field: 'credentialArn', actual: existing.credentialArn, desired: credentialArn });
  if ((existing.customRoleArn ?? undefined) !== rule.customRoleArn)
    inPlace.push({ field: 'customRoleArn', actual: existing.customRoleArn, desired: rule.customRoleArn });
  if (structural.length > 0) {
    return [
      {
        kind: 'recreate-rule',
        prefix: rule.prefix,
        target,
        action: `DeletePullThroughCacheRule + CreatePullThroughCacheRule: ECR cannot update ${structural.map((d) => d.field).join(' or ')} in place (cached images stay)`,
        diffs: [...structural, ...inPlace],
        input,
        previous: ruleAsInput(existing),
      },
    ];
  }
  if (inPlace.length > 0) {
    return [
      {
        kind: 'update-rule',
        prefix: rule.prefix,
        target,
        action: 'UpdatePullThroughCacheRule in place, then ValidatePullThroughCacheRule',
        diffs: inPlace,
        input: { ecrRepositoryPrefix: rule.prefix, credentialArn, customRoleArn: rule.customRoleArn },
      },
    ];
  }
  return [];
}

/** An existing rule as the input that would create it again. */
function ruleAsInput(existing: PullThroughCacheRule): CreatePullThroughCacheRuleCommandInput {
  return {
    ecrRepositoryPrefix: existing.ecrRepositoryPrefix,
    upstreamRegistryUrl: existing.upstreamRegistryUrl,
    ...(existing.upstreamRegistry ? { upstreamRegistry: existing.upstreamRegistry } : {}),
    ...(existing.credentialArn ? { credentialArn: existing.credentialArn } : {}),
    ...(existing.customRoleArn ? { customRoleArn: existing.customRoleArn } : {}),
    ...(existing.upstreamRepositoryPrefix && existing.upstreamRepositoryPrefix !== 'ROOT'
      ? { upstreamRepositoryPrefix: existing.upstreamRepositoryPrefix }
      : {}),
  };
}

/** An existing template as the input that would create it again. */
function templateAsInput(existing: RepositoryCreationTemplate): CreateRepositoryCreationTemplateCommandInput {
  const { createdAt: _created, updatedAt: _updated, ...input } = existing;
  return input as CreateRepositoryCreationTemplateCommandInput;
}

function planTemplate(desired: DesiredTemplate, actual: ActualState): Change[] {
  const input = templateInput(desired);
  const target = `template ${desired.prefix}`;
  const existing = actual.templates.get(desired.prefix);
  if (!existing) {
    return [
      {
        kind: 'create-template',
        prefix: desired.prefix,
        target,
        action: 'CreateRepositoryCreationTemplate (applies to repositories the cache creates from now on)',
        diffs: [{ field: 'template', actual: undefined, desired: desired.prefix }],
        input,
      },
    ];
  }
  const diffs = templateDiffs(existing, input);
  if (diffs.length === 0) return [];
  const removes = diffs.some((d) => d.desired === undefined);
  return [
    removes
      ? {
          kind: 'recreate-template',
          prefix: desired.prefix,
          target,
          action: `DeleteRepositoryCreationTemplate + CreateRepositoryCreationTemplate: ${diffs
            .filter((d) => d.desired === undefined)
            .map((d) => d.field)
            .join(', ')} must be removed`,
          diffs,
          input,
          previous: templateAsInput(existing),
        }
      : {
          kind: 'update-template',
          prefix: desired.prefix,
          target,
          action: 'UpdateRepositoryCreationTemplate in place',
          diffs,
          input,
        },
  ];
}

/**
 * Pure: one problem per prefix for the repositories whose policies could not be read, naming them
 * (the first few) and the first refusal, AWS's own words saying which policy denied it.
 */
export function unreadableProblems(unreadable: UnreadableRepository[] = []): PlanProblem[] {
  const byPrefix = new Map<string, UnreadableRepository[]>();
  for (const repo of unreadable) byPrefix.set(repo.prefix, [...(byPrefix.get(repo.prefix) ?? []), repo]);
  return [...byPrefix].map(([prefix, repos]) => {
    const one = repos.length === 1;
    return {
      target: `repositories under ${prefix}/`,
      message: `${repos.length} could not be read: ${nameList(repos.map((r) => r.name))}: left as ${one ? 'it is' : 'they are'}; ${repos[0]!.error}; exempt the keeper's role in ${one ? "the repository's policy, or list it" : "the repositories' policies, or list them"} under reconcile.excludeRepositories`,
    };
  });
}

/**
 * Pure: the exclusion patterns that match none of the repositories listed under the managed
 * prefixes. Nothing when nothing was listed (no back-fill, no access): then no pattern was tried.
 */
export function unmatchedExclusions(
  patterns: string[],
  actual: Pick<ActualState, 'repositories' | 'excluded'>,
): string[] {
  if (actual.repositories.size === 0) return [];
  return patterns.filter((pattern) => !(actual.excluded ?? []).some(wildcardMatcher([pattern])));
}

/** Names for a report line: the first `shown`, and how many more. */
export function nameList(names: string[], shown = 5): string {
  return names.length > shown
    ? `${names.slice(0, shown).join(', ')}, … (${names.length - shown} more)`
    : names.join(', ');
}

export function planReconcile(config: KeeperConfig, actual: ActualState, options: PlanOptions = {}): Plan {
  const changes: Change[] = [];
  const problems: PlanProblem[] = [];
  const unmanaged: string[] = [];

  for (const rule of config.rules) changes.push(...planRule(rule, actual, problems));
  for (const rule of config.rules) if (rule.template) changes.push(...planTemplate(rule.template, actual));

  if (config.reconcile.backfillLifecycle) {
    for (const rule of config.rules) {
      const policy = rule.template?.lifecyclePolicy;
      if (!policy) continue;
      for (const repo of actual.repositories.get(rule.prefix) ?? []) {
        if (sameJson(repo.lifecyclePolicy, policy)) continue;
        changes.push({
          kind: 'put-lifecycle-policy',
          repositoryName: repo.name,
          lifecyclePolicyText: policy,
          target: `repository ${repo.name}`,
          action: `PutLifecyclePolicy (creation templates only reach new repositories)`,
          diffs: [{ field: 'lifecyclePolicy', actual: repo.lifecyclePolicy, desired: policy }],
        });
      }
    }
  }

  problems.push(...unreadableProblems(actual.unreadable));

  if (config.access && actual.registry) changes.push(...planAccess(config, actual, problems));
  else if (actual.registryPolicy) unmanaged.push(...accessLeftBehind(actual.registryPolicy.text));

  for (const principal of options.exclusionPrincipalArns ?? []) {
    if (actual.exclusions.includes(principal)) continue;
    changes.push({
      kind: 'register-exclusion',
      principalArn: principal,
      target: `exclusion ${principal}`,
      action:
        'RegisterPullTimeUpdateExclusion: pre-warm pulls will not count as use for sinceImagePulled rules',
      diffs: [{ field: 'pullTimeUpdateExclusion', actual: undefined, desired: principal }],
    });
  }

  const declaredRules = new Set(config.rules.map((r) => r.prefix));
  for (const [prefix, rule] of actual.rules) {
    if (declaredRules.has(prefix)) continue;
    unmanaged.push(`rule ${prefix} → ${rule.upstreamRegistryUrl}`);
    if (config.reconcile.prune) {
      changes.push({
        kind: 'delete-rule',
        prefix,
        target: `rule ${prefix}`,
        action: 'DeletePullThroughCacheRule (reconcile.prune is on; cached repositories stay)',
        diffs: [{ field: 'rule', actual: `${prefix} → ${rule.upstreamRegistryUrl}`, desired: undefined }],
      });
    }
  }
  const declaredTemplates = new Set(config.rules.filter((r) => r.template).map((r) => r.prefix));
  for (const [prefix, template] of actual.templates) {
    if (declaredTemplates.has(prefix) || !template.appliedFor?.includes('PULL_THROUGH_CACHE')) continue;
    unmanaged.push(`template ${prefix}`);
    // Only templates used for pull-through alone are the keeper's to delete.
    if (config.reconcile.prune && template.appliedFor.length === 1) {
      changes.push({
        kind: 'delete-template',
        prefix,
        target: `template ${prefix}`,
        action: 'DeleteRepositoryCreationTemplate (reconcile.prune is on)',
        diffs: [{ field: 'template', actual: prefix, desired: undefined }],
      });
    }
  }
  return {
    changes,
    problems,
    unmanaged,
    excluded: actual.excluded ?? [],
    unmatchedExclusions: unmatchedExclusions(config.reconcile.excludeRepositories, actual),
    checked: {
      rules: config.rules.length,
      templates: declaredTemplates.size,
      repositories: [...actual.repositories.values()].reduce((n, repos) => n + repos.length, 0),
    },
  };
}

/**
 * The keeper's statements an earlier `access:` left in the registry policy (the key was removed
 * before it was emptied, so nothing took them back): other accounts still pull through the cache.
 */
function accessLeftBehind(policyText: string | undefined): string[] {
  try {
    return keeperGrants(policyText, 'the registry policy').map(
      ({ sid, grantees }) => `${LEFT_ACCESS} ${sid} (lets ${grantees} pull through the cache)`,
    );
  } catch (error) {
    if (error instanceof PolicyTextError) return []; // someone else's policy to mend; not ours to judge
    throw error;
  }
}

/** How an `unmanaged` entry for a statement an earlier `access:` left begins. */
const LEFT_ACCESS = 'registry policy statement';

/** Whether an `unmanaged` entry is a statement an earlier `access:` left (accessLeftBehind). */
export const isLeftAccess = (entry: string): boolean => entry.startsWith(LEFT_ACCESS);

/**
 * `access:`: the keeper's statements in the registry policy (first pulls, on every rule's prefix)
 * and in each cache repository's policy (pulls; the templates carry them to new repositories). A
 * policy that cannot be read is left as it is, with a problem naming it.
 */
function planAccess(config: KeeperConfig, actual: ActualState, problems: PlanProblem[]): Change[] {
  const registry = actual.registry!;
  const changes = planStatements(
    {
      what: 'the registry policy',
      target: 'registry policy',
      field: 'first pulls (CreateRepository, BatchImportUpstreamImage)',
      current: registry.policy,
      statements: registryStatements(
        config.access!,
        config.rules.map((r) => r.prefix),
        registry,
      ),
      put: (policyText, base) => ({
        ...base,
        kind: 'put-registry-policy',
        policyText,
        action: "PutRegistryPolicy (the keeper's statements only; the others are kept as they are)",
      }),
      remove: (base) => ({
        ...base,
        kind: 'delete-registry-policy',
        action: 'DeleteRegistryPolicy (it held only the access the config no longer grants)',
      }),
    },
    problems,
  );
  const statements = repositoryStatements(config.access!);
  for (const rule of config.rules) {
    if (!rule.template) continue;
    for (const repo of actual.repositories.get(rule.prefix) ?? [])
      changes.push(
        ...planStatements(
          {
            what: `repository ${repo.name}'s policy`,
            target: `repository ${repo.name}`,
            field: 'pull access',
            current: repo.repositoryPolicy,
            statements,
            put: (policyText, base) => ({
              ...base,
              kind: 'set-repository-policy',
              repositoryName: repo.name,
              policyText,
              action: 'SetRepositoryPolicy (creation templates only reach new repositories)',
            }),
            remove: (base) => ({
              ...base,
              kind: 'delete-repository-policy',
              repositoryName: repo.name,
              action: 'DeleteRepositoryPolicy (it held only the access the config no longer grants)',
            }),
          },
          problems,
        ),
      );
  }
  return changes;
}

const POLICY_TEXT_MAX = 10_240;

/** One policy's keeper statements: nothing when they are as desired, else the change that makes them so. */
function planStatements(
  policy: {
    what: string;
    target: string;
    field: string;
    current: string | undefined;
    statements: PolicyStatement[];
    put: (policyText: string, base: Pick<Change, 'target' | 'diffs'>) => Change;
    remove: (base: Pick<Change, 'target' | 'diffs'>) => Change;
  },
  problems: PlanProblem[],
): Change[] {
  const { what, current, statements } = policy;
  try {
    if (holdsKeeperStatements(current, statements, what)) return [];
    const policyText = withKeeperStatements(current, statements, what);
    // Registry and repository policies alike take at most 10,240 characters (the API model).
    if (policyText && policyText.length > POLICY_TEXT_MAX) {
      problems.push({
        target: policy.target,
        message: `${what} with the keeper's statements would be ${policyText.length} characters, over the ${POLICY_TEXT_MAX} ECR takes: left as it is; shorten its other statements`,
      });
      return [];
    }
    const base = {
      target: policy.target,
      diffs: [
        {
          field: policy.field,
          actual: describeGrantees(current, what),
          desired: describeGrantees(policyText, what),
        },
      ],
    };
    return [policyText === undefined ? policy.remove(base) : policy.put(policyText, base)];
  } catch (error) {
    if (!(error instanceof PolicyTextError)) throw error;
    problems.push({ target: policy.target, message: `${error.message}: left as it is` });
    return [];
  }
}
