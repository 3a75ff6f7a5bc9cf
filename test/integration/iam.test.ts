/**
 * The sandbox enforces IAM with each function's role from the stack (deploy/stack.cjs), evaluated
 * against the Service Authorization Reference. Each role suffices for what its function does (the
 * nightly cycle runs every function as its role: test/integration/cycle.test.ts) and is denied
 * outside its scope; and the enforcement is real: the old `repository/*` scoping is denied.
 */

import { readFileSync } from 'node:fs';
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreatePullThroughCacheRuleCommand } from '@aws-sdk/client-ecr';
import { GetSecretValueCommand, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCacheMetricsHandler } from '../../handlers/cacheMetrics.js';
import { createCheckCredentialHandler } from '../../handlers/checkCredential.js';
import { createReconcileHandler } from '../../handlers/reconcile.js';
import { createAwsClients } from '../../lib/aws/clients.js';
import { loadConfig, parseConfig } from '../../lib/config/load.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import { runPrewarm } from '../../lib/prewarm/run.js';
import { createRuntime } from '../../lib/runtime/deps.js';
import { createLogger, memorySink } from '../../lib/runtime/logger.js';
import type { PolicyDocument } from '../../sandbox/iam/policy.js';
import { functionPolicy } from '../../sandbox/iam/roles.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { context, lambdaContext } from '../support/lambda.js';
import { sandboxDeps } from './support/sandbox-deps.js';

let sandbox: Sandbox;
const config = loadConfig('keeper.config.yaml');
const where = { partition: 'aws', region: 'us-east-1', account: '123456789012' };

beforeEach(async () => {
  sandbox = await startSandbox();
});
afterEach(async () => {
  await sandbox.stop();
});

/** AWS clients signing as a role with exactly this policy. */
function clientsWithPolicy(name: string, policy: PolicyDocument) {
  const role = sandbox.iam.addRole(name, [policy]);
  return createAwsClients({
    ...sandbox.clientOptions,
    credentials: { accessKeyId: role.accessKeyId, secretAccessKey: role.secretAccessKey },
  });
}

