/** The plan as a person reads it, in terraform's manner. */
import type { RepositoryCreationTemplate } from '@aws-sdk/client-ecr';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config/load.js';
import { formatReconcile, lifecycleDiff, planSummary } from '../../../lib/ecr/format.js';
import { planReconcile, templateInput } from '../../../lib/ecr/plan.js';
import type { ActualState } from '../../../lib/ecr/state.js';
import { credentialSecretState, SECRET_ARN } from '../../support/ecr-state.js';

const config = (keepLast: number) =>
  parseConfig(`
rules:
  - prefix: docker-hub
    upstream: docker-hub
    credentialSecret: ecr-pullthroughcache/docker-hub
    template:
      lifecycle: { keepLast: ${keepLast} }
`);
const secrets = credentialSecretState();
const dryRun = {
  dryRun: true,
  applied: [],
  failures: [],
  notAttempted: [],
  gone: [],
  validations: [],
  ok: true,
};

describe('the plan text', () => {
  it('keepLast 6 → 10 over 11 repositories: the template and one grouped line, 6 → 10 shown once each', () => {
    const six = config(6).rules[0]!.template!;
    const state: ActualState = {
      rules: new Map([
        [
          'docker-hub',
          {
            ecrRepositoryPrefix: 'docker-hub',
            upstreamRegistryUrl: 'registry-1.docker.io',
            upstreamRegistry: 'docker-hub',
            credentialArn: SECRET_ARN,
            upstreamRepositoryPrefix: 'ROOT',
          },
        ],
      ]),
      templates: new Map([
        [
          'docker-hub',
          {
            ...(templateInput(six) as RepositoryCreationTemplate),
            encryptionConfiguration: { encryptionType: 'AES256' },
          },
        ],
      ]),
      repositories: new Map([
        [
          'docker-hub',
          Array.from({ length: 11 }, (_, i) => ({
            name: `docker-hub/library/image-${String(i).padStart(2, '0')}`,
            arn: `arn:aws:ecr:us-east-1:123456789012:repository/docker-hub/library/image-${i}`,
            lifecyclePolicy: six.lifecyclePolicy,
          })),
        ],
      ]),
      secrets,
      exclusions: [],
    };
    const plan = planReconcile(config(10), state);
    const text = formatReconcile({ plan, result: dryRun });
    expect(text).toMatchInlineSnapshot(`
      "~ template docker-hub  (UpdateRepositoryCreationTemplate in place)
          lifecycle rule 2: description Keep only the last 6 tagged images → Keep only the last 10 tagged images
          lifecycle rule 2: countNumber 6 → 10
      ~ 11 repositories (docker-hub/library/image-00, docker-hub/library/image-01, docker-hub/library/image-02, …)  (PutLifecyclePolicy: creation templates only reach new repositories)
          lifecycle rule 2: description Keep only the last 6 tagged images → Keep only the last 10 tagged images
          lifecycle rule 2: countNumber 6 → 10
      Plan: 0 to add, 12 to change, 0 to destroy.
      Dry run: 12 change(s) planned, nothing written."
    `);
    expect(text.match(/countNumber 6 → 10/g)).toHaveLength(2);
  });

  it('a create lists every attribute it sets, the lifecycle policy as rules', () => {
    const plan = planReconcile(config(6), {
      rules: new Map(),
      templates: new Map(),
      repositories: new Map(),
      secrets,
      exclusions: [],
    });
    const text = formatReconcile({ plan, result: dryRun });
    expect(text).toContain('+ rule docker-hub');
    expect(text).toContain(`    credentialArn = ${SECRET_ARN}`);
    expect(text).toContain('    upstreamRegistryUrl = registry-1.docker.io');
    expect(text).toContain('    imageTagMutability = MUTABLE');
    expect(text).toMatch(/^ {4}lifecycle rule 2: tagged imageCountMoreThan 6 expire$/m);
    expect(text).toContain('Plan: 2 to add, 0 to change, 0 to destroy.');
  });
});

describe('the plan text with access:', () => {
  it('a template policy change says who may pull and which statements come, change and go, not JSON', () => {
    const yaml = (access: string) =>
      parseConfig(
        `rules:\n  - prefix: quay\n    upstream: quay\n    template:\n      repositoryPolicy: '{"Statement": [{"Sid": "Mine", "Effect": "Allow", "Principal": {"AWS": "999999999999"}, "Action": "ecr:BatchGetImage"}]}'\naccess:\n${access}`,
      );
    const before = yaml("  accounts: ['111111111111']\n").rules[0]!.template!;
    const template: RepositoryCreationTemplate = {
      ...(templateInput(before) as RepositoryCreationTemplate),
      encryptionConfiguration: { encryptionType: 'AES256' },
    };
    const after = yaml("  accounts: ['222222222222']\n  organizationId: o-abc123def4\n");
    const plan = planReconcile(after, {
      rules: new Map([
        ['quay', { ecrRepositoryPrefix: 'quay', upstreamRegistryUrl: 'quay.io', upstreamRegistry: 'quay' }],
      ]),
      templates: new Map([['quay', template]]),
      repositories: new Map(),
      secrets,
      exclusions: [],
    });
    expect(formatReconcile({ plan, result: dryRun }).split('\n').slice(0, 4)).toEqual([
      '~ template quay  (UpdateRepositoryCreationTemplate in place)',
      '    repositoryPolicy: pull access 111111111111 → 222222222222, organization o-abc123def4',
      '    repositoryPolicy: statement EcrCacheKeeperPullOrganization added',
      '    repositoryPolicy: statement EcrCacheKeeperPullAccounts changed',
    ]);
  });
});

