/**
 * No fragment of a secret reaches any output. Every token and password the sandbox knows (the seeded
 * PAT, the admin password, every PAT a rotation mints, a staged token), in valid, malformed and
 * half-JSON secrets, goes through every handler and command; then everything captured (stdout,
 * stderr, log entries, reports, thrown errors with their causes, the metrics the sandbox received,
 * the cycle's log file) is searched for any 8-character piece of each (the fixed `dckr_pat_` prefix
 * aside).
 */
import { readFileSync } from 'node:fs';
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { runCycle } from '../../cli/cycle/run.js';
import { runCli } from '../../cli/main.js';
import { createCheckCredentialHandler } from '../../handlers/checkCredential.js';
import { createPrewarmHandler } from '../../handlers/prewarm.js';
import { createReconcileHandler } from '../../handlers/reconcile.js';
import { createRotateCredentialHandler } from '../../handlers/rotateCredential.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { captureIo } from '../support/cli-io.js';
import { EXPIRES_DAY } from '../support/configs.js';
import { context } from '../support/lambda.js';
import { type SandboxDeps, sandboxDeps } from './support/sandbox-deps.js';

const SECRET = 'ecr-pullthroughcache/docker-hub';
const ADMIN = 'ecr-cache-keeper/dockerhub-admin';
const ROTATION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:ecr-cache-keeper-test-rotateCredential';

let sandbox: Sandbox;
let kit: SandboxDeps;
const captured: string[] = [];
const secretsSeen = new Set<string>();

/** An error with its causes, as fully as a logger or a person could ever see it. */
function describeError(error: unknown, depth = 0): string {
  if (!(error instanceof Error) || depth > 8) return String(error);
  return `${error.name}: ${error.message}\n${error.stack ?? ''}\n${describeError(error.cause, depth + 1)}`;
}

async function capture(what: string, fn: () => Promise<unknown>) {
  try {
    captured.push(`${what}: ${JSON.stringify(await fn())}`);
  } catch (error) {
    captured.push(`${what} threw: ${describeError(error)}`);
  }
}

const setValue = (secretId: string, value: string) => {
  sandbox.secrets.find(secretId).versions.find((v) => v.stages.includes('AWSCURRENT'))!.value = value;
};
const rememberSecrets = () => {
  for (const user of sandbox.hubAccounts.users.values()) {
    secretsSeen.add(user.password);
    for (const pat of user.pats) secretsSeen.add(pat.token);
  }
};

beforeAll(async () => {
  const write = (chunk: unknown) => captured.push(String(chunk)) > 0;
  vi.spyOn(process.stdout, 'write').mockImplementation(write);
  vi.spyOn(process.stderr, 'write').mockImplementation(write);

  // The nightly cycle, its result and its log file.
  const cycle = await runCycle();
  captured.push(JSON.stringify(cycle), readFileSync(cycle.logFile, 'utf8'));

  sandbox = await startSandbox();
  kit = sandboxDeps(sandbox);
  const rotate = createRotateCredentialHandler(kit.as('rotateCredential'));
  sandbox.secrets.rotationFunctions.set(ROTATION_ARN, (event) => rotate(event, context));
  const cli = async (argv: string[], stdin = '') => {
    const io = captureIo(stdin);
    await capture(`cache-keeper ${argv.join(' ')}`, () => runCli(argv, io.io, kit.cli));
    captured.push(...io.out, ...io.err);
  };
  const handlers = {
    reconcile: createReconcileHandler(kit.as('reconcile')),
    check: createCheckCredentialHandler(kit.as('checkCredential')),
    prewarm: createPrewarmHandler(kit.as('prewarm')),
  };
  const everything = async (label: string) => {
    await capture(`${label} check`, () => handlers.check({}, context));
    await capture(`${label} prewarm`, () => handlers.prewarm({ images: ['alpine:3.20'] }, context));
    await capture(`${label} rotate`, async () => {
      const started = await kit.aws.secrets.send(
        new RotateSecretCommand({ SecretId: SECRET, RotationLambdaARN: ROTATION_ARN }),
      );
      await sandbox.secrets.settled();
      return started;
    });
    for (const argv of [
      ['check'],
      ['check', '--json'],
      ['credential', 'cleanup'],
      ['prewarm', 'busybox:1.36'],
      // The nightly state machine's three steps, run here with the same secrets.
      ['prewarm', '--fan-out', 'busybox:1.36'],
    ])
      await cli(argv);
    captured.push(JSON.stringify(sandbox.secrets.rotations));
    rememberSecrets();
  };

  await capture('reconcile', () => handlers.reconcile({}, context));
  await cli(['validate']);
  await cli(['plan', '--json']);
  await everything('valid');
  // A token staged by hand, from standard input.
  const staged = sandbox.hubAccounts.createPat(
    sandbox.hubAccounts.users.get(sandbox.seeded!.username)!,
    'made by hand',
    ['repo:public_read'],
    `${EXPIRES_DAY}T00:00:00Z`,
  );
  await cli(
    ['credential', 'stage', '--expires-at', EXPIRES_DAY, '--rotation-lambda-arn', ROTATION_ARN],
    staged.token,
  );
  await cli(['credential', 'record', '--expires-at', EXPIRES_DAY]);
  rememberSecrets();

  const { username, password } = sandbox.seeded!;
  const token = JSON.parse(sandbox.secrets.currentValue(SECRET)!).accessToken as string;
  // Malformed and half-JSON secrets, each holding real secret text.
  for (const [label, credential, admin] of [
    ['half-JSON admin', undefined, `{"username":"${username}","password":${password}}`],
    ['cut-off admin', undefined, `{"username":"${username}","password":"${password}`],
    ['half-JSON credential', `{"username":"${username}","accessToken":${token}}`, undefined],
    ['not JSON at all', token, `${password}`],
    [
      'wrong fields',
      `{"user":"${username}","token":"${token}"}`,
      `{"user":"${username}","pass":"${password}"}`,
    ],
  ] as const) {
    if (credential) setValue(SECRET, credential);
    if (admin) setValue(ADMIN, admin);
    await everything(label);
  }
  captured.push(JSON.stringify(kit.logs), JSON.stringify(sandbox.cloudwatch.datums));
}, 120_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await sandbox.stop();
});

it('ran through every secret, valid and broken', () => {
  // Seeded PAT, admin password, minted PATs and the staged one.
  expect(secretsSeen.size).toBeGreaterThanOrEqual(4);
  expect(captured.join('\n').length).toBeGreaterThan(10_000);
});

it('no 8-character piece of any token or password appears in any output', () => {
  const text = captured.join('\n');
  const leaks: string[] = [];
  for (const secret of secretsSeen) {
    const body = secret.replace(/^dckr_pat_/, '');
    for (let i = 0; i + 8 <= body.length; i++) {
      const piece = body.slice(i, i + 8);
      if (text.includes(piece)) {
        const at = text.indexOf(piece);
        leaks.push(`${piece} … ${text.slice(Math.max(0, at - 60), at + 20).replace(/\s+/g, ' ')}`);
        break;
      }
    }
  }
  expect(leaks).toEqual([]);
});