describe('each role is denied outside its scope', () => {
  it('pre-warm cannot create a pull-through cache rule', async () => {
    const prewarm = sandboxDeps(sandbox, config, { role: 'prewarm' });
    await expect(
      prewarm.aws.ecr.send(
        new CreatePullThroughCacheRuleCommand({
          ecrRepositoryPrefix: 'sneaky',
          upstreamRegistryUrl: 'public.ecr.aws',
        }),
      ),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringMatching(
        /^User: arn:aws:sts::123456789012:assumed-role\/ecr-cache-keeper-local-prewarm-us-east-1\/.+ is not authorized to perform: ecr:CreatePullThroughCacheRule on resource: \* because no identity-based policy allows the ecr:CreatePullThroughCacheRule action$/,
      ),
    });
  });

  it('rotation cannot read a secret other than the credential and admin secrets', async () => {
    sandbox.secrets.create('team-x/database', '{"password":"p"}');
    const rotate = sandboxDeps(sandbox, config, { role: 'rotateCredential' });
    await expect(
      rotate.aws.secrets.send(new GetSecretValueCommand({ SecretId: 'team-x/database' })),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    // Its own secret it may read.
    await expect(
      rotate.aws.secrets.send(new GetSecretValueCommand({ SecretId: 'ecr-pullthroughcache/docker-hub' })),
    ).resolves.toBeDefined();
  });

  it('pre-warm tags only the secret that holds its lease, not another rule’s credential, and still warms', async () => {
    const twoSecrets = parseConfig(
      `${readFileSync('keeper.config.yaml', 'utf8').replace('rules:\n', 'rules:\n  - { prefix: ghcr, upstream: ghcr, credentialSecret: ecr-pullthroughcache/ghcr }\n')}`,
    );
    sandbox.secrets.create('ecr-pullthroughcache/ghcr', '{"username":"u","accessToken":"t"}');
    const prewarm = sandboxDeps(sandbox, twoSecrets, { role: 'prewarm' });
    const tag = (SecretId: string) =>
      prewarm.aws.secrets.send(new TagResourceCommand({ SecretId, Tags: [{ Key: 'x', Value: 'y' }] }));
    await expect(tag('ecr-pullthroughcache/ghcr')).rejects.toMatchObject({ name: 'AccessDeniedException' });
    // It may read that credential (to log in upstream), not write it.
    await expect(
      prewarm.aws.secrets.send(new GetSecretValueCommand({ SecretId: 'ecr-pullthroughcache/ghcr' })),
    ).resolves.toBeDefined();
    await reconcile(sandboxDeps(sandbox, twoSecrets).aws, twoSecrets);
    const night = await runPrewarm(twoSecrets.prewarm.images.slice(0, 3), {
      ...prewarm.as('prewarm'),
      deadline: Date.now() + 60_000,
    });
    expect(night.counts).toMatchObject({ warmed: 3, failed: 0 });
  });

  it('metrics cannot publish outside the keeper namespace', async () => {
    const metrics = sandboxDeps(sandbox, config, { role: 'cacheMetrics' });
    const put = (Namespace: string) =>
      metrics.aws.cloudwatch.send(
        new PutMetricDataCommand({ Namespace, MetricData: [{ MetricName: 'x', Value: 1 }] }),
      );
    // CloudWatch is awsQuery-compatible: the SDK names the error by its query code, AccessDenied.
    await expect(put('SomeoneElse')).rejects.toMatchObject({
      name: expect.stringMatching(/^AccessDenied/),
      message: expect.stringContaining('cloudwatch:PutMetricData on resource: *'),
    });
    await expect(put('EcrCacheKeeper')).resolves.toBeDefined();
  });

  it('reconcile on a new account creates ECR’s service-linked roles, which needs iam:CreateServiceLinkedRole', async () => {
    const policy = functionPolicy(config, 'reconcile', where);
    const withoutSlr = {
      Statement: policy.Statement.filter((s) => s.Sid !== 'EcrServiceLinkedRoles'),
    };
    const report = await reconcile(clientsWithPolicy('reconcile-no-slr', withoutSlr), config);
    expect(report.result.failed).toMatchObject({
      errorName: 'AccessDeniedException',
      error: expect.stringContaining('iam:CreateServiceLinkedRole'),
    });
    const fixed = await reconcile(sandboxDeps(sandbox, config, { role: 'reconcile' }).aws, config);
    expect(fixed.result.ok).toBe(true);
    expect([...sandbox.ecr.serviceLinkedRoles].sort()).toEqual([
      'ecr.amazonaws.com',
      'pullthroughcache.ecr.amazonaws.com',
    ]);
  });

  it('creating a creation template needs ecr:CreateRepository on its repositories', async () => {
    const policy = functionPolicy(config, 'reconcile', where);
    const withoutCreate = {
      Statement: policy.Statement.map((s) =>
        s.Sid === 'CacheRepositories'
          ? { ...s, Action: (s.Action as string[]).filter((a) => a !== 'ecr:CreateRepository') }
          : s,
      ),
    };
    const report = await reconcile(clientsWithPolicy('reconcile-no-create', withoutCreate), config);
    expect(report.result.failed).toMatchObject({
      target: 'template docker-hub',
      error: expect.stringContaining(
        'ecr:CreateRepository on resource: arn:aws:ecr:us-east-1:123456789012:repository/docker-hub/*',
      ),
    });
  });
});

