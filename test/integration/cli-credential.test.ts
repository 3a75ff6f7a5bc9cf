/** cache-keeper check / rotate / credential stage / credential record on the sandbox. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeSecretCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli as runCliWith } from '../../cli/main.js';
import { createRotateCredentialHandler } from '../../handlers/rotateCredential.js';
import { loadConfig } from '../../lib/config/load.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { captureIo } from '../support/cli-io.js';
import { EXPIRES_DAY } from '../support/configs.js';
import { context } from '../support/lambda.js';
import { type SandboxDeps, sandboxDeps } from './support/sandbox-deps.js';

const ROTATION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:rotateCredential';
let sandbox: Sandbox;
let kit: SandboxDeps;
let configPath: string;
const runCli = (argv: string[], io: ReturnType<typeof captureIo>['io']) => runCliWith(argv, io, kit.cli);

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-cli-'));
  configPath = join(dir, 'keeper.config.yaml');
  writeFileSync(
    configPath,
    readFileSync('keeper.config.yaml', 'utf8').replace('mode: managed', 'mode: staged'),
  );
  sandbox = await startSandbox({ seed: { adminSecret: false, recordPatMetadata: false } });
  kit = sandboxDeps(sandbox, configPath);
  await reconcile(kit.aws, loadConfig(configPath));
  const rotateHandler = createRotateCredentialHandler(kit.as('rotateCredential'));
  sandbox.secrets.rotationFunctions.set(ROTATION_ARN, (event) => rotateHandler(event, context));
});
afterEach(async () => {
  await sandbox.stop();
});

/** `credential stage` with an expiry and the sandbox's rotation function. */
const stageArgs = () => [
  'credential',
  'stage',
  '--config',
  configPath,
  '--expires-at',
  EXPIRES_DAY,
  '--rotation-lambda-arn',
  ROTATION_ARN,
];
/** A new Docker Hub token of the seeded user, as one made by hand in Docker Hub. */
const newPat = (label: string) =>
  sandbox.hubAccounts.createPat(
    sandbox.hubAccounts.users.get(sandbox.seeded!.username)!,
    label,
    ['repo:public_read'],
    `${EXPIRES_DAY}T00:00:00Z`,
  );

/** A rotation started as the console's "Rotate secret immediately" does; the record of how it ended. */
async function rotateAsTheConsoleDoes() {
  await kit.aws.secrets.send(
    new RotateSecretCommand({ SecretId: 'ecr-pullthroughcache/docker-hub', RotationLambdaARN: ROTATION_ARN }),
  );
  await sandbox.secrets.settled();
  return sandbox.secrets.rotations.at(-1);
}
/** Stages a new token by hand and says whether it is AWSCURRENT afterwards. */
async function stagedTokenGoesThrough(): Promise<boolean> {
  const fresh = newPat('made by hand');
  expect(await runCli(stageArgs(), captureIo(fresh.token).io)).toBe(0);
  return (
    JSON.parse(sandbox.secrets.currentValue('ecr-pullthroughcache/docker-hub')!).accessToken === fresh.token
  );
}

/**
 * What a rotation stopped by a failure of the moment leaves behind (the RotateSecret reference:
 * AWSPENDING "might be attached to an empty secret version"), with `value` when it had stored its token.
 */
function leaveUnfinishedRotation(value?: string): string {
  const secret = sandbox.secrets.find('ecr-pullthroughcache/docker-hub');
  const versionId = randomUUID();
  secret.versions.push({ versionId, stages: ['AWSPENDING'], createdAt: sandbox.clock.now(), value });
  return versionId;
}

