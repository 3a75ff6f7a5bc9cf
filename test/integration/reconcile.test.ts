/** Reconcile against the sandbox: from empty, idempotence, in-place updates, re-creation, drift, dry runs, failures. */
import { readFileSync } from 'node:fs';
import {
  CreateRepositoryCreationTemplateCommand,
  DeleteLifecyclePolicyCommand,
  DeletePullThroughCacheRuleCommand,
  DescribePullThroughCacheRulesCommand,
  DescribeRepositoryCreationTemplatesCommand,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  UpdateRepositoryCreationTemplateCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createReconcileHandler } from '../../handlers/reconcile.js';
import { type AwsClients, createAwsClients } from '../../lib/aws/clients.js';
import { loadConfig, parseConfig } from '../../lib/config/load.js';
import { formatReconcile } from '../../lib/ecr/format.js';
import { applySavedPlan, reconcile, savePlan } from '../../lib/ecr/reconcile.js';
import { RegistryClient } from '../../lib/registry/client.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { guardrailPolicy } from '../support/guardrail.js';
import { context } from '../support/lambda.js';
import { type SandboxDeps, sandboxDeps } from './support/sandbox-deps.js';

let sandbox: Sandbox;
let aws: AwsClients;
let kit: SandboxDeps;
const seedConfig = () => loadConfig('keeper.config.yaml');
const writes = () => sandbox.ecr.writeCalls.length;

beforeAll(async () => {
  sandbox = await startSandbox();
  kit = sandboxDeps(sandbox);
  aws = kit.aws;
});
afterAll(async () => {
  await sandbox.stop();
});
beforeEach(() => sandbox.faults.clear());