describe('the enforcement is real', () => {
  /** The statement the stack had before: registry-level actions scoped to repository/*. */
  const oldScoping = (fn: string): PolicyDocument => {
    const policy = functionPolicy(config, fn, where);
    return {
      Statement: policy.Statement.map((s) =>
        s.Resource === '*' && ['RegistryLevel', 'ValidateRules'].includes(s.Sid ?? '')
          ? { ...s, Resource: 'arn:aws:ecr:us-east-1:123456789012:repository/*' }
          : s,
      ),
    };
  };
  const handlerDeps = (clients: ReturnType<typeof createAwsClients>) => ({
    ...createRuntime(config, { logger: createLogger({ sink: memorySink() }), endpoints: sandbox.endpoints }),
    ...clients,
  });

  it('with the old repository/* statement, reconcile is denied at its first call, even a dry run', async () => {
    const handler = createReconcileHandler(
      handlerDeps(clientsWithPolicy('old-reconcile', oldScoping('reconcile'))),
    );
    await expect(handler({ dryRun: true }, context)).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('ecr:DescribePullThroughCacheRules on resource: *'),
    });
  });

  it('with the old statement, the daily check calls a good token invalid; with the fixed one, valid', async () => {
    await reconcile(createAwsClients(sandbox.clientOptions), config);
    const old = await createCheckCredentialHandler(
      handlerDeps(clientsWithPolicy('old-check', oldScoping('checkCredential'))),
    )({}, context);
    expect(old[0]).toMatchObject({
      valid: false,
      ecrValidation: [{ isValid: false, failure: 'AccessDeniedException' }],
    });
    const fixed = await createCheckCredentialHandler(
      sandboxDeps(sandbox, config, { role: 'checkCredential' }).deps,
    )({}, context);
    expect(fixed[0]).toMatchObject({ valid: true, ecrValidation: [{ isValid: true }] });
  });
});

describe('under a permissions boundary (the stack’s permissionsBoundary parameter)', () => {
  /** What docs/operations.md says a boundary must allow for the shipped config. */
  const DOCUMENTED = [
    'ecr:*',
    'secretsmanager:DescribeSecret',
    'secretsmanager:GetSecretValue',
    'secretsmanager:PutSecretValue',
    'secretsmanager:TagResource',
    'secretsmanager:UntagResource',
    'secretsmanager:UpdateSecretVersionStage',
    'cloudwatch:PutMetricData',
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    'sns:Publish',
    'iam:CreateServiceLinkedRole',
    'lambda:InvokeFunction',
    'states:StartExecution',
  ];
  const boundary = (actions: string[]): PolicyDocument => ({
    Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }],
  });
  const night = async (kit: ReturnType<typeof sandboxDeps>) => {
    await createReconcileHandler(kit.as('reconcile'))({}, context);
    const check = await createCheckCredentialHandler(kit.as('checkCredential'))({}, context);
    const warmed = await runPrewarm(config.prewarm.images, {
      ...kit.as('prewarm'),
      deadline: Date.now() + 60_000,
    });
    await createCacheMetricsHandler(kit.as('cacheMetrics'))(
      {},
      lambdaContext('cacheMetrics', { remainingMs: 300_000 }),
    );
    return { check, warmed };
  };

  it('the actions operations.md lists suffice: reconcile, the check, the pre-warm and the metrics run, nothing denied', async () => {
    const doc = readFileSync('docs/operations.md', 'utf8').replace(/\s+/g, ' ');
    for (const action of DOCUMENTED.filter((a) => a !== 'ecr:*' && !a.startsWith('secretsmanager:')))
      expect(doc, action).toContain(`\`${action}\``);
    await sandbox.stop();
    sandbox = await startSandbox({ permissionsBoundary: boundary(DOCUMENTED) });
    const { check, warmed } = await night(sandboxDeps(sandbox, config));
    expect(check).toEqual([expect.objectContaining({ state: 'valid' })]);
    expect(warmed.counts.failed).toBe(0);
    expect(sandbox.iam.denials).toEqual([]);
  });

  it('a boundary without cloudwatch:PutMetricData: the metrics fail in AWS’s words, naming the boundary', async () => {
    await sandbox.stop();
    sandbox = await startSandbox({
      permissionsBoundary: boundary(DOCUMENTED.filter((a) => a !== 'cloudwatch:PutMetricData')),
    });
    await expect(night(sandboxDeps(sandbox, config))).rejects.toThrow(
      /is not authorized to perform: cloudwatch:PutMetricData on resource: \* because no permissions boundary allows the cloudwatch:PutMetricData action/,
    );
  });
});
