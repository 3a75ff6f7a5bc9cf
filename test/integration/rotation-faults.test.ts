/**
 * The token survives every fault: for each call a managed rotation makes (Hub API, Secrets Manager,
 * ECR, Docker Hub's token realm), (a) a failure before the service acts, (b) a dropped connection
 * after it acted, and (c) racing duplicates of each rotation step. After each: the retry AWS makes,
 * the next daily check, and a following rotation; then AWSCURRENT logs in upstream, exactly one
 * keeper token is active (the one in AWSCURRENT), AWSPENDING is on no version but AWSCURRENT's, and
 * no other token of the keeper's is left behind.
 */
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { createCheckCredentialHandler } from '../../handlers/checkCredential.js';
import { createRotateCredentialHandler } from '../../handlers/rotateCredential.js';
import { loadConfig } from '../../lib/config/load.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import type { Fault } from '../../sandbox/faults.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { guardrailPolicy } from '../support/guardrail.js';
import { context } from '../support/lambda.js';
import { type SandboxDeps, sandboxDeps } from './support/sandbox-deps.js';

const ROTATION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:ecr-cache-keeper-test-rotateCredential';
const SECRET = 'ecr-pullthroughcache/docker-hub';
const config = loadConfig('keeper.config.yaml');

let sandbox: Sandbox;
let kit: SandboxDeps;
afterEach(async () => {
  await sandbox?.stop();
});

async function boot(race?: string) {
  sandbox = await startSandbox();
  kit = sandboxDeps(sandbox, config);
  await reconcile(kit.aws, config);
  const rotate = createRotateCredentialHandler(kit.as('rotateCredential'));
  sandbox.secrets.rotationFunctions.set(ROTATION_ARN, async (event) => {
    if (event.Step !== race) return rotate(event, context);
    // A racing duplicate: the same step invoked twice at once.
    const [a, b] = await Promise.allSettled([rotate(event, context), rotate(event, context)]);
    if (a.status === 'rejected' && b.status === 'rejected') throw a.reason;
    return a.status === 'fulfilled' ? a.value : (b as PromiseFulfilledResult<unknown>).value;
  });
}

const secret = () => sandbox.secrets.find(SECRET);
const user = () => sandbox.hubAccounts.users.get(sandbox.seeded!.username)!;
const keeperTokens = () =>
  user().pats.filter((p) => p.token_label.startsWith('ecr-cache-keeper ') && !p.deleted);
const currentToken = () => JSON.parse(sandbox.secrets.currentValue(SECRET)!).accessToken as string;
const rotateNow = (token?: string) =>
  kit.aws.secrets
    .send(
      new RotateSecretCommand({
        SecretId: SECRET,
        RotationLambdaARN: ROTATION_ARN,
        ClientRequestToken: token,
      }),
    )
    .then(
      // RotateSecret only starts the rotation, as on AWS: its steps run after the answer.
      async () => {
        await sandbox.secrets.settled();
        return sandbox.secrets.rotations.at(-1)!;
      },
      (error: Error) => ({ succeeded: false, error: error.message }),
    );
const pendingVersion = () =>
  secret().versions.find((v) => v.stages.includes('AWSPENDING') && !v.stages.includes('AWSCURRENT'))
    ?.versionId;

function assertInvariants() {
  const token = currentToken();
  const pat = user().pats.find((p) => p.token === token && !p.deleted);
  // AWSCURRENT logs in upstream: an active, unexpired token of the account.
  expect(pat?.is_active, 'AWSCURRENT holds an active token').toBe(true);
  expect(Date.parse(pat!.expires_at!)).toBeGreaterThan(Date.now());
  // Exactly one active keeper token, the one in AWSCURRENT; nothing else of the keeper's left.
  expect(
    keeperTokens()
      .filter((p) => p.is_active)
      .map((p) => p.token),
  ).toEqual([token]);
  // Besides it, only the token the last rotation retired, deactivated for its grace period.
  const retired = secret().tags.find((t) => t.Key === 'previous-pat-uuid')?.Value;
  const others = keeperTokens().filter((p) => p.token !== token);
  expect(others.map((p) => [p.uuid, p.is_active])).toEqual(
    retired && others.length ? [[retired, false]] : [],
  );
  // AWSPENDING on no version but AWSCURRENT's.
  expect(pendingVersion()).toBeUndefined();
}