describe('credential commands', () => {
  it('record makes the expiry known to check', async () => {
    const before = captureIo();
    expect(await runCli(['check', '--config', configPath], before.io)).toBe(0);
    expect(before.out.join('\n')).toMatch(/expiry unknown: cache-keeper credential record/);
    const expires = new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10);
    expect(
      await runCli(['credential', 'record', '--config', configPath, '--expires-at', expires], captureIo().io),
    ).toBe(0);
    const after = captureIo();
    await runCli(['check', '--config', configPath, '--json'], after.io);
    expect(JSON.parse(after.out.join('\n'))[0].expiry).toMatchObject({
      source: 'secret-tags',
      expiresAt: `${expires}T00:00:00.000Z`,
    });
  });

  it('record on a secret that does not exist names it, and writes nothing', async () => {
    await expect(
      runCli(
        [
          'credential',
          'record',
          '--config',
          configPath,
          '--secret',
          'ecr-pullthroughcache/nope',
          '--expires-at',
          EXPIRES_DAY,
        ],
        captureIo().io,
      ),
    ).rejects.toThrow(/^secret ecr-pullthroughcache\/nope: does not exist/);
  });

  it('check --secret checks the rules of that secret only, and refuses one no rule uses', async () => {
    const two = join(mkdtempSync(join(tmpdir(), 'keeper-cli-')), 'keeper.config.yaml');
    writeFileSync(
      two,
      `${readFileSync(configPath, 'utf8').replace('rules:\n', 'rules:\n  - { prefix: ghcr, upstream: ghcr, credentialSecret: ecr-pullthroughcache/ghcr }\n')}`,
    );
    const all = captureIo();
    // The GHCR secret does not exist: checking everything fails on it.
    expect(await runCli(['check', '--config', two, '--json'], all.io)).toBe(1);
    expect(JSON.parse(all.out.join('\n')).map((c: { secretName: string }) => c.secretName)).toEqual([
      'ecr-pullthroughcache/ghcr',
      'ecr-pullthroughcache/docker-hub',
    ]);
    const one = captureIo();
    expect(
      await runCli(
        ['check', '--config', two, '--json', '--secret', 'ecr-pullthroughcache/docker-hub'],
        one.io,
      ),
    ).toBe(0);
    expect(JSON.parse(one.out.join('\n')).map((c: { secretName: string }) => c.secretName)).toEqual([
      'ecr-pullthroughcache/docker-hub',
    ]);
    const none = captureIo();
    expect(await runCli(['check', '--config', two, '--secret', 'ecr-pullthroughcache/nope'], none.io)).toBe(
      2,
    );
    expect(none.err.join('\n')).toMatch(
      /no rule uses the secret ecr-pullthroughcache\/nope \(the rules use ecr-pullthroughcache\/ghcr, ecr-pullthroughcache\/docker-hub\)/,
    );
  });

  it('stage takes a new token from stdin, tests it and promotes it; the check then sees its expiry', async () => {
    const fresh = newPat('made by hand');
    const run = captureIo(`${fresh.token}\n`);
    const code = await runCli([...stageArgs(), '--uuid', fresh.uuid], run.io);
    expect(code).toBe(0);
    expect(sandbox.secrets.rotations.at(-1)).toMatchObject({ succeeded: true });
    expect(JSON.parse(sandbox.secrets.currentValue('ecr-pullthroughcache/docker-hub')!).accessToken).toBe(
      fresh.token,
    );
    expect(run.out.join('\n')).toMatch(new RegExp(`expires ${EXPIRES_DAY}`));
    expect([...run.out, ...run.err].join('\n')).not.toContain(fresh.token);
  });

  it('a rotation started with nothing staged (the console’s "rotate immediately") is refused, and does not block the stage that follows', async () => {
    expect(await rotateAsTheConsoleDoes()).toMatchObject({
      succeeded: false,
      steps: [{ step: 'createSecret', error: expect.stringContaining('no token is staged') }],
    });
    // What the refusal says to do works.
    expect(await stagedTokenGoesThrough()).toBe(true);
  });

  it('a rotation started while rotation is off is refused, and does not block the stage that follows once it is on', async () => {
    const offConfig = join(mkdtempSync(join(tmpdir(), 'keeper-off-')), 'keeper.config.yaml');
    writeFileSync(offConfig, readFileSync(configPath, 'utf8').replace('mode: staged', 'mode: off'));
    const off = createRotateCredentialHandler(sandboxDeps(sandbox, offConfig).as('rotateCredential'));
    const staged = sandbox.secrets.rotationFunctions.get(ROTATION_ARN)!;
    sandbox.secrets.rotationFunctions.set(ROTATION_ARN, (event) => off(event, context));
    expect(await rotateAsTheConsoleDoes()).toMatchObject({
      succeeded: false,
      steps: [{ step: 'createSecret', error: expect.stringContaining('"off"') }],
    });
    // Rotation turned on (staged), the next token staged: it goes through.
    sandbox.secrets.rotationFunctions.set(ROTATION_ARN, staged);
    expect(await stagedTokenGoesThrough()).toBe(true);
  });

  it('stage after a rotation left unfinished takes it up with the staged token: AWS refuses any other rotation until it ends', async () => {
    const unfinished = leaveUnfinishedRotation();
    const out = captureIo();
    expect(await runCli(['check', '--config', configPath], out.io)).toBe(0);
    expect(out.out.join('\n')).toContain(`rotation ${unfinished} has not finished`);
    expect(await stagedTokenGoesThrough()).toBe(true);
    expect(sandbox.secrets.rotations.at(-1)?.token).toBe(unfinished);
  });

  it('stage refuses, before writing anything, while an unfinished rotation holds a token of its own: rotate finishes that one', async () => {
    const theirs = newPat('minted by the unfinished rotation');
    const current = JSON.parse(sandbox.secrets.currentValue('ecr-pullthroughcache/docker-hub')!);
    leaveUnfinishedRotation(JSON.stringify({ username: current.username, accessToken: theirs.token }));
    const versions = sandbox.secrets.find('ecr-pullthroughcache/docker-hub').versions.length;
    const io = captureIo(newPat('made by hand').token);
    await expect(runCli(stageArgs(), io.io)).rejects.toThrow(/cache-keeper rotate/);
    expect(sandbox.secrets.find('ecr-pullthroughcache/docker-hub').versions).toHaveLength(versions);
    // rotate takes it up: its token is tested and promoted.
    const rotated = captureIo();
    expect(
      await runCli(['rotate', '--config', configPath, '--rotation-lambda-arn', ROTATION_ARN], rotated.io),
    ).toBe(0);
    expect(rotated.out.join('\n')).toMatch(/has not finished: taking it up/);
    expect(JSON.parse(sandbox.secrets.currentValue('ecr-pullthroughcache/docker-hub')!).accessToken).toBe(
      theirs.token,
    );
  });

  it('a token saved with a newline after it: check names the field, and stage repairs it', async () => {
    const id = 'ecr-pullthroughcache/docker-hub';
    const saved = JSON.parse(sandbox.secrets.currentValue(id)!) as { username: string; accessToken: string };
    await kit.aws.secrets.send(
      new PutSecretValueCommand({
        SecretId: id,
        SecretString: JSON.stringify({ ...saved, accessToken: `${saved.accessToken}\n` }),
      }),
    );
    const before = captureIo();
    expect(await runCli(['check', '--config', configPath], before.io)).toBe(1);
    expect(before.out.join('\n')).toMatch(/MALFORMED/);
    expect(before.out.join('\n')).toContain(
      '"accessToken" has white space before or after it (a pasted newline?)',
    );
    expect([...before.out, ...before.err].join('\n')).not.toContain(saved.accessToken);

    const fresh = newPat('pasted again');
    const stage = captureIo(`${fresh.token}\n`);
    expect(await runCli(stageArgs(), stage.io)).toBe(0);
    expect(JSON.parse(sandbox.secrets.currentValue(id)!)).toEqual({
      username: saved.username,
      accessToken: fresh.token,
    });
    expect(await runCli(['check', '--config', configPath], captureIo().io)).toBe(0);
  });

  it('stage refuses a token Docker Hub does not accept, and AWSCURRENT stays', async () => {
    const before = sandbox.secrets.currentValue('ecr-pullthroughcache/docker-hub');
    const run = captureIo('dckr_pat_fake-1');
    await runCli(stageArgs(), run.io);
    expect(sandbox.secrets.rotations.at(-1)?.steps.at(-1)).toMatchObject({ step: 'testSecret', ok: false });
    expect(sandbox.secrets.currentValue('ecr-pullthroughcache/docker-hub')).toBe(before);
    expect([...run.out, ...run.err].join('\n')).not.toContain('dckr_pat_fake-1');
  });
  it('rotate and stage name the missing rotation function; stage then writes nothing', async () => {
    const described = () =>
      kit.aws.secrets.send(new DescribeSecretCommand({ SecretId: 'ecr-pullthroughcache/docker-hub' }));
    const before = await described();
    expect(before.RotationLambdaARN).toBeUndefined();
    const missing = /ecr-pullthroughcache\/docker-hub has no rotation function.*--rotation-lambda-arn/;
    await expect(runCli(['rotate', '--config', configPath], captureIo().io)).rejects.toThrow(missing);
    await expect(
      runCli(
        ['credential', 'stage', '--config', configPath, '--expires-at', EXPIRES_DAY],
        captureIo('dckr_pat_fresh-1').io,
      ),
    ).rejects.toThrow(missing);
    expect(sandbox.secrets.rotations).toHaveLength(0);
    const after = await described();
    expect(after.VersionIdsToStages).toEqual(before.VersionIdsToStages);
    expect(after.Tags).toEqual(before.Tags);
  });
});