describe('lifecycleDiff and planSummary', () => {
  const policy = (...rules: object[]) => JSON.stringify({ rules });
  const keep = (n: number, priority = 1) => ({
    rulePriority: priority,
    selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: n },
    action: { type: 'expire' },
  });
  it.each([
    ['a number changed', policy(keep(6)), policy(keep(10)), ['lifecycle rule 1: countNumber 6 → 10']],
    [
      'a rule added',
      policy(keep(6, 2)),
      policy(
        {
          ...keep(1),
          selection: {
            tagStatus: 'untagged',
            countType: 'sinceImagePushed',
            countUnit: 'days',
            countNumber: 1,
          },
        },
        keep(6, 2),
      ),
      ['lifecycle rule 1: added (untagged sinceImagePushed 1 days expire)'],
    ],
    [
      'a rule removed',
      policy(keep(6)),
      policy(),
      ['lifecycle rule 1: removed (any imageCountMoreThan 6 expire)'],
    ],
    ['nothing changed', policy(keep(6)), policy(keep(6)), []],
  ])('%s', (_name, before, after, lines) => {
    expect(lifecycleDiff(before, after)).toEqual(lines);
  });

  it('counts a replacement as one to add and one to destroy', () => {
    const kinds = [
      'create-rule',
      'recreate-template',
      'update-rule',
      'put-lifecycle-policy',
      'delete-rule',
    ] as const;
    expect(planSummary({ changes: kinds.map((kind) => ({ kind }) as never) })).toEqual({
      add: 2,
      change: 2,
      destroy: 2,
    });
  });
});

/** A plan with nothing in it: the report lines under test come from the result or `excluded`. */
const emptyPlan = {
  changes: [],
  problems: [],
  unmanaged: [],
  excluded: [],
  unmatchedExclusions: [],
  checked: { rules: 0, templates: 0, repositories: 0 },
};

describe('failures of an apply', () => {
  const failure = (n: number) => ({
    target: `repository docker-hub/r${n}`,
    kind: 'put-lifecycle-policy' as const,
    errorName: 'AccessDeniedException',
    error: `denied r${n}`,
  });
  it.each([
    [1, ['FAILED at repository docker-hub/r0: AccessDeniedException: denied r0']],
    [
      12,
      [
        ...Array.from(
          { length: 10 },
          (_, n) => `FAILED at repository docker-hub/r${n}: AccessDeniedException: denied r${n}`,
        ),
        'FAILED: 2 more (the JSON report lists them all, in result.failures)',
      ],
    ],
  ])('%i failed: each named, ten at most', (count, lines) => {
    const failures = Array.from({ length: count }, (_, n) => failure(n));
    const text = formatReconcile({
      plan: emptyPlan,
      result: { ...dryRun, dryRun: false, ok: false, failures, failed: failures[0] },
    });
    expect(text.split('\n').filter((l) => l.startsWith('FAILED'))).toEqual(lines);
  });
});

describe('repositories left to their owners', () => {
  it('a pattern that matches nothing now: said, as a question', () => {
    const text = formatReconcile({
      plan: { ...emptyPlan, unmatchedExclusions: ['docker-hub/libary/redis'] },
      result: dryRun,
    });
    expect(text.split('\n')).toContain(
      '? reconcile.excludeRepositories: docker-hub/libary/redis matches no cache repository now (a typo?)',
    );
  });

  it.each([
    [[], []],
    [
      ['docker-hub/team-d/alpha'],
      ['= 1 repository left as it is (reconcile.excludeRepositories): docker-hub/team-d/alpha'],
    ],
    [
      ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'],
      ['= 7 repositories left as they are (reconcile.excludeRepositories): r1, r2, r3, r4, r5, … (2 more)'],
    ],
  ])('excluded %j: %j', (excluded, lines) => {
    const text = formatReconcile({ plan: { ...emptyPlan, excluded }, result: dryRun });
    expect(text.split('\n').filter((l) => l.startsWith('='))).toEqual(lines);
  });

  const denied = (target: string, error: string) => ({
    target,
    kind: 'put-lifecycle-policy' as const,
    errorName: 'AccessDeniedException',
    error,
  });
  const hint = "A repository's own policy refuses the keeper";
  it.each([
    [
      'an explicit Deny in the repository policy',
      denied('repository docker-hub/r', '… with an explicit deny in a resource-based policy'),
      true,
    ],
    [
      "the identity's own policy",
      denied(
        'repository docker-hub/r',
        '… because no identity-based policy allows the ecr:PutLifecyclePolicy action',
      ),
      false,
    ],
    [
      'a template, not a repository',
      denied('template docker-hub', '… with an explicit deny in a resource-based policy'),
      false,
    ],
  ])('a failure by %s: the way out named: %s', (_, failure, shown) => {
    const text = formatReconcile({
      plan: emptyPlan,
      result: { ...dryRun, dryRun: false, ok: false, failures: [failure], failed: failure },
    });
    expect(text.includes(hint)).toBe(shown);
  });
});
