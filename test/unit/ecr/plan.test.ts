import type { PullThroughCacheRule, RepositoryCreationTemplate } from '@aws-sdk/client-ecr';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config/load.js';
import { CredentialSecretError } from '../../../lib/credential/secret.js';
import {
  canonicalJson,
  planReconcile,
  templateInput,
  unmatchedExclusions,
  unreadableProblems,
} from '../../../lib/ecr/plan.js';
import type { ActualState } from '../../../lib/ecr/state.js';
import { credentialSecretState, SECRET_ARN } from '../../support/ecr-state.js';

const config = (extra = '') =>
  parseConfig(`
rules:
  - prefix: docker-hub
    upstream: docker-hub
    credentialSecret: ecr-pullthroughcache/docker-hub
    template:
      lifecycle: { keepLast: 6 }
${extra}`);

function actual(overrides: Partial<ActualState> = {}): ActualState {
  return {
    rules: new Map(),
    templates: new Map(),
    repositories: new Map(),
    secrets: credentialSecretState(),
    exclusions: [],
    ...overrides,
  };
}

const ruleInEcr = (over: Partial<PullThroughCacheRule> = {}): PullThroughCacheRule => ({
  ecrRepositoryPrefix: 'docker-hub',
  upstreamRegistryUrl: 'registry-1.docker.io',
  upstreamRegistry: 'docker-hub',
  credentialArn: SECRET_ARN,
  upstreamRepositoryPrefix: 'ROOT',
  ...over,
});

const templateInEcr = (over: Partial<RepositoryCreationTemplate> = {}): RepositoryCreationTemplate => ({
  ...(templateInput(config().rules[0]!.template!) as RepositoryCreationTemplate),
  encryptionConfiguration: { encryptionType: 'AES256' },
  ...over,
});

