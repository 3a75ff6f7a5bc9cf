/**
 * Every exported handler, built from injected dependencies: AWS clients replaced with
 * aws-sdk-client-mock, `fetch` answered in-process, a captured logger, one Lambda context. No
 * network, no environment.
 */
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreatePullThroughCacheRuleCommand,
  CreateRepositoryCreationTemplateCommand,
  DescribeImagesCommand,
  DescribePullThroughCacheRulesCommand,
  DescribeRepositoriesCommand,
  DescribeRepositoryCreationTemplatesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetRegistryPolicyCommand,
  ListPullTimeUpdateExclusionsCommand,
  RegisterPullTimeUpdateExclusionCommand,
  ValidatePullThroughCacheRuleCommand,
} from '@aws-sdk/client-ecr';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createCacheMetricsHandler } from '../../../handlers/cacheMetrics.js';
import { createCheckCredentialHandler } from '../../../handlers/checkCredential.js';
import { createPrewarmHandler } from '../../../handlers/prewarm.js';
import { createPrewarmPlanHandler } from '../../../handlers/prewarmPlan.js';
import { createPrewarmReportHandler } from '../../../handlers/prewarmReport.js';
import { createPullEventsHandler } from '../../../handlers/pullEvents.js';
import { createReconcileHandler } from '../../../handlers/reconcile.js';
import { createRotateCredentialHandler } from '../../../handlers/rotateCredential.js';
import { createWarmImageHandler } from '../../../handlers/warmImage.js';
import { parseConfig } from '../../../lib/config/load.js';
import { planFromPayload } from '../../../lib/prewarm/night-payload.js';
import { createRuntime } from '../../../lib/runtime/deps.js';
import { createLogger, memorySink } from '../../../lib/runtime/logger.js';
import { lambdaContext } from '../../support/lambda.js';

const ecrMock = mockClient(ECRClient);
const smMock = mockClient(SecretsManagerClient);
const cwMock = mockClient(CloudWatchClient);
const context = lambdaContext('unit', { account: '123456789012' });
const SECRET = 'ecr-pullthroughcache/docker-hub';
const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SECRET}-AbCdEf`;
const TOKEN = 'unit-test-access-token-value';
const DIGEST = `sha256:${'c'.repeat(64)}`;

const config = parseConfig(`
rules:
  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ${SECRET}, template: { lifecycle: { keepLast: 6 } } }