async function pullThroughCache(repository: string, tag: string) {
  const auth = (await aws.ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!;
  await new RegistryClient({
    baseUrl: auth.proxyEndpoint!,
    credentials: { basic: auth.authorizationToken! },
  }).getManifest(repository, tag);
}

describe('reconcile on the sandbox', () => {
  it('a dry run from empty plans the seed setup and writes nothing', async () => {
    const before = writes();
    const report = await reconcile(aws, seedConfig(), { dryRun: true });
    expect(report.plan.changes.map((c) => [c.kind, c.target])).toEqual([
      ['create-rule', 'rule docker-hub'],
      ['create-template', 'template docker-hub'],
    ]);
    expect(writes()).toBe(before);
    expect(formatReconcile(report)).toContain('Dry run: 2 change(s) planned, nothing written.');
  });

  it('apply from empty creates the rule and the keep-last-6 template, and validates the rule', async () => {
    const report = await reconcile(aws, seedConfig());
    expect(report.result).toMatchObject({ ok: true, validations: [{ prefix: 'docker-hub', isValid: true }] });
    const rules = await aws.ecr.send(new DescribePullThroughCacheRulesCommand({}));
    expect(rules.pullThroughCacheRules).toEqual([
      expect.objectContaining({
        ecrRepositoryPrefix: 'docker-hub',
        upstreamRegistryUrl: 'registry-1.docker.io',
        credentialArn: sandbox.seeded!.secretArn,
      }),
    ]);
    expect(rules.pullThroughCacheRules?.[0]?.upstreamRepositoryPrefix ?? 'ROOT').toBe('ROOT');
    const template = (await aws.ecr.send(new DescribeRepositoryCreationTemplatesCommand({})))
      .repositoryCreationTemplates![0]!;
    expect(JSON.parse(template.lifecyclePolicy!).rules[1]).toMatchObject({
      selection: { tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 6 },
    });
    expect(template.appliedFor).toEqual(['PULL_THROUGH_CACHE']);
  });

  it('a second apply makes no write call', async () => {
    await pullThroughCache('docker-hub/library/node', '22-alpine');
    const before = writes();
    const report = await reconcile(aws, seedConfig());
    expect(report.plan.changes).toEqual([]);
    expect(report.result.ok).toBe(true);
    expect(writes()).toBe(before);
    expect(formatReconcile(report)).toMatch(/^No changes: 1 rule\(s\), 1 template\(s\), 1 repositories/);
  });

  it('detects and repairs drift made behind its back', async () => {
    const policy = JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          description: 'changed by hand in the console',
          selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 99 },
          action: { type: 'expire' },
        },
      ],
    });
    await aws.ecr.send(
      new UpdateRepositoryCreationTemplateCommand({ prefix: 'docker-hub', lifecyclePolicy: policy }),
    );
    await aws.ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName: 'docker-hub/library/node' }));
    await aws.ecr.send(new DeletePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'docker-hub' }));

    const plan = await reconcile(aws, seedConfig(), { dryRun: true });
    expect(plan.plan.changes.map((c) => [c.kind, c.target])).toEqual([
      ['create-rule', 'rule docker-hub'],
      ['update-template', 'template docker-hub'],
      ['put-lifecycle-policy', 'repository docker-hub/library/node'],
    ]);
    expect(plan.plan.changes[1]!.diffs.map((d) => d.field)).toEqual(['lifecyclePolicy']);

    const applied = await reconcile(aws, seedConfig());
    expect(applied.result.ok).toBe(true);
    expect((await reconcile(aws, seedConfig(), { dryRun: true })).plan.changes).toEqual([]);
    const repoPolicy = await aws.ecr.send(
      new GetLifecyclePolicyCommand({ repositoryName: 'docker-hub/library/node' }),
    );
    expect(JSON.parse(repoPolicy.lifecyclePolicyText!).rules[1].selection).toMatchObject({
      tagStatus: 'tagged',
      countNumber: 6,
    });
  });

  it('a new credential secret updates the rule in place', async () => {
    const other = sandbox.secrets.create(
      'ecr-pullthroughcache/docker-hub-2',
      JSON.stringify({ username: sandbox.seeded!.username, accessToken: sandbox.seeded!.pat.token }),
    );
    const config = parseConfig(
      readSeedWith((t) =>
        t.replace(
          'credentialSecret: ecr-pullthroughcache/docker-hub',
          'credentialSecret: ecr-pullthroughcache/docker-hub-2',
        ),
      ),
    );
    const before = sandbox.ecr.writeCalls.length;
    const report = await reconcile(aws, config);
    expect(report.plan.changes).toEqual([
      expect.objectContaining({
        kind: 'update-rule',
        diffs: [{ field: 'credentialArn', actual: sandbox.seeded!.secretArn, desired: other.arn }],
      }),
    ]);
    expect(sandbox.ecr.writeCalls.slice(before)).toEqual(['UpdatePullThroughCacheRule']);
    expect(report.result.validations).toEqual([{ prefix: 'docker-hub', isValid: true }]);
    await reconcile(aws, seedConfig());
  });

  it('a changed upstream prefix re-creates the rule, and says why (on an ECR that takes it for Docker Hub)', async () => {
    const own = await startSandbox({ upstreamPrefixScope: 'any' });
    try {
      const ownAws = sandboxDeps(own).aws;
      await reconcile(ownAws, seedConfig());
      const config = parseConfig(
        readSeedWith((t) =>
          t.replace('    upstream: docker-hub\n', '    upstream: docker-hub\n    upstreamPrefix: library\n'),
        ),
      );
      const before = own.ecr.writeCalls.length;
      const report = await reconcile(ownAws, config);
      expect(report.plan.changes[0]).toMatchObject({
        kind: 'recreate-rule',
        diffs: [{ field: 'upstreamRepositoryPrefix', actual: 'ROOT', desired: 'library' }],
      });
      expect(report.plan.changes[0]!.action).toMatch(/cannot update upstreamRepositoryPrefix in place/);
      expect(own.ecr.writeCalls.slice(before)).toEqual([
        'DeletePullThroughCacheRule',
        'CreatePullThroughCacheRule',
      ]);
      expect(report.result.ok).toBe(true);
      expect(own.ecr.rules.get('docker-hub')?.upstreamRepositoryPrefix).toBe('library');
    } finally {
      await own.stop();
    }
  });

  it('a changed upstream URL re-creates the rule', async () => {
    const base =
      'rules:\n  - { prefix: mirror, upstream: ecr-public }\nreconcile: { backfillLifecycle: false }\n';
    await reconcile(aws, parseConfig(base));
    const report = await reconcile(aws, parseConfig(base.replace('ecr-public', 'quay')));
    expect(report.plan.changes.filter((c) => c.target === 'rule mirror')).toEqual([
      expect.objectContaining({
        kind: 'recreate-rule',
        diffs: [{ field: 'upstreamRegistryUrl', actual: 'public.ecr.aws', desired: 'quay.io' }],
      }),
    ]);
    expect(
      (await aws.ecr.send(new DescribePullThroughCacheRulesCommand({ ecrRepositoryPrefixes: ['mirror'] })))
        .pullThroughCacheRules?.[0]?.upstreamRegistryUrl,
    ).toBe('quay.io');
  });

  it('reports undeclared rules and templates, and deletes them only with prune', async () => {
    await aws.ecr.send(
      new CreateRepositoryCreationTemplateCommand({
        prefix: 'old-cache',
        appliedFor: ['PULL_THROUGH_CACHE'],
      }),
    );
    const kept = await reconcile(aws, seedConfig());
    expect(kept.plan.unmanaged).toEqual(
      expect.arrayContaining(['rule mirror → quay.io', 'template old-cache']),
    );
    expect(kept.plan.changes).toEqual([]);
    const pruning = parseConfig(readSeedWith((t) => t.replace('  prune: false', '  prune: true')));
    const pruned = await reconcile(aws, pruning);
    expect(pruned.plan.changes.map((c) => [c.kind, c.target])).toEqual([
      ['delete-rule', 'rule mirror'],
      ['delete-template', 'template old-cache'],
    ]);
    expect((await reconcile(aws, pruning, { dryRun: true })).plan.unmanaged).toEqual([]);
  });

  it('registers the pre-warm roles as pull-time update exclusions, once each', async () => {
    const roles = ['prewarm', 'prewarmPlan', 'warmImage'].map(
      (fn) => `arn:aws:iam::123456789012:role/ecr-cache-keeper-${fn}`,
    );
    const first = await reconcile(aws, seedConfig(), { exclusionPrincipalArns: roles });
    expect(first.plan.changes.map((c) => c.kind)).toEqual([
      'register-exclusion',
      'register-exclusion',
      'register-exclusion',
    ]);
    for (const role of roles) expect([...sandbox.ecr.exclusions]).toContain(role);
    expect((await reconcile(aws, seedConfig(), { exclusionPrincipalArns: roles })).plan.changes).toEqual([]);
  });
});