describe('planReconcile', () => {
  it('plans nothing when ECR matches, whatever the JSON key order', () => {
    const policy = JSON.parse(config().rules[0]!.template!.lifecyclePolicy!);
    const reordered = JSON.stringify({
      rules: policy.rules.map((r: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(r).reverse()),
      ),
    });
    const plan = planReconcile(
      config(),
      actual({
        rules: new Map([['docker-hub', ruleInEcr()]]),
        templates: new Map([['docker-hub', templateInEcr({ lifecyclePolicy: reordered })]]),
        repositories: new Map([
          ['docker-hub', [{ name: 'docker-hub/library/node', arn: 'arn', lifecyclePolicy: reordered }]],
        ]),
      }),
    );
    expect(plan.changes).toEqual([]);
    expect(plan.checked).toEqual({ rules: 1, templates: 1, repositories: 1 });
  });

  it('creates a missing rule with the secret ARN and no upstream prefix', () => {
    const [change] = planReconcile(
      config(),
      actual({ templates: new Map([['docker-hub', templateInEcr()]]) }),
    ).changes;
    expect(change).toMatchObject({
      kind: 'create-rule',
      input: {
        ecrRepositoryPrefix: 'docker-hub',
        upstreamRegistryUrl: 'registry-1.docker.io',
        upstreamRegistry: 'docker-hub',
        credentialArn: SECRET_ARN,
      },
    });
    expect(change && 'input' in change && 'upstreamRepositoryPrefix' in change.input).toBe(false);
  });

  it('updates a rule in place when only the credential differs', () => {
    const plan = planReconcile(
      config(),
      actual({
        rules: new Map([['docker-hub', ruleInEcr({ credentialArn: 'arn:old' })]]),
        templates: new Map([['docker-hub', templateInEcr()]]),
      }),
    );
    expect(plan.changes).toEqual([
      expect.objectContaining({
        kind: 'update-rule',
        diffs: [{ field: 'credentialArn', actual: 'arn:old', desired: SECRET_ARN }],
        input: { ecrRepositoryPrefix: 'docker-hub', credentialArn: SECRET_ARN, customRoleArn: undefined },
      }),
    ]);
  });

  it('re-creates a rule whose upstream URL or upstream prefix changed', () => {
    const plan = planReconcile(
      config(),
      actual({
        rules: new Map([
          ['docker-hub', ruleInEcr({ upstreamRegistryUrl: 'quay.io', upstreamRepositoryPrefix: 'x' })],
        ]),
        templates: new Map([['docker-hub', templateInEcr()]]),
      }),
    );
    expect(plan.changes[0]).toMatchObject({ kind: 'recreate-rule' });
    expect(plan.changes[0]!.diffs.map((d) => d.field)).toEqual([
      'upstreamRegistryUrl',
      'upstreamRepositoryPrefix',
    ]);
  });

  it('blocks the rule, not the template, when its secret is bad', () => {
    const error = new CredentialSecretError(
      'ecr-pullthroughcache/docker-hub',
      'not-json',
      'value is not JSON',
    );
    const plan = planReconcile(
      config(),
      actual({ secrets: new Map([['ecr-pullthroughcache/docker-hub', { ok: false, error }]]) }),
    );
    expect(plan.problems).toEqual([
      {
        target: 'rule docker-hub',
        message: 'secret ecr-pullthroughcache/docker-hub: value is not JSON; the rule is left unchanged',
      },
    ]);
    expect(plan.changes.map((c) => c.kind)).toEqual(['create-template']);
  });

  it('updates a template in place, and re-creates it when a field must be removed', () => {
    const updated = planReconcile(
      config(),
      actual({
        rules: new Map([['docker-hub', ruleInEcr()]]),
        templates: new Map([['docker-hub', templateInEcr({ imageTagMutability: 'IMMUTABLE' })]]),
      }),
    );
    expect(updated.changes).toEqual([
      expect.objectContaining({
        kind: 'update-template',
        diffs: [{ field: 'imageTagMutability', actual: 'IMMUTABLE', desired: 'MUTABLE' }],
      }),
    ]);
    const removed = planReconcile(
      config(),
      actual({
        rules: new Map([['docker-hub', ruleInEcr()]]),
        templates: new Map([
          ['docker-hub', templateInEcr({ repositoryPolicy: '{"Version":"2012-10-17","Statement":[]}' })],
        ]),
      }),
    );
    expect(removed.changes).toEqual([
      expect.objectContaining({
        kind: 'recreate-template',
        diffs: [expect.objectContaining({ field: 'repositoryPolicy', desired: undefined })],
      }),
    ]);
  });

  it('back-fills lifecycle policies on existing repositories unless turned off', () => {
    const state = actual({
      rules: new Map([['docker-hub', ruleInEcr()]]),
      templates: new Map([['docker-hub', templateInEcr()]]),
      repositories: new Map([
        [
          'docker-hub',
          [
            { name: 'docker-hub/library/node', arn: 'a' },
            { name: 'docker-hub/library/redis', arn: 'b', lifecyclePolicy: '{"rules":[]}' },
          ],
        ],
      ]),
    });
    expect(planReconcile(config(), state).changes.map((c) => [c.kind, c.target])).toEqual([
      ['put-lifecycle-policy', 'repository docker-hub/library/node'],
      ['put-lifecycle-policy', 'repository docker-hub/library/redis'],
    ]);
    expect(planReconcile(config('reconcile: { backfillLifecycle: false }'), state).changes).toEqual([]);
  });

  it('registers the exclusion principal when missing, from config or from the environment', () => {
    const base = {
      rules: new Map([['docker-hub', ruleInEcr()]]),
      templates: new Map([['docker-hub', templateInEcr()]]),
    };
    expect(
      planReconcile(config(), actual(base), { exclusionPrincipalArns: ['arn:aws:iam::1:role/p'] }).changes,
    ).toEqual([
      expect.objectContaining({ kind: 'register-exclusion', principalArn: 'arn:aws:iam::1:role/p' }),
    ]);
    expect(
      planReconcile(config(), actual({ ...base, exclusions: ['arn:aws:iam::1:role/p'] }), {
        exclusionPrincipalArns: ['arn:aws:iam::1:role/p'],
      }).changes,
    ).toEqual([]);
  });

  it('reports undeclared rules and pull-through templates; prunes only with prune, never shared templates', () => {
    const state = actual({
      rules: new Map([
        ['docker-hub', ruleInEcr()],
        ['old', ruleInEcr({ ecrRepositoryPrefix: 'old', upstreamRegistryUrl: 'quay.io' })],
      ]),
      templates: new Map([
        ['docker-hub', templateInEcr()],
        ['old', { prefix: 'old', appliedFor: ['PULL_THROUGH_CACHE'] }],
        ['shared', { prefix: 'shared', appliedFor: ['PULL_THROUGH_CACHE', 'CREATE_ON_PUSH'] }],
        ['push', { prefix: 'push', appliedFor: ['CREATE_ON_PUSH'] }],
      ]),
    });
    const kept = planReconcile(config(), state);
    expect(kept.unmanaged).toEqual(['rule old → quay.io', 'template old', 'template shared']);
    expect(kept.changes).toEqual([]);
    const pruned = planReconcile(config('reconcile: { prune: true }'), state);
    expect(pruned.changes.map((c) => [c.kind, c.target])).toEqual([
      ['delete-rule', 'rule old'],
      ['delete-template', 'template old'],
    ]);
  });
});

