/** The Docker Hub token on the sandbox: daily check, managed rotation through RotateSecret, crashes and failures. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RestoreSecretCommand,
  RotateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../cli/main.js';
import { createCheckCredentialHandler } from '../../handlers/checkCredential.js';
import { createRotateCredentialHandler } from '../../handlers/rotateCredential.js';
import type { AwsClients } from '../../lib/aws/clients.js';
import { loadConfig } from '../../lib/config/load.js';
import type { CredentialCheck } from '../../lib/credential/check.js';
import { patLabel } from '../../lib/credential/ledger.js';
import { HubApi } from '../../lib/dockerhub/hub-api.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import { runPrewarm } from '../../lib/prewarm/run.js';
import { type AlarmState, alarmStateAfter } from '../../sandbox/aws/cloudwatch.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import type { SeedOptions } from '../../sandbox/seed.js';
import { captureIo } from '../support/cli-io.js';
import { guardrailPolicy, PLATFORM_ADMIN } from '../support/guardrail.js';
import { context } from '../support/lambda.js';
import { deployedAlarms } from './support/deployed-alarms.js';
import { type SandboxDeps, sandboxDeps } from './support/sandbox-deps.js';

const ROTATION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:ecr-cache-keeper-dev-rotateCredential';
const SECRET = 'ecr-pullthroughcache/docker-hub';

let sandbox: Sandbox;
let aws: AwsClients;
let kit: SandboxDeps;
let output: string[];

async function boot(seed: SeedOptions = {}) {
  sandbox = await startSandbox({ seed });
  kit = sandboxDeps(sandbox);
  aws = kit.aws;
  await reconcile(aws, loadConfig('keeper.config.yaml'));
  sandbox.secrets.rotationFunctions.set(ROTATION_ARN, (event) => rotateHandler(event, context));
}
const checkHandler = (event: unknown, ctx = context) =>
  createCheckCredentialHandler(kit.as('checkCredential'))(event, ctx);
const rotateHandler = (event: unknown, ctx = context) =>
  createRotateCredentialHandler(kit.as('rotateCredential'))(event, ctx);

beforeEach(() => {
  output = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((line) => output.push(String(line)) > 0);
});
afterEach(async () => {
  vi.restoreAllMocks();
  // No log line, report or metric may carry a token or a password.
  const everything = output.join('') + JSON.stringify(kit.logs) + JSON.stringify(sandbox.cloudwatch.datums);
  for (const user of sandbox.hubAccounts.users.values()) {
    if (user.password) expect(everything).not.toContain(user.password); // organizations have none
    for (const pat of user.pats) expect(everything).not.toContain(pat.token);
  }
  expect(everything).not.toMatch(/dckr_(?:pat|oat)_[A-Za-z0-9_-]{10,}/);
  await sandbox.stop();
});

const check = async () => ((await checkHandler({}, context)) as CredentialCheck[])[0]!;

const user = () => sandbox.hubAccounts.users.get(sandbox.seeded!.username)!;
const activePats = () => user().pats.filter((p) => p.is_active && !p.deleted);
const currentToken = () => JSON.parse(sandbox.secrets.currentValue(SECRET)!).accessToken as string;
/** RotateSecret starts the rotation; its steps run after the answer, as on AWS: wait for them. */
const rotate = async (token?: string) => {
  const started = await aws.secrets.send(
    new RotateSecretCommand({ SecretId: SECRET, RotationLambdaARN: ROTATION_ARN, ClientRequestToken: token }),
  );
  await sandbox.secrets.settled();
  return started;
};
const lastRotation = () => sandbox.secrets.rotations.at(-1)!;

