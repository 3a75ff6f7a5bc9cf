/**
 * The packaged bundles themselves (not the TypeScript sources) run against the sandbox, each in a
 * process of its own with the environment Lambda would give it: the Lambda-only credential
 * provider reads the environment, and the resolved config is found beside the bundle through
 * LAMBDA_TASK_ROOT.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.stop();
});

/** Invokes a bundle's handler in a fresh Node process, as Lambda would; returns what it printed. */
async function runBundle(root: string, fn: string, event: unknown): Promise<string> {
  const script = `
    const { handler } = require(${JSON.stringify(join(root, 'handlers', `${fn}.cjs`))});
    const context = { awsRequestId: 'b1', getRemainingTimeInMillis: () => 60000 };
    handler(JSON.parse(process.env.EVENT), context).then(
      (result) => process.stdout.write('RESULT ' + JSON.stringify(result) + '\\n'),
      (error) => { process.stdout.write('ERROR ' + error.message + '\\n'); process.exitCode = 1; },
    );`;
  // Asynchronously: the sandbox answering the bundle lives in this process's event loop.
  const run = promisify(execFile)(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      ...sandbox.env,
      LAMBDA_TASK_ROOT: root,
      KEEPER_RESOLVED_CONFIG: 'keeper.resolved.json',
      EVENT: JSON.stringify(event),
    },
  });
  return (await run.catch((failed: { stdout: string }) => failed)).stdout;
}

/** Invokes a bundle's handler; returns its result. */
async function invokeBundle(root: string, fn: string, event: unknown): Promise<unknown> {
  const out = await runBundle(root, fn, event);
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${fn} returned no result:\n${out}`);
  return JSON.parse(line.slice('RESULT '.length));
}

it('the packaged reconcile and pullEvents bundles run with environment credentials and the packaged config', async () => {
  if (!existsSync('.serverless/pullEvents.zip'))
    throw new Error('run `npm run package` first (npm test does)');
  const dir = mkdtempSync(join(tmpdir(), 'keeper-bundle-'));
  for (const fn of ['reconcile', 'pullEvents'])
    execFileSync('unzip', ['-q', '-o', `.serverless/${fn}.zip`, '-d', join(dir, fn)]);

  const report = (await invokeBundle(join(dir, 'reconcile'), 'reconcile', { dryRun: true })) as {
    plan: { changes: Array<{ kind: string }> };
  };
  expect(report.plan.changes.map((c: { kind: string }) => c.kind)).toEqual([
    'create-rule',
    'create-template',
  ]);

  // A failing call is named in the function's log: which service, which operation.
  sandbox.faults.add({
    match: 'ecr:DescribePullThroughCacheRules',
    awsError: 'AccessDeniedException',
    times: 1,
  });
  const failedRun = await runBundle(join(dir, 'reconcile'), 'reconcile', { dryRun: true });
  const failure = failedRun
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .find((entry) => entry.message === 'reconcile failed');
  expect(failure?.error).toMatchObject({
    name: 'AccessDeniedException',
    operation: 'ECR DescribePullThroughCacheRules',
  });

  const event = JSON.parse(readFileSync('events/pull-through-failed.json', 'utf8'));
  await invokeBundle(join(dir, 'pullEvents'), 'pullEvents', event);
  expect(
    sandbox.cloudwatch.latest('EcrCacheKeeper', 'UpstreamPullFailures', {
      Prefix: 'docker-hub',
      FailureCode: 'UpstreamTooManyRequests',
    }),
  ).toBe(1);
});