describe('canonicalJson', () => {
  it('ignores key order and whitespace but not values', () => {
    expect(canonicalJson('{"b": 1, "a": [1, {"d": 2, "c": 3}]}')).toBe(
      canonicalJson({ a: [1, { c: 3, d: 2 }], b: 1 }),
    );
    expect(canonicalJson('{"a": 1}')).not.toBe(canonicalJson('{"a": 2}'));
  });
});

describe('planReconcile with access:', () => {
  const withAccess = () => config("access:\n  accounts: ['222222222222']\n");
  const registry = { account: '123456789012', region: 'eu-west-1' };
  const lifecycle = () => withAccess().rules[0]!.template!.lifecyclePolicy!;
  const repo = (name: string, repositoryPolicy?: string) => ({
    name,
    arn: `arn:${name}`,
    lifecyclePolicy: lifecycle(),
    repositoryPolicy,
  });
  const inPlace = () => ({
    rules: new Map([['docker-hub', ruleInEcr()]]),
    templates: new Map([
      ['docker-hub', templateInEcr({ repositoryPolicy: withAccess().rules[0]!.template!.repositoryPolicy })],
    ]),
  });

  it('a policy that is not JSON is left as it is, with a problem naming it; the others are planned', () => {
    const plan = planReconcile(
      withAccess(),
      actual({
        ...inPlace(),
        registry: { ...registry, policy: '{"Statement": [' },
        repositories: new Map([
          ['docker-hub', [repo('docker-hub/library/node', 'not json'), repo('docker-hub/library/redis')]],
        ]),
      }),
    );
    expect(plan.problems).toEqual([
      { target: 'registry policy', message: 'the registry policy is not JSON: left as it is' },
      {
        target: 'repository docker-hub/library/node',
        message: "repository docker-hub/library/node's policy is not JSON: left as it is",
      },
    ]);
    expect(plan.changes.map((c) => [c.kind, c.target])).toEqual([
      ['set-repository-policy', 'repository docker-hub/library/redis'],
    ]);
  });

  it('nothing to do when every policy holds the statements, in whatever spelling', () => {
    const mine = JSON.parse(withAccess().rules[0]!.template!.repositoryPolicy!).Statement[0];
    const respelled = JSON.stringify({ Statement: { ...mine, Principal: { AWS: '222222222222' } } });
    const firstPull = {
      Sid: 'EcrCacheKeeperFirstPullAccounts',
      Effect: 'Allow',
      Principal: { AWS: '222222222222' },
      Action: ['ecr:CreateRepository', 'ecr:BatchImportUpstreamImage'],
      Resource: 'arn:aws:ecr:eu-west-1:123456789012:repository/docker-hub/*',
    };
    const plan = planReconcile(
      withAccess(),
      actual({
        ...inPlace(),
        registry: { ...registry, policy: JSON.stringify({ Statement: [firstPull] }) },
        repositories: new Map([['docker-hub', [repo('docker-hub/library/node', respelled)]]]),
      }),
    );
    expect(plan).toMatchObject({ changes: [], problems: [], checked: { repositories: 1 } });
  });

  it('a registry policy the statements would take past 10,240 characters is left, with a problem', () => {
    const long = {
      Sid: 'Theirs',
      Effect: 'Allow',
      Principal: { AWS: '999999999999' },
      Action: 'ecr:ReplicateImage',
      Resource: 'arn:aws:ecr:eu-west-1:123456789012:repository/*',
      Condition: { StringEquals: { 'aws:PrincipalTag/team': 'x'.repeat(10_000) } },
    };
    const plan = planReconcile(
      withAccess(),
      actual({ ...inPlace(), registry: { ...registry, policy: JSON.stringify({ Statement: [long] }) } }),
    );
    expect(plan.changes).toEqual([]);
    expect(plan.problems).toEqual([
      {
        target: 'registry policy',
        message: expect.stringMatching(
          /^the registry policy with the keeper's statements would be \d+ characters, over the 10240 ECR takes: left as it is/,
        ),
      },
    ]);
  });
});