async function faultThenRecover(fault: Fault | undefined, race?: string) {
  await boot(race);
  if (fault) sandbox.faults.add({ times: 1, ...fault });
  await rotateNow();
  sandbox.faults.clear();
  // AWS reattempts a rotation whose version is still AWSPENDING.
  const pending = pendingVersion();
  if (pending) await rotateNow(pending);
  // The next daily check changes nothing.
  const tokensBefore = JSON.stringify(user().pats.map((p) => [p.uuid, p.is_active, p.deleted]));
  await createCheckCredentialHandler(kit.as('checkCredential'))({}, context);
  expect(JSON.stringify(user().pats.map((p) => [p.uuid, p.is_active, p.deleted]))).toBe(tokensBefore);
  // A following rotation succeeds and leaves the ledger as it should be.
  const following = await rotateNow();
  expect(following, JSON.stringify(following)).toMatchObject({ succeeded: true });
  assertInvariants();
}

const HUB = 'hubapi:';
const ROUTES: Array<[string, string]> = [
  ['Hub API login', `${HUB}POST /v2/auth/token`],
  ['Hub API list tokens', `${HUB}GET /v2/access-tokens`],
  ['Hub API create token', `${HUB}POST /v2/access-tokens`],
  ['Hub API deactivate token', `${HUB}PATCH /v2/access-tokens`],
  ['Hub API delete token', `${HUB}DELETE /v2/access-tokens`],
  ['Docker Hub token realm (testSecret login)', 'hub:GET /token'],
  ['DescribeSecret', 'secretsmanager:DescribeSecret'],
  ['GetSecretValue', 'secretsmanager:GetSecretValue'],
  ['PutSecretValue', 'secretsmanager:PutSecretValue'],
  ['UpdateSecretVersionStage', 'secretsmanager:UpdateSecretVersionStage'],
  ['TagResource', 'secretsmanager:TagResource'],
  ['UntagResource', 'secretsmanager:UntagResource'],
  ['ValidatePullThroughCacheRule', 'ecr:ValidatePullThroughCacheRule'],
];
const failing = (route: string): Fault =>
  route.startsWith('secretsmanager:') || route.startsWith('ecr:')
    ? { match: route, awsError: 'InternalServiceError' }
    : { match: route, status: 503, body: { detail: 'injected: service unavailable' } };

describe('rotation fault matrix', () => {
  it.each(ROUTES)('%s fails before acting', async (_name, route) => {
    await faultThenRecover(failing(route));
  });

  it.each(ROUTES)('%s acts, then the connection drops', async (_name, route) => {
    await faultThenRecover({ match: route, drop: true, afterActing: true });
  });

  it.each(['createSecret', 'setSecret', 'testSecret', 'finishSecret'])(
    'two %s invocations race',
    async (step) => {
      await faultThenRecover(undefined, step);
    },
  );

  it('ECR refuses the new token at finishSecret: rolled back, and the next rotation is not blocked', async () => {
    await boot();
    const before = currentToken();
    sandbox.faults.add({ match: 'ecr:ValidatePullThroughCacheRule', awsError: 'ServerException', times: 5 });
    expect(await rotateNow()).toMatchObject({ succeeded: false });
    expect(currentToken()).toBe(before);
    expect(pendingVersion()).toBeUndefined();
    sandbox.faults.clear();
    expect(await rotateNow()).toMatchObject({ succeeded: true });
    assertInvariants();
  });
});

describe('a guardrail on the secret that refuses the rotation for good (its resource policy)', () => {
  it.each([
    'secretsmanager:PutSecretValue',
    'secretsmanager:TagResource',
    'secretsmanager:UpdateSecretVersionStage',
  ])(
    'denying %s: the rotation fails naming the Deny, AWSCURRENT is unchanged and logs in, and no token is left active outside the secret',
    async (action) => {
      await boot();
      const before = currentToken();
      sandbox.secrets.find(SECRET).resourcePolicy = guardrailPolicy(action);
      const outcome = await rotateNow();
      sandbox.secrets.find(SECRET).resourcePolicy = undefined;
      expect(outcome).toMatchObject({ succeeded: false });
      expect(JSON.stringify(outcome)).toContain(
        `not authorized to perform: ${action} on resource: ${secret().arn} with an explicit deny in a resource-based policy`,
      );
      expect(currentToken()).toBe(before);
      expect(user().pats.find((p) => p.token === before && !p.deleted)?.is_active).toBe(true);
      // A token the rotation minted is either withdrawn or held by the secret (AWSPENDING, for AWS
      // to take up once the guardrail lets it): never active and nowhere to be found.
      const stored = new Set(
        secret().versions.map((v) => {
          try {
            return (JSON.parse(v.value ?? '{}') as { accessToken?: string }).accessToken;
          } catch {
            return undefined;
          }
        }),
      );
      for (const token of keeperTokens().filter((p) => p.is_active))
        expect(stored.has(token.token)).toBe(true);
    },
  );
});
