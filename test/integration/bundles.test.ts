/**
 * The packaged bundles themselves (not the TypeScript sources) run against the sandbox: the
 * Lambda-only credential provider reads the environment, and the resolved config is found beside
 * the bundle through LAMBDA_TASK_ROOT, as in Lambda.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';

let sandbox: Sandbox;
const saved = { ...process.env };

beforeAll(async () => {
  sandbox = await startSandbox();
  Object.assign(process.env, sandbox.env);
});
afterAll(async () => {
  process.env = saved;
  await sandbox.stop();
});

it('the packaged reconcile and pullEvents bundles run with environment credentials and the packaged config', async () => {
  if (!existsSync('.serverless/pullEvents.zip'))
    throw new Error('run `npm run package` first (npm test does)');
  const dir = mkdtempSync(join(tmpdir(), 'keeper-bundle-'));
  for (const fn of ['reconcile', 'pullEvents'])
    execFileSync('unzip', ['-q', '-o', `.serverless/${fn}.zip`, '-d', join(dir, fn)]);
  const context = { awsRequestId: 'b1', getRemainingTimeInMillis: () => 60_000 };
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    process.env.LAMBDA_TASK_ROOT = join(dir, 'reconcile');
    process.env.KEEPER_RESOLVED_CONFIG = 'keeper.resolved.json';
    const reconcile = await import(join(dir, 'reconcile', 'handlers', 'reconcile.cjs'));
    const report = await reconcile.handler({ dryRun: true }, context);
    expect(report.plan.changes.map((c: { kind: string }) => c.kind)).toEqual([
      'create-rule',
      'create-template',
    ]);

    process.env.LAMBDA_TASK_ROOT = join(dir, 'pullEvents');
    const pullEvents = await import(join(dir, 'pullEvents', 'handlers', 'pullEvents.cjs'));
    const event = JSON.parse(execFileSync('cat', ['events/pull-through-failed.json'], { encoding: 'utf8' }));
    await pullEvents.handler(event, context);
  } finally {
    vi.restoreAllMocks();
  }
  expect(
    sandbox.cloudwatch.latest('EcrCacheKeeper', 'UpstreamPullFailures', {
      Prefix: 'docker-hub',
      FailureCode: 'UpstreamTooManyRequests',
    }),
  ).toBe(1);
});