describe('planReconcile without access:', () => {
  const statement = (Sid: string, extra: Record<string, unknown>) => ({
    Sid,
    Effect: 'Allow',
    Action: ['ecr:CreateRepository', 'ecr:BatchImportUpstreamImage'],
    Resource: 'arn:aws:ecr:eu-west-1:123456789012:repository/docker-hub/*',
    ...extra,
  });
  const accounts = statement('EcrCacheKeeperFirstPullAccounts', {
    Principal: { AWS: ['arn:aws:iam::222222222222:root', '333333333333'] },
  });
  const organization = statement('EcrCacheKeeperFirstPullOrganization', {
    Principal: '*',
    Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123def4' } },
  });
  const theirs = statement('ReplicationFromProd', { Principal: { AWS: '999999999999' } });
  const policy = (...Statement: unknown[]) => ({
    text: JSON.stringify({ Version: '2012-10-17', Statement }),
  });

  it.each([
    ['not read (no permission, or not asked)', undefined, []],
    ['no registry policy', { text: undefined }, []],
    ['only statements of others', policy(theirs), []],
    ['a policy that is not JSON (not the keeper’s to judge)', { text: '{"Statement": [' }, []],
    [
      "the keeper's statements an earlier access: left, beside others",
      policy(theirs, accounts, organization),
      [
        'registry policy statement EcrCacheKeeperFirstPullAccounts (lets 222222222222, 333333333333 pull through the cache)',
        'registry policy statement EcrCacheKeeperFirstPullOrganization (lets organization o-abc123def4 pull through the cache)',
      ],
    ],
  ])('%s', (_case, registryPolicy, expected) => {
    const plan = planReconcile(
      config(),
      actual({
        rules: new Map([['docker-hub', ruleInEcr()]]),
        templates: new Map([['docker-hub', templateInEcr()]]),
        ...(registryPolicy ? { registryPolicy } : {}),
      }),
    );
    expect(plan.unmanaged).toEqual(expected);
    expect(plan.changes).toEqual([]);
  });
});

describe('repositories whose policies could not be read', () => {
  const refused = (name: string, prefix = 'docker-hub') => ({
    name,
    prefix,
    error: `AccessDeniedException: User: r is not authorized to perform: ecr:GetLifecyclePolicy on resource: ${name} with an explicit deny in a resource-based policy`,
  });
  const ONE =
    "; exempt the keeper's role in the repository's policy, or list it under reconcile.excludeRepositories";
  const MANY =
    "; exempt the keeper's role in the repositories' policies, or list them under reconcile.excludeRepositories";
  it.each([
    ['none', [], []],
    [
      'one',
      [refused('docker-hub/a')],
      [
        {
          target: 'repositories under docker-hub/',
          message: `1 could not be read: docker-hub/a: left as it is; ${refused('docker-hub/a').error}${ONE}`,
        },
      ],
    ],
    [
      'seven under one prefix and one under another',
      [...'abcdefg'.split('').map((c) => refused(`docker-hub/${c}`)), refused('quay/x', 'quay')],
      [
        {
          target: 'repositories under docker-hub/',
          message: `7 could not be read: docker-hub/a, docker-hub/b, docker-hub/c, docker-hub/d, docker-hub/e, … (2 more): left as they are; ${refused('docker-hub/a').error}${MANY}`,
        },
        {
          target: 'repositories under quay/',
          message: `1 could not be read: quay/x: left as it is; ${refused('quay/x').error}${ONE}`,
        },
      ],
    ],
  ])('%s: one problem per prefix', (_name, unreadable, problems) => {
    expect(unreadableProblems(unreadable)).toEqual(problems);
  });

  it('the plan has no change for them, and the problem', () => {
    const plan = planReconcile(
      config(),
      actual({
        rules: new Map([['docker-hub', ruleInEcr()]]),
        templates: new Map([['docker-hub', templateInEcr()]]),
        repositories: new Map([['docker-hub', [{ name: 'docker-hub/b', arn: 'arn:b' }]]]),
        unreadable: [refused('docker-hub/a')],
      }),
    );
    expect(plan.changes.map((c) => c.target)).toEqual(['repository docker-hub/b']);
    expect(plan.problems.map((p) => p.target)).toEqual(['repositories under docker-hub/']);
  });
});

describe('exclusion patterns no cache repository matches', () => {
  const listed = new Map([['docker-hub', [{ name: 'docker-hub/library/node', arn: 'a' }]]]);
  it.each<[string, string[], Partial<ActualState>, string[]]>([
    ['none given', [], { repositories: listed, excluded: [] }, []],
    [
      'each matching one',
      ['docker-hub/team-d/*', 'docker-hub/library/redis'],
      { repositories: listed, excluded: ['docker-hub/team-d/a', 'docker-hub/library/redis'] },
      [],
    ],
    [
      'a typo',
      ['docker-hub/libary/redis', 'docker-hub/team-d/*'],
      { repositories: listed, excluded: ['docker-hub/team-d/a'] },
      ['docker-hub/libary/redis'],
    ],
    // Nothing listed (no back-fill, no access): no pattern was tried, so none is said to miss.
    ['nothing listed', ['docker-hub/libary/redis'], { repositories: new Map(), excluded: [] }, []],
  ])('%s', (_name, patterns, state, unmatched) => {
    expect(unmatchedExclusions(patterns, actual(state))).toEqual(unmatched);
  });
});