describe('checkCredential', () => {
  it('a working PAT with 60 days left is valid, with the expiry from the Hub API', async () => {
    await boot();
    const result = await check();
    expect(result).toMatchObject({
      state: 'valid',
      valid: true,
      upstreamLogin: 'ok',
      ecrValidation: [{ prefix: 'docker-hub', isValid: true }],
    });
    expect(result.expiry).toMatchObject({ source: 'hub-api', patUuid: sandbox.seeded!.pat.uuid });
    expect(result.expiry.daysLeft).toBeCloseTo(60, 0);
    expect(sandbox.cloudwatch.latest('EcrCacheKeeper', 'CredentialValid', { SecretName: SECRET })).toBe(1);
    expect(
      sandbox.cloudwatch.latest('EcrCacheKeeper', 'CredentialDaysToExpiry', { SecretName: SECRET }),
    ).toBeCloseTo(60, 0);
  });

  it('stamps its metrics with the time of its own clock (weeks on, on the sandbox), which CloudWatch takes', async () => {
    await boot();
    // CloudWatch takes time stamps up to two weeks old: a datum stamped by another clock than the
    // check's own would be refused, or land on another day than the one the alarms evaluate.
    sandbox.clock.advanceHours(20 * 24);
    const onTheSandboxClock = { ...kit.as('checkCredential'), now: () => sandbox.clock.now() };
    await createCheckCredentialHandler(onTheSandboxClock)({}, context);
    const stamped = sandbox.cloudwatch.datums.filter((d) => d.metricName === 'CredentialValid');
    expect(stamped.at(-1)?.timestamp).toBeGreaterThan(sandbox.clock.now() - 60_000);
  });

  it('a PAT with 10 days left is expiring (warnDays 14), still valid', async () => {
    await boot({ patExpiresInDays: 10 });
    expect(await check()).toMatchObject({ state: 'expiring', valid: true });
  });

  it('an expired PAT is reported expired and the metric says invalid', async () => {
    await boot();
    sandbox.seeded!.pat.expires_at = new Date(Date.now() - 86_400_000).toISOString();
    const result = await check();
    expect(result).toMatchObject({ state: 'expired', valid: false, upstreamLogin: 'refused' });
    expect(result.problems.join(' ')).toMatch(/personal access token is expired/);
    expect(sandbox.cloudwatch.latest('EcrCacheKeeper', 'CredentialValid', { SecretName: SECRET })).toBe(0);
  });

  it.each([
    [
      'Docker Hub down (503 at the token endpoint)',
      { match: 'hub:GET /token', status: 503 },
      /upstream not reachable/,
    ],
    [
      'ECR throttling its validation past the retries',
      { match: 'ecr:ValidatePullThroughCacheRule', awsError: 'ThrottlingException' },
      /ValidatePullThroughCacheRule docker-hub: ThrottlingException/,
    ],
    [
      'ECR failing its validation (500) past the retries',
      { match: 'ecr:ValidatePullThroughCacheRule', awsError: 'ServerException' },
      /ServerException/,
    ],
  ] as const)(
    '%s: the token is unverified, not invalid, and no "token invalid" datum is published',
    async (_what, fault, why) => {
      await boot();
      sandbox.faults.add({ ...fault });
      // The check's own role, one attempt per call (the SDK's retries would only make the test slow).
      const once = sandboxDeps(sandbox, 'keeper.config.yaml', { role: 'checkCredential', maxAttempts: 1 });
      const [result] = (await createCheckCredentialHandler(once.deps)({}, context)) as CredentialCheck[];
      expect(result).toMatchObject({ state: 'unverified', valid: false, problems: [] });
      expect(result!.unverified.join(' ')).toMatch(why);
      // The expiry is still known, and still published; the validity is not (no false alarm).
      expect(result!.expiry.daysLeft).toBeCloseTo(60, 0);
      expect(
        sandbox.cloudwatch.latest('EcrCacheKeeper', 'CredentialValid', { SecretName: SECRET }),
      ).toBeUndefined();
      expect(
        sandbox.cloudwatch.latest('EcrCacheKeeper', 'CredentialDaysToExpiry', { SecretName: SECRET }),
      ).toBeCloseTo(60, 0);
      sandbox.faults.clear();
      expect(await check()).toMatchObject({ state: 'valid', valid: true, unverified: [] });
    },
  );

  it('the token and admin alarms, as deployed, keep their state on a day the check has no verdict', async () => {
    await boot();
    const alarms = deployedAlarms();
    const tokenAlarm = alarms.find((a) => a.MetricName === 'CredentialValid')!;
    const adminAlarm = alarms.find((a) => a.MetricName === 'AdminCredentialValid')!;
    let token: AlarmState = 'INSUFFICIENT_DATA';
    let admin: AlarmState = 'INSUFFICIENT_DATA';
    // One check a day, and each day one evaluation period of the alarms.
    const day = async () => {
      const from = sandbox.cloudwatch.datums.length;
      await checkHandler({}, context);
      const published = (metric: string) =>
        sandbox.cloudwatch.datums
          .slice(from)
          .filter((d) => d.metricName === metric)
          .flatMap((d) => d.values);
      token = alarmStateAfter(tokenAlarm, [published('CredentialValid')], token);
      admin = alarmStateAfter(adminAlarm, [published('AdminCredentialValid')], admin);
    };
    sandbox.seeded!.pat.is_active = false;
    await day();
    expect([token, admin]).toEqual(['ALARM', 'OK']);
    // Docker Hub down and the Hub API throttling: no verdict on either credential. The token is
    // still revoked: its alarm must not clear, and the admin credential's must not fire.
    sandbox.faults.add({ match: 'hub:GET /token', status: 503 });
    sandbox.faults.add({ match: 'hubapi:', status: 429 });
    await day();
    expect([token, admin]).toEqual(['ALARM', 'OK']);
    sandbox.faults.clear();
    sandbox.seeded!.pat.is_active = true;
    await day();
    expect([token, admin]).toEqual(['OK', 'OK']);
  });

  it('three days in a row without a verdict (Docker Hub unreachable from the function) fire the "no verdict" alarm', async () => {
    await boot();
    const alarm = deployedAlarms().find((a) => a.MetricName === 'CredentialVerified');
    expect(alarm, 'an alarm on CredentialVerified in the packaged template').toBeDefined();
    let state: AlarmState = 'INSUFFICIENT_DATA';
    const days: number[][] = [];
    const day = async () => {
      const from = sandbox.cloudwatch.datums.length;
      await checkHandler({}, context);
      days.push(
        sandbox.cloudwatch.datums
          .slice(from)
          .filter((d) => d.metricName === 'CredentialVerified')
          .flatMap((d) => d.values),
      );
      // Before the alarm has as many days as it evaluates, the missing ones are days without a datum.
      const periods = [...Array(Math.max(0, alarm!.EvaluationPeriods - days.length)).fill([]), ...days];
      state = alarmStateAfter(alarm!, periods, state);
      return state;
    };
    expect(await day()).toBe('OK');
    sandbox.faults.add({ match: 'hub:GET /token', status: 503 });
    expect([await day(), await day()]).toEqual(['OK', 'OK']); // a day or two: Docker Hub has bad days
    expect(await day()).toBe('ALARM');
    sandbox.faults.clear();
    expect(await day()).toBe('OK');
  });

  it('a revoked PAT is invalid', async () => {
    await boot();
    sandbox.seeded!.pat.is_active = false;
    const result = await check();
    expect(result).toMatchObject({ state: 'invalid', valid: false, upstreamLogin: 'refused' });
    expect(result.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/deactivated in Docker Hub/)]),
    );
  });

  it('Secrets Manager throttling or failing the read of the secret is no verdict on the token: unverified, no datum', async () => {
    await boot();
    // Each call's retries exhausted: two attempts rather than five keep the backoff short.
    const quick = sandboxDeps(sandbox, 'keeper.config.yaml', { maxAttempts: 2 });
    const quickCheck = async () =>
      (
        (await createCheckCredentialHandler(quick.as('checkCredential'))({}, context)) as CredentialCheck[]
      )[0]!;
    for (const fault of [
      { match: 'secretsmanager:DescribeSecret', awsError: 'ThrottlingException' },
      { match: 'secretsmanager:GetSecretValue', awsError: 'InternalServiceError' },
    ]) {
      sandbox.cloudwatch.datums.length = 0;
      sandbox.faults.add(fault);
      const report = await quickCheck();
      sandbox.faults.clear();
      expect(report.state, fault.match).toBe('unverified');
      expect(report.unverified.join(' '), fault.match).toContain(fault.awsError);
      expect(
        sandbox.cloudwatch.latest('EcrCacheKeeper', 'CredentialValid', { SecretName: SECRET }),
        fault.match,
      ).toBeUndefined();
      // The admin secret, read through the same failing service, has no verdict either.
      expect(
        sandbox.cloudwatch.latest('EcrCacheKeeper', 'AdminCredentialValid', {
          SecretName: 'ecr-cache-keeper/dockerhub-admin',
        }),
        fault.match,
      ).toBe(fault.match.includes('GetSecretValue') ? undefined : 1);
    }
  });

  it('CloudWatch refusing the metrics fails the invocation (its alarm says so), but each verdict is logged first', async () => {
    await boot();
    sandbox.faults.add({ match: 'cloudwatch:PutMetricData', awsError: 'ThrottlingException' });
    const quick = sandboxDeps(sandbox, 'keeper.config.yaml', { maxAttempts: 1 });
    await expect(createCheckCredentialHandler(quick.as('checkCredential'))({}, context)).rejects.toThrow(
      /ThrottlingException/,
    );
    expect(quick.logs.find((l) => l.message === `credential ${SECRET}: valid`)).toMatchObject({
      state: 'valid',
      upstreamLogin: 'ok',
    });
  });

  it('a malformed secret is reported without its value', async () => {
    await boot();
    sandbox.secrets.find(SECRET).versions.find((v) => v.stages.includes('AWSCURRENT'))!.value =
      'dckr_pat_notjson';
    const result = await check();
    expect(result).toMatchObject({ state: 'malformed', valid: false });
    expect(result.problems[0]).toMatch(/not JSON/);
    expect(sandbox.cloudwatch.latest('EcrCacheKeeper', 'CredentialValid', { SecretName: SECRET })).toBe(0);
  });

  it('a missing secret is reported missing', async () => {
    await boot();
    await aws.secrets.send(new DeleteSecretCommand({ SecretId: SECRET, ForceDeleteWithoutRecovery: true }));
    expect(await check()).toMatchObject({ state: 'missing', valid: false });
    expect(sandbox.cloudwatch.latest('EcrCacheKeeper', 'CredentialValid', { SecretName: SECRET })).toBe(0);
  });

  it('a secret scheduled for deletion is reported missing, with the day it goes and how to restore it; restored, it is valid again', async () => {
    await boot();
    const deleted = await aws.secrets.send(
      new DeleteSecretCommand({ SecretId: SECRET, RecoveryWindowInDays: 7 }),
    );
    const result = await check();
    expect(result).toMatchObject({ state: 'missing', valid: false });
    expect(result.problems[0]).toBe(
      `secret ${SECRET}: is scheduled for deletion on ${deleted.DeletionDate!.toISOString().slice(0, 10)}, and neither ECR nor the keeper can read it meanwhile: restore it (aws secretsmanager restore-secret --secret-id ${SECRET})`,
    );
    expect(sandbox.cloudwatch.latest('EcrCacheKeeper', 'CredentialValid', { SecretName: SECRET })).toBe(0);
    await aws.secrets.send(new RestoreSecretCommand({ SecretId: SECRET }));
    expect(await check()).toMatchObject({ state: 'valid', valid: true });
  });

  it('without an admin credential or recorded expiry, says "expiry unknown" and how to record it', async () => {
    await boot({ adminSecret: false, recordPatMetadata: false });
    const result = await check();
    expect(result.expiry).toMatchObject({
      source: 'unknown',
      howToRecord: expect.stringContaining(
        'cache-keeper credential record --secret ecr-pullthroughcache/docker-hub',
      ),
    });
    expect(
      sandbox.cloudwatch.latest('EcrCacheKeeper', 'CredentialDaysToExpiry', { SecretName: SECRET }),
    ).toBeUndefined();
  });
});