describe('credential secret checks leave the rule unchanged', () => {
  const configFor = (secret: string) =>
    parseConfig(
      readSeedWith((t) =>
        t
          .replaceAll('prefix: docker-hub', 'prefix: checked')
          .replace('credentialSecret: ecr-pullthroughcache/docker-hub', `credentialSecret: ${secret}`),
      ),
    );

  it.each([
    ['a missing secret', 'ecr-pullthroughcache/absent', undefined, /does not exist/],
    ['a value that is not JSON', 'ecr-pullthroughcache/not-json', 'dckr_pat_plain-text-token', /not JSON/],
    [
      'a value without accessToken',
      'ecr-pullthroughcache/no-token',
      '{"username":"keeper-ci"}',
      /lacks string "accessToken"/,
    ],
    [
      'a customer-managed KMS key',
      'ecr-pullthroughcache/cmk',
      '{"username":"u","accessToken":"t"}',
      /customer-managed KMS key/,
    ],
  ])('%s', async (_name, secretName, value, message) => {
    if (value !== undefined) {
      sandbox.secrets.create(
        secretName,
        value,
        secretName.endsWith('cmk') ? { kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1' } : {},
      );
    }
    const before = writes();
    const report = await reconcile(aws, configFor(secretName));
    expect(report.plan.problems).toEqual([
      { target: 'rule checked', message: expect.stringMatching(message) },
    ]);
    expect(report.plan.changes.some((c) => c.target === 'rule checked')).toBe(false);
    expect(report.result.ok).toBe(false);
    expect(JSON.stringify(report)).not.toContain('dckr_pat_plain-text-token');
    // The template for the same prefix is independent of the secret and still applied.
    expect(sandbox.ecr.writeCalls.slice(before)).toEqual(['CreateRepositoryCreationTemplate']);
    await aws.ecr.send(
      new (await import('@aws-sdk/client-ecr')).DeleteRepositoryCreationTemplateCommand({
        prefix: 'checked',
      }),
    );
  });
});

describe('partial failure', () => {
  it('stops at the failing change, reports what was and was not applied, and the next run finishes', async () => {
    const config = parseConfig(`
rules:
  - { prefix: team-a, upstream: ecr-public, template: { lifecycle: { keepLast: 3 } } }
  - { prefix: team-b, upstream: quay, template: { lifecycle: { keepLast: 4 } } }
`);
    sandbox.faults.add({
      match: 'ecr:CreateRepositoryCreationTemplate',
      awsError: 'ServerException',
      times: 5,
    });
    const first = await reconcile(createAwsClients({ ...sandbox.clientOptions, maxAttempts: 1 }), config);
    expect(first.result.applied.map((a) => a.target)).toEqual(['rule team-a', 'rule team-b']);
    expect(first.result.failed).toMatchObject({ target: 'template team-a', errorName: 'ServerException' });
    expect(first.result.notAttempted.map((a) => a.target)).toEqual(['template team-b']);
    expect(formatReconcile(first)).toContain('FAILED at template team-a');
    sandbox.faults.clear();
    const second = await reconcile(aws, config);
    expect(second.plan.changes.map((c) => c.target)).toEqual(['template team-a', 'template team-b']);
    expect(second.result.ok).toBe(true);
  });
});

describe('a re-creation ECR refuses', () => {
  it('puts the previous rule back: the cache keeps pulling through, and the report says why', async () => {
    const seeded = seedConfig();
    await reconcile(aws, seeded);
    const before = sandbox.ecr.rules.get('docker-hub')!;
    // An upstream prefix on a Docker Hub rule: the sandbox, like AWS's guide, takes it for ECR upstreams only.
    const config = parseConfig(
      readSeedWith((t) =>
        t.replace('    upstream: docker-hub\n', '    upstream: docker-hub\n    upstreamPrefix: library\n'),
      ),
    );
    const report = await reconcile(createAwsClients({ ...sandbox.clientOptions, maxAttempts: 1 }), config);
    expect(report.result.ok).toBe(false);
    expect(report.result.failed).toMatchObject({
      target: 'rule docker-hub',
      errorName: 'InvalidParameterException',
    });
    expect(report.result.failed!.error).toMatch(/the previous rule was put back/);
    expect(sandbox.ecr.rules.get('docker-hub')).toMatchObject({
      upstreamRegistryUrl: before.upstreamRegistryUrl,
      upstreamRepositoryPrefix: 'ROOT',
      credentialArn: before.credentialArn,
    });
    expect((await reconcile(aws, seeded, { dryRun: true })).plan.changes).toEqual([]);
  });

  it('puts the previous template back when the new one is refused', async () => {
    const seeded = seedConfig();
    await reconcile(aws, seeded);
    const before = sandbox.ecr.templates.get('docker-hub')!;
    // Removing the lifecycle policy needs delete + create; the create fails.
    sandbox.faults.add({
      match: 'ecr:CreateRepositoryCreationTemplate',
      awsError: 'ServerException',
      times: 1,
    });
    const config = parseConfig(readSeedWith((t) => t.replace('      lifecycle:\n        keepLast: 6\n', '')));
    const report = await reconcile(createAwsClients({ ...sandbox.clientOptions, maxAttempts: 1 }), config);
    expect(report.plan.changes.map((c) => c.kind)).toContain('recreate-template');
    expect(report.result.failed).toMatchObject({
      target: 'template docker-hub',
      errorName: 'ServerException',
    });
    expect(report.result.failed!.error).toMatch(/the previous template was put back/);
    expect(sandbox.ecr.templates.get('docker-hub')).toMatchObject({
      lifecyclePolicy: before.lifecyclePolicy,
      imageTagMutability: before.imageTagMutability,
    });
  });
});

describe('the reconcile handler', () => {
  const handler = (event: unknown) => createReconcileHandler(kit.as('reconcile'))(event, context);

  it('returns the plan for {"dryRun": true} and rejects unknown keys', async () => {
    const report = await handler({ dryRun: true });
    expect(report.result.dryRun).toBe(true);
    await expect(handler({ dryrun: true })).rejects.toThrow(/unknown key "dryrun"/);
    await expect(handler({ dryRun: 'yes' })).rejects.toThrow(/event.dryRun must be a boolean/);
  });
});

function readSeedWith(edit: (text: string) => string): string {
  return edit(readFileSync('keeper.config.yaml', 'utf8'));
}

/** A config with one Docker Hub rule under `prefix`, keeping the last 3 images. */
const oneRule = (prefix: string, more = '') =>
  parseConfig(`
rules:
  - { prefix: ${prefix}, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub, template: { lifecycle: { keepLast: 3 } } }
${more}`);

describe('a repository deleted while reconcile runs', () => {
  const config = () => oneRule('team-c');
  const names = ['team-c/one', 'team-c/two', 'team-c/three'];
  const seed = () => {
    for (const name of names)
      if (!sandbox.ecr.repositories.has(name))
        sandbox.ecr.createRepository(name, { createdByRule: 'team-c' });
  };

  it('between the listing and the read of its policy: planned without it', async () => {
    seed();
    sandbox.faults.add({
      match: 'ecr:GetLifecyclePolicy',
      times: 1,
      before: () => sandbox.ecr.repositories.delete('team-c/two'),
    });
    const plan = await reconcile(aws, config(), { dryRun: true });
    expect(plan.plan.problems).toEqual([]);
    expect(plan.plan.changes.filter((c) => c.kind === 'put-lifecycle-policy').map((c) => c.target)).toEqual([
      'repository team-c/one',
      'repository team-c/three',
    ]);
  });

  it('a read throttled past the SDK’s retries is made again after the others: the plan is whole', async () => {
    seed();
    sandbox.faults.add({ match: 'ecr:GetLifecyclePolicy', awsError: 'ThrottlingException', times: 1 });
    const plan = await reconcile(createAwsClients({ ...sandbox.clientOptions, maxAttempts: 1 }), config(), {
      dryRun: true,
    });
    expect(plan.plan.problems).toEqual([]);
    expect(
      plan.plan.changes
        .filter((c) => c.kind === 'put-lifecycle-policy')
        .map((c) => c.target)
        .sort(),
    ).toEqual(['repository team-c/one', 'repository team-c/three', 'repository team-c/two']);
  });

  it('a back-fill change throttled past the SDK’s retries is made again after the others: the apply is whole', async () => {
    seed();
    for (const name of names) sandbox.ecr.repositories.get(name)!.lifecyclePolicy = undefined;
    sandbox.faults.add({ match: 'ecr:PutLifecyclePolicy', awsError: 'ThrottlingException', times: 1 });
    const applied = await reconcile(createAwsClients({ ...sandbox.clientOptions, maxAttempts: 1 }), config());
    expect(applied.result.failures).toEqual([]);
    expect(applied.result.ok).toBe(true);
    expect(names.filter((n) => sandbox.ecr.repositories.get(n)!.lifecyclePolicy === undefined)).toEqual([]);
    // As the next test expects them: without their policy.
    for (const name of names) sandbox.ecr.repositories.get(name)!.lifecyclePolicy = undefined;
  });

  it('between the plan and its change: the rest is applied, and the report says it was gone', async () => {
    seed();
    sandbox.faults.add({
      match: 'ecr:PutLifecyclePolicy',
      times: 1,
      before: () => sandbox.ecr.repositories.delete('team-c/one'),
    });
    const applied = await reconcile(aws, config(), { concurrency: 1 });
    expect(applied.result.failed).toBeUndefined();
    expect(applied.plan.problems).toEqual([]);
    expect(applied.result.validations.filter((v) => !v.isValid).map((v) => v.failure)).toEqual([]);
    expect(applied.result.ok).toBe(true);
    expect(applied.result.gone).toEqual([{ target: 'repository team-c/one', kind: 'put-lifecycle-policy' }]);
    expect(applied.result.applied.map((a) => a.target)).toContain('repository team-c/three');
    expect(formatReconcile(applied)).toContain('Not needed, deleted since the plan: team-c/one.');
    expect((await reconcile(aws, config(), { dryRun: true })).plan.changes).toEqual([]);
  });
});

describe("a repository whose own policy refuses the keeper (a guardrail's explicit Deny)", () => {
  const config = () => oneRule('team-d');
  // The guarded repository first, in every order the plan could take them.
  const names = ['team-d/alpha', 'team-d/bravo', 'team-d/charlie', 'team-d/delta'];
  const guarded = 'team-d/alpha';
  const exclusion = 'arn:aws:iam::123456789012:role/team-d-prewarm';
  const guard = (actions: string[]) => {
    for (const name of names) {
      const repo =
        sandbox.ecr.repositories.get(name) ?? sandbox.ecr.createRepository(name, { createdByRule: 'team-d' });
      repo.lifecyclePolicy = undefined;
      repo.repositoryPolicy = undefined;
    }
    sandbox.ecr.exclusions.delete(exclusion);
    sandbox.ecr.repositories.get(guarded)!.repositoryPolicy = guardrailPolicy(actions);
  };
  const lifecycled = () =>
    names.filter((n) => sandbox.ecr.repositories.get(n)!.lifecyclePolicy !== undefined);
  const once = () => createAwsClients({ ...sandbox.clientOptions, maxAttempts: 1 });

  it('refusing writes: every other repository is back-filled and the exclusion registered; the report names the refused one and why', async () => {
    guard(['ecr:PutLifecyclePolicy', 'ecr:SetRepositoryPolicy', 'ecr:DeleteRepository']);
    try {
      // One at a time, the refused repository before the ones after it.
      const report = await reconcile(once(), config(), {
        concurrency: 1,
        exclusionPrincipalArns: [exclusion],
      });
      expect(lifecycled()).toEqual(names.filter((n) => n !== guarded));
      expect([...sandbox.ecr.exclusions]).toContain(exclusion);
      expect(report.result.ok).toBe(false);
      expect(report.result.notAttempted).toEqual([]);
      expect(report.result.failures).toEqual([
        expect.objectContaining({
          target: `repository ${guarded}`,
          kind: 'put-lifecycle-policy',
          errorName: 'AccessDeniedException',
          error: expect.stringContaining('with an explicit deny in a resource-based policy'),
        }),
      ]);
      expect(formatReconcile(report)).toContain(`FAILED at repository ${guarded}: AccessDeniedException`);
      // The next run has the one change left, and fails the same way until the guardrail lets it.
      const again = await reconcile(once(), config(), { exclusionPrincipalArns: [exclusion] });
      expect(again.plan.changes.map((c) => c.target)).toEqual([`repository ${guarded}`]);
    } finally {
      sandbox.ecr.repositories.get(guarded)!.repositoryPolicy = undefined;
    }
  });

  it('left to its owners by reconcile.excludeRepositories: not read, not changed, and the night succeeds', async () => {
    guard(['ecr:Describe*', 'ecr:Get*', 'ecr:PutLifecyclePolicy', 'ecr:SetRepositoryPolicy']);
    try {
      const excluding = oneRule('team-d', `reconcile: { excludeRepositories: ["${guarded}"] }`);
      // As the stack's reconcile role, its own policy allowing all of it: the guardrail alone refuses.
      const handler = createReconcileHandler(sandboxDeps(sandbox, excluding).as('reconcile'));
      const report = await handler({ dryRun: false }, context);
      expect(report.plan.problems).toEqual([]);
      expect(report.plan.excluded).toEqual([guarded]);
      expect(report.plan.unmatchedExclusions).toEqual([]);
      expect(report.result).toMatchObject({ ok: true, failures: [] });
      expect(lifecycled()).toEqual(names.filter((n) => n !== guarded));
      expect(sandbox.ecr.repositories.get(guarded)!.lifecyclePolicy).toBeUndefined();
      expect(formatReconcile(report)).toContain(
        `= 1 repository left as it is (reconcile.excludeRepositories): ${guarded}`,
      );
      // The next night has nothing to do.
      const again = await reconcile(once(), excluding, { dryRun: true });
      expect(again.plan.changes).toEqual([]);
    } finally {
      sandbox.ecr.repositories.get(guarded)!.repositoryPolicy = undefined;
    }
  });

  it('refusing reads: the plan is made without it, says why, and the rest is applied', async () => {
    guard(['ecr:Describe*', 'ecr:Get*', 'ecr:BatchGetImage']);
    try {
      const plan = await reconcile(once(), config(), { dryRun: true, exclusionPrincipalArns: [exclusion] });
      expect(plan.plan.problems).toEqual([
        {
          target: 'repositories under team-d/',
          message: expect.stringMatching(
            /^1 could not be read: team-d\/alpha: left as it is; AccessDeniedException: .*ecr:GetLifecyclePolicy on resource: .*repository\/team-d\/alpha with an explicit deny in a resource-based policy/,
          ),
        },
      ]);
      // A plan saved with the problem applies as saved: the account did not change.
      const saved = savePlan(plan, config(), Date.now());
      const report = await applySavedPlan({ ecr: once().ecr, secrets: aws.secrets }, config(), saved, {
        exclusionPrincipalArns: [exclusion],
      });
      expect(lifecycled()).toEqual(names.filter((n) => n !== guarded));
      expect([...sandbox.ecr.exclusions]).toContain(exclusion);
      expect(report.result.ok).toBe(false);
      expect(formatReconcile(report)).toContain('! repositories under team-d/: 1 could not be read');
    } finally {
      sandbox.ecr.repositories.get(guarded)!.repositoryPolicy = undefined;
    }
  });
});