prewarm: { images: ["node:22-alpine"], platforms: [linux/amd64], mode: manifest-only }
credential: { rotation: { mode: staged } }
`);

/** A registry that needs no login and knows one tag: enough for the upstream login and HEAD. */
const fakeRegistry: typeof fetch = async (input, init) => {
  const url = new URL(String(input));
  if (url.pathname === '/v2/') return new Response('{}', { status: 200 });
  if (url.pathname.includes('/manifests/') && init?.method === 'HEAD')
    return new Response(null, {
      status: 200,
      headers: {
        'docker-content-digest': DIGEST,
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
      },
    });
  return new Response('{"errors":[{"code":"NOT_FOUND"}]}', { status: 404 });
};

let sink: ReturnType<typeof memorySink>;
const deps = () => ({
  ...createRuntime(config, {
    logger: createLogger({ sink }),
    fetch: fakeRegistry,
    endpoints: {
      upstreamRegistries: { 'registry-1.docker.io': 'https://upstream.test' },
      dockerHubApi: 'https://hub.test',
    },
  }),
  ecr: new ECRClient({ region: 'us-east-1' }),
  secrets: new SecretsManagerClient({ region: 'us-east-1' }),
  cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
});
const published = () =>
  Object.fromEntries(
    cwMock
      .commandCalls(PutMetricDataCommand)
      .flatMap((c) => (c.args[0].input.MetricData ?? []).map((d) => [d.MetricName, d.Value])),
  );
const messages = () => sink.entries.map((e) => e.message);

beforeEach(() => {
  sink = memorySink();
  for (const m of [ecrMock, smMock, cwMock]) m.reset();
  ecrMock.on(DescribePullThroughCacheRulesCommand).resolves({ pullThroughCacheRules: [] });
  ecrMock.on(DescribeRepositoryCreationTemplatesCommand).resolves({ repositoryCreationTemplates: [] });
  ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [] });
  ecrMock.on(ListPullTimeUpdateExclusionsCommand).resolves({ pullTimeUpdateExclusions: [] });
  ecrMock.on(ValidatePullThroughCacheRuleCommand).resolves({ isValid: true });
  // The secret keeps the tags it is given (the pre-warm's lease is one).
  const tags = new Map([['pat-expires-at', new Date(Date.now() + 60 * 86_400_000).toISOString()]]);
  smMock.on(DescribeSecretCommand).callsFake(() => ({
    ARN: SECRET_ARN,
    Name: SECRET,
    RotationEnabled: true,
    VersionIdsToStages: { old: ['AWSCURRENT'], pending: ['AWSPENDING'] },
    Tags: [...tags].map(([Key, Value]) => ({ Key, Value })),
  }));
  smMock.on(TagResourceCommand).callsFake((input) => {
    for (const t of input.Tags ?? []) tags.set(t.Key, t.Value);
    return {};
  });
  smMock.on(UntagResourceCommand).callsFake((input) => {
    for (const k of input.TagKeys ?? []) tags.delete(k);
    return {};
  });
  smMock
    .on(GetSecretValueCommand)
    .resolves({ SecretString: JSON.stringify({ username: 'ci', accessToken: TOKEN }) });
  cwMock.on(PutMetricDataCommand).resolves({});
});

describe('reconcile', () => {
  it('a scheduled event carrying "dryRun": true plans and writes nothing', async () => {
    const handler = createReconcileHandler(deps());
    const report = await handler(
      { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {}, dryRun: true },
      context,
    );
    expect(report.result.dryRun).toBe(true);
    expect(report.plan.changes.map((c) => c.kind)).toEqual(['create-rule', 'create-template']);
    expect(ecrMock.commandCalls(CreatePullThroughCacheRuleCommand)).toHaveLength(0);
    expect(messages()).toEqual(['reconcile started', 'reconcile report', 'reconcile finished']);
  });

  it('a plain scheduled event applies, and registers the pre-warm role named by the deployment', async () => {
    ecrMock.on(CreatePullThroughCacheRuleCommand).resolves({});
    ecrMock.on(CreateRepositoryCreationTemplateCommand).resolves({});
    ecrMock.on(RegisterPullTimeUpdateExclusionCommand).resolves({});
    const handler = createReconcileHandler({ ...deps(), prewarmRole: { names: ['keeper-prod-prewarm'] } });
    const report = await handler(
      { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} },
      context,
    );
    expect(report.result.ok).toBe(true);
    expect(ecrMock.commandCalls(CreatePullThroughCacheRuleCommand)).toHaveLength(1);
    expect(ecrMock.commandCalls(RegisterPullTimeUpdateExclusionCommand)[0]!.args[0].input.principalArn).toBe(
      'arn:aws:iam::123456789012:role/keeper-prod-prewarm',
    );
  });

  it('warns of the access an earlier `access:` left in the registry policy (the config has none now)', async () => {
    ecrMock.on(GetRegistryPolicyCommand).resolves({
      policyText: JSON.stringify({
        Statement: [
          {
            Sid: 'EcrCacheKeeperFirstPullAccounts',
            Effect: 'Allow',
            Principal: { AWS: '111122223333' },
            Action: ['ecr:CreateRepository', 'ecr:BatchImportUpstreamImage'],
            Resource: 'arn:aws:ecr:us-east-1:123456789012:repository/docker-hub/*',
          },
        ],
      }),
    });
    await createReconcileHandler(deps())({ dryRun: true }, context);
    const warning = sink.entries.find((e) => e.level === 'warn');
    expect(warning).toMatchObject({
      message: 'access left in the registry policy by an earlier access:',
      statements: [
        'registry policy statement EcrCacheKeeperFirstPullAccounts (lets 111122223333 pull through the cache)',
      ],
    });
  });

  it('refuses options it cannot honour, and a __proto__ key, by name', async () => {
    const handler = createReconcileHandler(deps());
    await expect(handler(JSON.parse('{"__proto__": true}'), context)).rejects.toThrow(
      /unknown key "__proto__"/,
    );
    await expect(
      handler({ 'detail-type': 'Scheduled Event', detail: { dryRun: true } }, context),
    ).rejects.toThrow(/options in "detail" are not read/);
    await expect(handler({ 'detail-type': 'Scheduled Event', dryrun: true }, context)).rejects.toThrow(
      /unknown key "dryrun"/,
    );
    expect(messages().filter((m) => m === 'reconcile failed')).toHaveLength(3);
  });
});

describe('checkCredential', () => {
  it('logs in upstream once, asks ECR, publishes CredentialValid and the days left', async () => {
    const checks = await createCheckCredentialHandler(deps())({}, context);
    expect(checks[0]).toMatchObject({
      state: 'valid',
      upstreamLogin: 'ok',
      expiry: { source: 'secret-tags' },
    });
    expect(published()).toMatchObject({ CredentialValid: 1 });
    expect(published().CredentialDaysToExpiry).toBeCloseTo(60, 0);
    expect(JSON.stringify(sink.entries)).not.toContain(TOKEN);
  });
});

describe('rotateCredential', () => {
  it('setSecret checks the pending value and changes nothing', async () => {
    const result = await createRotateCredentialHandler(deps())(
      { Step: 'setSecret', SecretId: SECRET, ClientRequestToken: 'pending' },
      context,
    );
    expect(result.outcome).toMatch(/nothing to set/);
    expect(smMock.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toMatchObject({
      VersionId: 'pending',
      VersionStage: 'AWSPENDING',
    });
  });

  it('refuses an event that is not a rotation event', async () => {
    await expect(createRotateCredentialHandler(deps())({ Step: 'x' }, context)).rejects.toThrow(
      /Step must be one of.*SecretId is required/,
    );
  });
});

describe('prewarm', () => {
  it('an image the cache holds at the upstream digest is skipped, and the outcome is published', async () => {
    ecrMock.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        {
          authorizationToken: Buffer.from('AWS:cache-password').toString('base64'),
          proxyEndpoint: 'https://cache.test',
        },
      ],
    });
    ecrMock
      .on(DescribeImagesCommand)
      .resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: ['22-alpine'] }] });
    const report = await createPrewarmHandler(deps())({}, context);
    expect(report.images.map((i) => [i.image, i.status, i.reason])).toEqual([
      ['node:22-alpine', 'skipped', 'unchanged'],
    ]);
    expect(published()).toMatchObject({
      PrewarmImagesSkipped: 1,
      PrewarmImagesFailed: 0,
      UpstreamPullsSpent: 0,
    });
    expect(sink.entries.find((e) => e.message === 'image')).toMatchObject({ status: 'skipped' });
  });
});

describe('the nightly state machine’s steps', () => {
  const cacheLogin = () =>
    ecrMock.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        {
          authorizationToken: Buffer.from('AWS:cache-password').toString('base64'),
          proxyEndpoint: 'https://cache.test',
        },
      ],
    });
  const leaseTag = async () =>
    (
      await new SecretsManagerClient({ region: 'us-east-1' }).send(
        new DescribeSecretCommand({ SecretId: SECRET }),
      )
    ).Tags?.find((t) => t.Key === 'prewarm-lease')?.Value;
  const planEvent = {
    execution: 'night-1',
    startedAt: new Date().toISOString(),
    input: {},
    timeoutSeconds: 3600,
  };

  it('prewarmPlan takes the lease for the execution and settles an unchanged image without a warmImage', async () => {
    cacheLogin();
    ecrMock
      .on(DescribeImagesCommand)
      .resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: ['22-alpine'] }] });
    const plan = await createPrewarmPlanHandler(deps())(planEvent, context);
    expect(plan).toMatchObject({
      runId: 'night-1',
      items: [],
      leaseHeld: true,
      order: ['docker-hub/library/node:22-alpine'],
    });
    expect(planFromPayload(plan).settled.map((s) => [s.result.image, s.result.status])).toEqual([
      ['node:22-alpine', 'skipped'],
    ]);
    expect(await leaseTag()).toMatch(/^night-1 /);
    await expect(
      createPrewarmPlanHandler(deps())({ ...planEvent, input: { image: 'x' } }, context),
    ).rejects.toThrow(/prewarmPlan: unknown key "image"/);
  });

  it('warmImage warms its one image, logs its line, and refuses an image the config resolves elsewhere', async () => {
    cacheLogin();
    ecrMock
      .on(DescribeImagesCommand)
      .resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: ['22-alpine'] }] });
    const item = {
      runId: 'night-1',
      reference: 'docker-hub/library/node:22-alpine',
      image: 'node:22-alpine',
      platforms: ['linux/amd64'],
      planned: 'fill-layers' as const,
      layersVerifiedUntil: null,
    };
    const outcome = await createWarmImageHandler(deps())(JSON.parse(JSON.stringify(item)), context);
    expect(outcome.result).toMatchObject({ status: 'skipped', upstreamDigest: DIGEST });
    expect(outcome.result).not.toHaveProperty('image'); // the report has it from the plan
    // One line for the image, as a single run logs it (with the registry host), not a second.
    expect(sink.entries.filter((e) => e.message === 'image')).toEqual([
      expect.objectContaining({
        image: 'node:22-alpine',
        status: 'skipped',
        cacheReference: 'cache.test/docker-hub/library/node:22-alpine',
      }),
    ]);
    expect(await leaseTag()).toBeUndefined(); // the execution's plan holds it, not each image
    await expect(createWarmImageHandler(deps())({ ...item, image: 'node:20' }, context)).rejects.toThrow(
      /warmImage: event.image "node:20" is docker-hub\/library\/node:20 in this config, not docker-hub\/library\/node:22-alpine/,
    );
    await expect(
      createWarmImageHandler(deps())({ ...item, image: 'quay.io/x/y:1' }, context),
    ).rejects.toThrow(/no rule caches registry "quay.io"/);
  });

  /** The plan step's payload for a fanned-out night whose one image (nothing cached) needs a pull. */
  const planToPull = async (execution: string) => {
    cacheLogin();
    ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [] });
    const fanOut = { ...config.prewarm, fanOut: { ...config.prewarm.fanOut, minImages: 0 } };
    return createPrewarmPlanHandler({ ...deps(), config: { ...config, prewarm: fanOut } })(
      { ...planEvent, execution },
      context,
    );
  };

  it('prewarmReport names a crashed image, publishes the night, and releases the lease', async () => {
    // A plan with one image to pull (nothing cached), then the iteration that crashed.
    const plan = await planToPull('night-2');
    expect(plan.items.map((i) => i.reference)).toEqual(['docker-hub/library/node:22-alpine']);
    const crashed = {
      ...plan.items[0]!,
      runId: plan.runId,
      layersVerifiedUntil: plan.layersVerifiedUntil,
      error: { Error: 'States.Timeout', Cause: '' },
    };
    const report = await createPrewarmReportHandler(deps())(
      JSON.parse(JSON.stringify({ ...plan, outcomes: [crashed] })),
      context,
    );
    expect(report.images).toEqual([
      expect.objectContaining({
        image: 'node:22-alpine',
        status: 'failed',
        reason: expect.stringMatching(/States\.Timeout/),
      }),
    ]);
    expect(published()).toMatchObject({ PrewarmImagesFailed: 1, UpstreamPullsSpent: 0 });
    expect(await leaseTag()).toBeUndefined();
  });

  it('prewarmReport logs the line of an image the payload could not carry, which no other step logged', async () => {
    const plan = await planToPull('night-3');
    // As if the payload had room for none of it.
    const { items, ...rest } = plan;
    const overflowed = {
      ...rest,
      items: [],
      overflow: items.map(({ reference, image, platforms }) => ({ reference, image, platforms })),
    };
    const logged = sink.entries.length;
    const report = await createPrewarmReportHandler(deps())(
      JSON.parse(JSON.stringify({ ...overflowed, outcomes: [] })),
      context,
    );
    expect(report.counts).toMatchObject({ deferred: 1 });
    expect(sink.entries.slice(logged).filter((e) => e.message === 'image')).toEqual([
      expect.objectContaining({
        image: 'node:22-alpine',
        status: 'deferred',
        reason: expect.stringMatching(/256 KiB/),
      }),
    ]);
  });
});

describe('cacheMetrics', () => {
  it('walks the cache and publishes its totals', async () => {
    const result = await createCacheMetricsHandler(deps())({}, context);
    expect(result.report.total.repositories).toBe(0);
    expect(published()).toMatchObject({ CacheImages: 0, CacheRepositories: 0 });
  });
});

describe('pullEvents', () => {
  const event = (detail: Record<string, string>) => ({
    source: 'aws.ecr',
    'detail-type': 'ECR Pull Through Cache Action',
    detail: { 'sync-status': 'FAILED', 'repository-name': 'docker-hub/library/redis', ...detail },
  });

  it('counts a failed upstream pull under its prefix and code', async () => {
    await createPullEventsHandler(deps())(
      event({ 'ecr-repository-prefix': 'docker-hub', 'failure-code': 'UpstreamUnavailable' }),
      context,
    );
    expect(published()).toMatchObject({ UpstreamPullFailures: 1 });
    expect(messages()).toContain('upstream pull failed: docker-hub/library/redis:? (UpstreamUnavailable)');
  });

  it.each([
    ['an empty prefix', ''],
    ['a prefix over CloudWatch’s 1,024-character dimension limit', 'p'.repeat(1025)],
  ])('refuses %s instead of publishing it', async (_name, prefix) => {
    await expect(
      createPullEventsHandler(deps())(event({ 'ecr-repository-prefix': prefix }), context),
    ).rejects.toThrow(/ecr-repository-prefix must be 1 to 1024 characters/);
    expect(cwMock.commandCalls(PutMetricDataCommand)).toHaveLength(0);
  });
});