describe('managed rotation through RotateSecret', () => {
  it('mints a new PAT, moves AWSCURRENT, validates, then deactivates the old PAT', async () => {
    await boot({ patExpiresInDays: 10 });
    const oldToken = currentToken();
    await rotate();
    expect(lastRotation()).toMatchObject({ succeeded: true });
    expect(currentToken()).not.toBe(oldToken);
    expect(sandbox.seeded!.pat.is_active).toBe(false);
    expect(activePats()).toHaveLength(1);
    expect(activePats()[0]!.token).toBe(currentToken());
    const described = await aws.secrets.send(new DescribeSecretCommand({ SecretId: SECRET }));
    const tags = Object.fromEntries(described.Tags!.map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({
      'pat-uuid': activePats()[0]!.uuid,
      'previous-pat-uuid': sandbox.seeded!.pat.uuid,
    });
    expect(Object.keys(tags).filter((k) => k.startsWith('pending-'))).toEqual([]);
    const after = await check();
    expect(after).toMatchObject({ state: 'valid' });
    expect(after.expiry.daysLeft).toBeCloseTo(90, 0);
    // The cache keeps pulling with the new token: ECR reads AWSCURRENT.
    const config = loadConfig('keeper.config.yaml');
    const warm = await runPrewarm(config.prewarm.images.slice(0, 2), {
      ...kit.as('prewarm'),
      config,
      deadline: Date.now() + 60_000,
    });
    expect(warm.counts.warmed).toBe(2);
  });

  it.each(['createSecret', 'setSecret', 'testSecret', 'finishSecret'])(
    'a crash after %s, retried with the same token, ends with exactly one new active PAT',
    async (crashAfter) => {
      await boot();
      let crashed = false;
      sandbox.secrets.rotationFunctions.set(ROTATION_ARN, async (event) => {
        const result = await rotateHandler(event, context);
        if (event.Step === crashAfter && !crashed) {
          crashed = true;
          throw new Error(`injected crash after ${crashAfter}`);
        }
        return result;
      });
      const token = '0f4c7e2a-1b3d-4e5f-8a9b-0c1d2e3f4a5b';
      await rotate(token);
      expect(lastRotation()).toMatchObject({ succeeded: false });
      await rotate(token);
      expect(lastRotation()).toMatchObject({ succeeded: true });
      expect(activePats()).toHaveLength(1);
      expect(activePats()[0]!.token).toBe(currentToken());
      expect(user().pats.filter((p) => !p.deleted)).toHaveLength(2);
      expect((await check()).state).toBe('valid');
    },
  );

  it('when testSecret fails, AWSCURRENT stays on the old token and the minted PAT is deactivated', async () => {
    await boot();
    const oldToken = currentToken();
    sandbox.faults.add({
      match: 'hub:GET /token',
      status: 401,
      body: { details: 'incorrect username or password' },
      times: 1,
    });
    await rotate();
    expect(lastRotation().steps.at(-1)).toMatchObject({ step: 'testSecret', ok: false });
    expect(currentToken()).toBe(oldToken);
    expect(activePats().map((p) => p.uuid)).toEqual([sandbox.seeded!.pat.uuid]);
    expect(user().pats.filter((p) => !p.deleted)).toHaveLength(2);
    const value = await aws.secrets.send(new GetSecretValueCommand({ SecretId: SECRET }));
    expect(JSON.parse(value.SecretString!).accessToken).toBe(oldToken);
    // Nothing is left pending: the next rotation starts clean and succeeds.
    await rotate();
    expect(lastRotation().succeeded).toBe(true);
  });

  it('when ECR does not validate the new token, AWSCURRENT moves back and the old PAT stays active', async () => {
    await boot();
    const oldToken = currentToken();
    sandbox.faults.add({ match: 'ecr:ValidatePullThroughCacheRule', awsError: 'ServerException', times: 5 });
    await rotate();
    expect(lastRotation().steps.at(-1)).toMatchObject({ step: 'finishSecret', ok: false });
    expect(currentToken()).toBe(oldToken);
    expect(sandbox.seeded!.pat.is_active).toBe(true);
    expect(activePats()).toHaveLength(1);
  });

  it('the check reports a retired PAT past its grace period; `credential cleanup` deletes it', async () => {
    await boot();
    await rotate();
    const uuid = sandbox.seeded!.pat.uuid;
    const early = captureIo();
    expect(await runCli(['credential', 'cleanup'], early.io, kit.cli)).toBe(0);
    expect(early.out.join('\n')).toMatch(new RegExp(`kept retired PAT ${uuid} until`));
    // Eight days later, for the keeper and the sandbox alike.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 8 * 86_400_000);
    try {
      const result = await check();
      // The check changes nothing: it says what is due and which command deletes it.
      expect(result.retiredTokensDue.map((t) => t.uuid)).toEqual([uuid]);
      expect(sandbox.seeded!.pat.deleted).toBeFalsy();
      const cleanup = captureIo();
      expect(await runCli(['credential', 'cleanup', '--json'], cleanup.io, kit.cli)).toBe(0);
      expect(JSON.parse(cleanup.out.join('\n'))[0].deleted).toEqual([uuid]);
    } finally {
      vi.useRealTimers();
    }
    expect(sandbox.seeded!.pat.deleted).toBe(true);
    expect((await check()).retiredTokensDue).toEqual([]);
  });

  it('refuses a step for a version that is not pending', async () => {
    await boot();
    await expect(
      rotateHandler({ Step: 'createSecret', SecretId: SECRET, ClientRequestToken: 'nope' }, context),
    ).rejects.toThrow(/rotation is not enabled|does not exist/);
    await expect(
      rotateHandler({ Step: 'explode', SecretId: SECRET, ClientRequestToken: 'x' }, context),
    ).rejects.toThrow(/Step must be one of/);
  });
});

describe('managed rotation of an organization access token (credential.rotation.organization)', () => {
  /** The shipped config, minting the organization's tokens; a sandbox kit and rotation function with it. */
  const organizationKit = (organization: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'keeper-org-'));
    const path = join(dir, 'keeper.config.yaml');
    writeFileSync(
      path,
      readFileSync('keeper.config.yaml', 'utf8').replace(
        'mode: managed',
        `mode: managed\n    organization: ${organization}`,
      ),
    );
    const orgKit = sandboxDeps(sandbox, path);
    const rotation = createRotateCredentialHandler(orgKit.as('rotateCredential'));
    sandbox.secrets.rotationFunctions.set(ROTATION_ARN, (event) => rotation(event, context));
    return { orgKit, path };
  };
  /** An organization owned by the admin credential's user, whose token the credential secret holds. */
  const organizationToken = (owners: string[]) => {
    const org = sandbox.hubAccounts.addOrganization('acme-org', owners);
    const expires = new Date(Date.now() + 10 * 86_400_000).toISOString();
    const oat = sandbox.hubAccounts.createOat(
      org,
      'ecr cache',
      [{ type: 'TYPE_REPO', path: '*/*/public', scopes: ['scope-image-pull'] }],
      owners[0]!,
      expires,
    );
    const secret = sandbox.secrets.find(SECRET);
    secret.versions.find((v) => v.stages.includes('AWSCURRENT'))!.value = JSON.stringify({
      username: 'acme-org',
      accessToken: oat.token,
    });
    // As `cache-keeper credential record --uuid` records it: which token it is, and its expiry.
    secret.tags = secret.tags
      .filter((t) => t.Key !== 'pat-uuid' && t.Key !== 'pat-expires-at')
      .concat([
        { Key: 'pat-uuid', Value: oat.uuid },
        { Key: 'pat-expires-at', Value: expires },
      ]);
    return { org, oat };
  };

  it('mints the next token of the organization, stores it under the organization, retires the old one, and the check reads its expiry', async () => {
    await boot();
    const { org, oat } = organizationToken([sandbox.seeded!.username]);
    const { orgKit, path } = organizationKit('acme-org');
    const ownPats = user().pats.length;

    await rotate();
    expect(lastRotation()).toMatchObject({ succeeded: true });
    const stored = JSON.parse(sandbox.secrets.currentValue(SECRET)!);
    expect(stored.username).toBe('acme-org');
    const minted = org.pats.find((p) => p.token === stored.accessToken)!;
    // An organization access token that pulls public images, created by the owner; nothing of the owner's own.
    expect(minted).toMatchObject({
      is_active: true,
      created_by: sandbox.seeded!.username,
      resources: [{ type: 'TYPE_REPO', path: '*/*/public', scopes: ['scope-image-pull'] }],
    });
    expect(minted.token).toMatch(/^dckr_oat_/);
    // The rotation's log names what it minted and retired as what they are.
    expect(JSON.stringify(orgKit.logs)).toContain(`minted organization access token ${minted.uuid}`);
    expect(JSON.stringify(orgKit.logs)).toContain(
      `previous organization access token ${oat.uuid} deactivated`,
    );
    expect(oat.is_active).toBe(false);
    expect(user().pats).toHaveLength(ownPats);
    const described = await aws.secrets.send(new DescribeSecretCommand({ SecretId: SECRET }));
    const tags = Object.fromEntries(described.Tags!.map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({ 'pat-uuid': minted.uuid, 'previous-pat-uuid': oat.uuid });

    // The check finds it among the organization's tokens, with its expiry; the admin credential is fine.
    const [after] = (await createCheckCredentialHandler(orgKit.as('checkCredential'))(
      {},
      context,
    )) as CredentialCheck[];
    expect(after).toMatchObject({ state: 'valid', upstreamLogin: 'ok', problems: [] });
    expect(after!.expiry).toMatchObject({ source: 'hub-api', patUuid: minted.uuid });
    expect(after!.expiry.daysLeft).toBeCloseTo(90, 0);
    expect(
      sandbox.cloudwatch.latest('EcrCacheKeeper', 'AdminCredentialValid', {
        SecretName: 'ecr-cache-keeper/dockerhub-admin',
      }),
    ).toBe(1);

    // The cache pulls through with the organization's new token.
    const config = loadConfig(path);
    const warm = await runPrewarm(config.prewarm.images.slice(0, 2), {
      ...orgKit.as('prewarm'),
      config,
      deadline: Date.now() + 60_000,
    });
    expect(warm.counts.warmed).toBe(2);

    // Past the grace period, `credential cleanup` deletes the retired token from the organization.
    // Eight days later, for the keeper and the sandbox alike.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 8 * 86_400_000);
    try {
      // The check says what is due, naming it as what it is.
      const due = captureIo();
      expect(await runCli(['check', '--config', path], due.io, orgKit.cli)).toBe(0);
      expect(due.out.join('\n')).toContain(
        `retired organization access token ${oat.uuid} is past its grace period`,
      );
      const cleanup = captureIo();
      expect(
        await runCli(['credential', 'cleanup', '--config', path, '--json'], cleanup.io, orgKit.cli),
      ).toBe(0);
      expect(JSON.parse(cleanup.out.join('\n'))[0].deleted).toEqual([oat.uuid]);
    } finally {
      vi.useRealTimers();
    }
    expect(oat.deleted).toBe(true);
    expect(minted.deleted).toBeUndefined();
  });

  it('a create the Hub API carried out but whose answer was lost: the token it made is found by its label and discarded, and one is minted once more', async () => {
    await boot();
    const { org, oat } = organizationToken([sandbox.seeded!.username]);
    organizationKit('acme-org');
    sandbox.faults.add({
      match: 'hubapi:POST /v2/orgs/acme-org/access-tokens',
      drop: true,
      afterActing: true,
      times: 1,
    });
    await rotate();
    expect(lastRotation()).toMatchObject({ succeeded: true });
    const stored = JSON.parse(sandbox.secrets.currentValue(SECRET)!).accessToken;
    // Two were created; the one whose secret never arrived is gone, the other is in use.
    const made = org.pats.filter((p) => p !== oat);
    expect(made).toHaveLength(2);
    expect(made.filter((p) => !p.deleted).map((p) => p.token)).toEqual([stored]);
    expect(org.pats.filter((p) => p.is_active && !p.deleted).map((p) => p.token)).toEqual([stored]);
  });

  it('an organization named wrong in the config: the check says whose tokens rotation would mint, on the admin credential', async () => {
    await boot();
    organizationToken([sandbox.seeded!.username]);
    const { orgKit, path } = organizationKit('acme-typo');
    await createCheckCredentialHandler(orgKit.as('checkCredential'))({}, context);
    expect(
      sandbox.cloudwatch.latest('EcrCacheKeeper', 'AdminCredentialValid', {
        SecretName: 'ecr-cache-keeper/dockerhub-admin',
      }),
    ).toBe(0);
    const cli = captureIo();
    expect(await runCli(['check', '--config', path], cli.io, orgKit.cli)).toBe(0);
    expect(cli.out.join('\n')).toContain(
      'logs in as acme-org, and managed rotation mints tokens of the organization acme-typo (credential.rotation.organization)',
    );
  });

  it('the Hub API session names an organization Docker Hub does not know', async () => {
    await boot();
    const hub = new HubApi(sandbox.endpoints.dockerHubApi);
    await hub.login(sandbox.seeded!.username, sandbox.seeded!.password);
    await expect(hub.actFor('acme-typo').listPats()).rejects.toThrow(
      'list organization access tokens: HTTP 404 (Not found): Docker Hub knows no organization acme-typo (credential.rotation.organization)',
    );
  });

  it('an admin credential that does not own the organization is refused before anything is minted, and says so', async () => {
    await boot();
    const { org, oat } = organizationToken(['someone-else']);
    organizationKit('acme-org');
    await rotate();
    expect(lastRotation()).toMatchObject({ succeeded: false });
    expect(JSON.stringify(lastRotation().steps)).toContain(
      'HTTP 403 (only owners of the organization can manage its access tokens): only an owner of acme-org may manage its access tokens',
    );
    expect(org.pats.filter((p) => !p.deleted)).toHaveLength(1);
    expect(currentToken()).toBe(oat.token);
    // Refused for good (not a failure of the moment): nothing is left pending to block the next one.
    const versions = sandbox.secrets.find(SECRET).versions;
    expect(versions.filter((v) => v.stages.includes('AWSPENDING'))).toEqual([]);
  });
});

describe('the daily check changes nothing and bounds its failed logins', () => {
  const adminCheck = async () => {
    await createCheckCredentialHandler(kit.as('checkCredential'))({}, context);
    return sandbox.cloudwatch.latest('EcrCacheKeeper', 'AdminCredentialValid', {
      SecretName: 'ecr-cache-keeper/dockerhub-admin',
    });
  };

  it('a revoked token costs one failed login per check, and ECR is not asked to try it again', async () => {
    await boot();
    sandbox.seeded!.pat.is_active = false;
    const failedBefore = sandbox.hubAccounts.failedLoginCount(sandbox.seeded!.username);
    const validationsBefore = sandbox.ecr.calls.get('ValidatePullThroughCacheRule') ?? 0;
    const result = await check();
    expect(result).toMatchObject({ state: 'invalid', upstreamLogin: 'refused' });
    expect(sandbox.hubAccounts.failedLoginCount(sandbox.seeded!.username) - failedBefore).toBe(1);
    expect(sandbox.ecr.calls.get('ValidatePullThroughCacheRule') ?? 0).toBe(validationsBefore);
    expect(result.ecrValidation[0]).toMatchObject({
      isValid: false,
      failure: expect.stringMatching(/not asked/),
    });
  });

  it('a secret this function may not read (a policy denies it) is no verdict on the token: ECR is asked, and the check says why it knows no more', async () => {
    await boot();
    // A guardrail on the secret (its resource policy) refuses the check's role its value; it exempts
    // AWS's service roles, as one must for ECR to keep reading the secret.
    sandbox.secrets.find(SECRET).resourcePolicy = guardrailPolicy('secretsmanager:GetSecretValue', {
      exemptServiceRoles: true,
    });
    const validationsBefore = sandbox.ecr.calls.get('ValidatePullThroughCacheRule') ?? 0;
    const denied = await check();
    expect(denied).toMatchObject({ state: 'unverified', upstreamLogin: 'skipped', problems: [] });
    expect(denied.ecrValidation).toEqual([{ prefix: 'docker-hub', isValid: true }]);
    expect(sandbox.ecr.calls.get('ValidatePullThroughCacheRule') ?? 0).toBe(validationsBefore + 1);
    expect(denied.unverified.join('\n')).toMatch(
      /cannot be read \(AccessDeniedException: .*\); ECR validates the rule docker-hub with it: this function may not read the secret \(a policy on it, or a permissions boundary\), so the token's Docker Hub login was not checked \(its expiry is the one recorded on the secret\)/,
    );
    // Described, not read: the expiry its tags record keeps the "token expiring" alarm fed.
    expect(denied.expiry).toMatchObject({ source: 'secret-tags', daysLeft: expect.any(Number) });
    expect(
      sandbox.cloudwatch.latest('EcrCacheKeeper', 'CredentialDaysToExpiry', { SecretName: SECRET }),
    ).toBe(denied.expiry.daysLeft);
    // Not "token invalid": no CredentialValid datum, and CredentialVerified 0 (its own alarm, after three days).
    expect(sandbox.cloudwatch.latest('EcrCacheKeeper', 'CredentialVerified', { SecretName: SECRET })).toBe(0);
    // When ECR refuses the token as well, that is a verdict: invalid, saying both.
    sandbox.seeded!.pat.is_active = false;
    const refused = await check();
    expect(refused.state).toBe('invalid');
    expect(refused.problems.join('\n')).toMatch(/ValidatePullThroughCacheRule|upstream/);
    expect(refused.problems[0]).toMatch(
      /cannot be read \(AccessDeniedException: .* with an explicit deny in a resource-based policy\)/,
    );
    sandbox.secrets.find(SECRET).resourcePolicy = undefined;
  });

  it('a secret this function may not even describe, which ECR takes: not "missing", but no verdict', async () => {
    await boot();
    sandbox.secrets.find(SECRET).resourcePolicy = guardrailPolicy('secretsmanager:*', {
      exemptServiceRoles: true,
    });
    const denied = await check();
    sandbox.secrets.find(SECRET).resourcePolicy = undefined;
    expect(denied).toMatchObject({ state: 'unverified', problems: [] });
    expect(denied.unverified.join('\n')).toMatch(
      /does not exist, or this role may not describe it \(AccessDeniedException\).*; ECR validates the rule docker-hub with it: this function may not read the secret/,
    );
  });

  it.each([
    ['everyone but the platform admin', guardrailPolicy('secretsmanager:GetSecretValue'), 'skipped'],
    [
      'everyone but the platform admin and the check',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Deny',
            Principal: '*',
            Action: 'secretsmanager:GetSecretValue',
            Condition: {
              StringNotLike: {
                'aws:PrincipalArn': [PLATFORM_ADMIN, 'arn:aws:iam::*:role/ecr-cache-keeper-*'],
              },
            },
          },
        ],
      }),
      'ok',
    ],
  ])(
    "a guardrail on the secret that forgets ECR's service-linked role (denying %s) is a verdict: the cache cannot use the token, and the check says ECR's words",
    async (_name, policy, upstreamLogin) => {
      await boot();
      sandbox.secrets.find(SECRET).resourcePolicy = policy;
      try {
        const result = await check();
        expect(result).toMatchObject({ state: 'invalid', upstreamLogin, valid: false });
        expect(result.ecrValidation).toEqual([
          {
            prefix: 'docker-hub',
            isValid: false,
            failure: expect.stringMatching(
              /AWSServiceRoleForECRPullThroughCache\/.* is not authorized to perform: secretsmanager:GetSecretValue on resource: .*ecr-pullthroughcache\/docker-hub-\w{6} with an explicit deny in a resource-based policy/,
            ),
          },
        ]);
        expect(result.problems.join('\n')).toMatch(/AWSServiceRoleForECRPullThroughCache/);
        // Where Docker Hub took the token from here, the check says to look at ECR's side before rotating it.
        expect(result.problems.join('\n').includes('Docker Hub takes this token from here')).toBe(
          upstreamLogin === 'ok',
        );
        expect(sandbox.cloudwatch.latest('EcrCacheKeeper', 'CredentialValid', { SecretName: SECRET })).toBe(
          0,
        );
      } finally {
        sandbox.secrets.find(SECRET).resourcePolicy = undefined;
      }
    },
  );

  it('reports the admin credential’s health (metric and alarm) in managed mode', async () => {
    await boot();
    expect(await adminCheck()).toBe(1);
    sandbox.secrets
      .find('ecr-cache-keeper/dockerhub-admin')
      .versions.find((v) => v.stages.includes('AWSCURRENT'))!.value = '{"username":"keeper-ci","password":';
    expect(await adminCheck()).toBe(0);
    // The token itself is still valid: only the next rotation is at risk.
    expect((await check()).state).toBe('valid');
    await aws.secrets.send(
      new DeleteSecretCommand({
        SecretId: 'ecr-cache-keeper/dockerhub-admin',
        ForceDeleteWithoutRecovery: true,
      }),
    );
    expect(await adminCheck()).toBe(0);
  });

  it('a token of another account than the admin credential’s (an organization access token): the check says managed rotation cannot renew it, and a rotation refuses before minting anything', async () => {
    await boot();
    // The organization's token (its own usage limits), stored as the ECR guide says: its name as username.
    const org = sandbox.hubAccounts.addUser('acme-org', 'not-used-here', undefined);
    const oat = sandbox.hubAccounts.createPat(org, 'ecr cache', ['repo:public_read']);
    sandbox.secrets.find(SECRET).versions.find((v) => v.stages.includes('AWSCURRENT'))!.value =
      JSON.stringify({
        username: 'acme-org',
        accessToken: oat.token,
      });
    const report = (await createCheckCredentialHandler(kit.as('checkCredential'))(
      {},
      context,
    )) as CredentialCheck[];
    // The token works; what is at risk is the next rotation, so the admin credential's alarm says it.
    expect(report[0]).toMatchObject({ upstreamLogin: 'ok', problems: [] });
    // The admin's tokens say nothing of the organization's: no expiry from them.
    expect(report[0]!.expiry.source).not.toBe('hub-api');
    expect(await adminCheck()).toBe(0);
    expect(JSON.stringify(kit.logs)).toContain(
      'ecr-pullthroughcache/docker-hub logs in as acme-org, and managed rotation mints tokens of keeper-ci (with the admin credential ecr-cache-keeper/dockerhub-admin)',
    );

    // `cache-keeper check` says it too, beside a token that is fine (exit 0).
    const cli = captureIo();
    expect(await runCli(['check'], cli.io, kit.cli)).toBe(0);
    expect(cli.out.join('\n')).toContain(
      'admin credential ecr-cache-keeper/dockerhub-admin: ecr-pullthroughcache/docker-hub logs in as acme-org',
    );

    const pats = user().pats.length;
    await rotate();
    expect(lastRotation()).toMatchObject({ succeeded: false });
    expect(JSON.stringify(lastRotation().steps)).toContain('credential.rotation.mode: staged');
    expect(user().pats).toHaveLength(pats); // nothing minted
    expect(currentToken()).toBe(oat.token);
    // `cache-keeper rotate` ends the same way, and says why under the check.
    const byHand = captureIo();
    expect(await runCli(['rotate', '--rotation-lambda-arn', ROTATION_ARN], byHand.io, kit.cli)).toBe(1);
    expect(byHand.out.join('\n')).toContain('a managed rotation would replace acme-org');
    expect(user().pats).toHaveLength(pats);

    // What the message asks for works: staged rotation, the organization's next token staged.
    const dir = mkdtempSync(join(tmpdir(), 'keeper-oat-'));
    const stagedConfig = join(dir, 'keeper.config.yaml');
    writeFileSync(
      stagedConfig,
      readFileSync('keeper.config.yaml', 'utf8').replace('mode: managed', 'mode: staged'),
    );
    const staged = sandboxDeps(sandbox, stagedConfig);
    const stagedRotation = createRotateCredentialHandler(staged.as('rotateCredential'));
    sandbox.secrets.rotationFunctions.set(ROTATION_ARN, (event) => stagedRotation(event, context));
    const expires = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
    const next = sandbox.hubAccounts.createPat(
      org,
      'ecr cache 2',
      ['repo:public_read'],
      `${expires}T00:00:00Z`,
    );
    const stage = captureIo(next.token);
    const argv = ['credential', 'stage', '--config', stagedConfig, '--expires-at', expires];
    expect(await runCli([...argv, '--rotation-lambda-arn', ROTATION_ARN], stage.io, kit.cli)).toBe(0);
    expect(JSON.parse(sandbox.secrets.currentValue(SECRET)!)).toEqual({
      username: 'acme-org',
      accessToken: next.token,
    });
  });

  const credentialValid = () =>
    sandbox.cloudwatch.latest('EcrCacheKeeper', 'CredentialValid', { SecretName: SECRET });
  const pendingVersion = () =>
    sandbox.secrets
      .find(SECRET)
      .versions.find((v) => v.stages.includes('AWSPENDING') && !v.stages.includes('AWSCURRENT'));

  it('an admin credential holding a personal access token instead of the password: the token stays valid, the admin credential is unusable with why, and a rotation says why', async () => {
    await boot();
    const admin = sandbox.secrets
      .find('ecr-cache-keeper/dockerhub-admin')
      .versions.find((v) => v.stages.includes('AWSCURRENT'))!;
    const adminValue = admin.value;
    // Logs in to the Hub API (a PAT does), but a PAT's session may not manage tokens (403).
    admin.value = JSON.stringify({ username: sandbox.seeded!.username, password: currentToken() });
    const report = await check();
    // The token the cache uses works: its alarm must not say otherwise.
    expect(report).toMatchObject({ state: 'valid', valid: true, problems: [], upstreamLogin: 'ok' });
    expect(credentialValid()).toBe(1);
    // What fails is the next rotation: the admin credential's alarm, with what to store instead.
    expect(await adminCheck()).toBe(0);
    expect(JSON.stringify(kit.logs)).toMatch(
      /admin credential ecr-cache-keeper\/dockerhub-admin: .*the admin credential must hold the account password/,
    );
    const cli = captureIo();
    expect(await runCli(['check'], cli.io, kit.cli)).toBe(0);
    expect(cli.out.join('\n')).toMatch(/the admin credential must hold the account password/);

    const pats = user().pats.length;
    await rotate();
    expect(lastRotation()).toMatchObject({ succeeded: false });
    expect(JSON.stringify(lastRotation().steps)).toMatch(
      /the admin credential must hold the account password/,
    );
    expect(user().pats).toHaveLength(pats);
    // Withdrawn: once the admin secret holds the password, the next rotation is not refused as
    // "a previous rotation isn't complete".
    expect(pendingVersion()).toBeUndefined();
    admin.value = adminValue;
    await rotate();
    expect(lastRotation()).toMatchObject({ succeeded: true });
  });

  it('an admin account with two-factor authentication, or a wrong password: the check and a rotation say what managed rotation needs, and the refused rotation is withdrawn', async () => {
    await boot();
    const admin = sandbox.secrets
      .find('ecr-cache-keeper/dockerhub-admin')
      .versions.find((v) => v.stages.includes('AWSCURRENT'))!;
    const cases: Array<[string, () => void, RegExp]> = [
      [
        'two-factor',
        () => {
          user().twoFactor = true;
        },
        /the account has two-factor authentication, and managed rotation can only log in with a password: set credential.rotation.mode: staged/,
      ],
      [
        'wrong password',
        () => {
          user().twoFactor = false;
          admin.value = JSON.stringify({ username: sandbox.seeded!.username, password: 'not-the-password' });
        },
        /the username or password is wrong, or the account has two-factor authentication or enforced single sign-on/,
      ],
    ];
    for (const [name, arrange, said] of cases) {
      arrange();
      expect(await adminCheck(), name).toBe(0);
      expect((await check()).state, name).toBe('valid');
      const cli = captureIo();
      expect(await runCli(['check'], cli.io, kit.cli), name).toBe(0);
      expect(cli.out.join('\n'), name).toMatch(said);
      await rotate();
      expect(lastRotation(), name).toMatchObject({ succeeded: false });
      expect(JSON.stringify(lastRotation().steps), name).toMatch(said);
      expect(pendingVersion(), name).toBeUndefined();
      // Docker Hub throttles a username after failed logins: wait its cooldown between the cases.
      sandbox.clock.advance(11 * 60_000);
    }
    // The second-factor step's token is Docker Hub's, for a login the keeper cannot finish: never said.
    expect(JSON.stringify(kit.logs) + output.join('')).not.toContain('hub2fa.');
  });

  it('a rotation stopped by a failure of the moment stays AWSPENDING for AWS to take up: the check says so, and `cache-keeper rotate` takes it up', async () => {
    await boot();
    const before = currentToken();
    sandbox.faults.add({ match: 'hubapi:POST /v2/access-tokens', status: 503 });
    await rotate();
    sandbox.faults.clear();
    expect(lastRotation()).toMatchObject({ succeeded: false });
    const unfinished = pendingVersion()!.versionId;
    expect(currentToken()).toBe(before);

    const checked = captureIo();
    expect(await runCli(['check'], checked.io, kit.cli)).toBe(0);
    expect(checked.out.join('\n')).toContain(
      `rotation ${unfinished} has not finished: AWS refuses any other rotation of the secret until it does; \`cache-keeper rotate\` takes it up`,
    );
    await checkHandler({}, context);
    expect(kit.logs.some((l) => l.level === 'warn' && JSON.stringify(l).includes(unfinished))).toBe(true);

    const rotated = captureIo();
    expect(await runCli(['rotate', '--rotation-lambda-arn', ROTATION_ARN], rotated.io, kit.cli)).toBe(0);
    expect(rotated.out.join('\n')).toContain(`rotation ${unfinished} has not finished: taking it up`);
    expect(lastRotation()).toMatchObject({ token: unfinished, succeeded: true });
    expect(currentToken()).not.toBe(before);
    expect(pendingVersion()).toBeUndefined();
  });

  it('managed mode with no rotation on the secret (no stage attached its schedule): the check says nothing renews the token, and how to attach it', async () => {
    await boot();
    expect(sandbox.secrets.find(SECRET).rotationEnabled).toBe(false);
    const report = await check();
    expect(report).toMatchObject({ state: 'valid', rotationNotEnabled: true });
    const cli = captureIo();
    expect(await runCli(['check'], cli.io, kit.cli)).toBe(0);
    expect(cli.out.join('\n')).toContain(
      'rotation is not enabled on this secret, so nothing renews its token before it expires',
    );
    expect(kit.logs.some((l) => l.level === 'warn' && l.message === `credential ${SECRET}: valid`)).toBe(
      true,
    );
    // A rotation attaches the function (as the rotation stage's schedule does): said no more.
    await rotate();
    expect(await check()).not.toHaveProperty('rotationNotEnabled');
  });

  it('a Hub API that throttles or fails the token list is no verdict against the token: it stays valid, its expiry from the recorded tags', async () => {
    await boot();
    for (const fault of [
      { match: 'hubapi:GET /v2/access-tokens', status: 429 },
      { match: 'hubapi:GET /v2/access-tokens', status: 503 },
    ]) {
      sandbox.faults.add(fault);
      const report = await check();
      expect(report).toMatchObject({ state: 'valid', valid: true, problems: [] });
      expect(report.expiry).toMatchObject({ source: 'secret-tags' });
      expect(credentialValid()).toBe(1);
      sandbox.faults.clear();
    }
  });

  it("another deployment's token on the same Docker Hub account (another region or account) is not ours to remove", async () => {
    await boot();
    // The keeper of another deployment (eu-west-1) minted and uses this one, for its own secret.
    const theirs = sandbox.hubAccounts.createPat(
      user(),
      patLabel(
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf',
        '3d9f6a10-2c4b-4e8d-9f01-6a7b8c9d0e1f',
      ),
      ['repo:public_read'],
      null,
    );
    expect((await check()).strayTokens).toEqual([]);
    await rotate();
    expect(lastRotation()).toMatchObject({ succeeded: true });
    expect(theirs).toMatchObject({ is_active: true });
    expect(theirs.deleted).toBeFalsy();
    const cleanup = captureIo();
    expect(await runCli(['credential', 'cleanup', '--json'], cleanup.io, kit.cli)).toBe(0);
    expect(theirs.deleted).toBeFalsy();
  });

  it('reports tokens left by an aborted rotation without touching them; cleanup removes them', async () => {
    await boot();
    const stray = sandbox.hubAccounts.createPat(
      user(),
      patLabel(sandbox.seeded!.secretArn, '5b1c0d2e-aborted'),
      ['repo:public_read'],
      null,
    );
    // Labelled by a keeper before labels named their secret: this deployment's stray, or another's.
    const unmarked = sandbox.hubAccounts.createPat(
      user(),
      'ecr-cache-keeper 7a2d1e3f-older',
      ['repo:public_read'],
      null,
    );
    const result = await check();
    expect(result.strayTokens).toEqual([stray.uuid]);
    expect(result.unmarkedTokens).toEqual([unmarked.uuid]);
    expect(stray.deleted).toBeFalsy();
    const cleanup = captureIo();
    expect(await runCli(['credential', 'cleanup', '--json'], cleanup.io, kit.cli)).toBe(0);
    expect(JSON.parse(cleanup.out.join('\n'))[0]).toMatchObject({
      deleted: [stray.uuid],
      unmarked: [unmarked.uuid],
    });
    expect(stray.deleted).toBe(true);
    expect(unmarked.deleted).toBeFalsy();
    const text = captureIo();
    expect(await runCli(['credential', 'cleanup'], text.io, kit.cli)).toBe(0);
    expect(text.out.join('\n')).toContain(
      `left 1 PAT(s) labelled "ecr-cache-keeper <version>" by an older keeper (${unmarked.uuid})`,
    );
  });

  it('a token too large for Docker Hub (HTTP 431) is reported as that, not as a missing image', async () => {
    await boot();
    const value = JSON.stringify({
      username: sandbox.seeded!.username,
      accessToken: `dckr_pat_${'x'.repeat(60_000)}`,
    });
    sandbox.secrets.find(SECRET).versions.find((v) => v.stages.includes('AWSCURRENT'))!.value = value;
    const result = await check();
    // A token the registry cannot take at all is the token's fault: refused, and invalid.
    expect(result).toMatchObject({ upstreamLogin: 'refused', state: 'invalid' });
    expect(result.problems.join(' ')).toMatch(/too large \(HTTP 431\)/);
    const warm = await runPrewarm(loadConfig('keeper.config.yaml').prewarm.images.slice(0, 1), {
      ...kit.as('prewarm'),
      deadline: Date.now() + 60_000,
    });
    expect(warm.images[0]!.reason).toMatch(/too large/);
    expect(warm.images[0]!.reason).not.toMatch(/does not exist/);
  });
});
