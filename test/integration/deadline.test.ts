/**
 * Every AWS call a function makes is cut short before Lambda's timeout: a call still hanging near
 * the end fails in time, naming itself, and the function reports (or fails) while it still can,
 * instead of Lambda killing it with nothing said. The pre-warm's own, finer bounds are tested in
 * prewarm.test.ts.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCacheMetricsHandler } from '../../handlers/cacheMetrics.js';
import { createCheckCredentialHandler } from '../../handlers/checkCredential.js';
import { createReconcileHandler } from '../../handlers/reconcile.js';
import { loadConfig } from '../../lib/config/load.js';
import type { CredentialCheck } from '../../lib/credential/check.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { lambdaContext } from '../support/lambda.js';
import { configFile, type SandboxDeps, sandboxDeps } from './support/sandbox-deps.js';

let sandbox: Sandbox;
let kit: SandboxDeps;
beforeEach(async () => {
  sandbox = await startSandbox();
  kit = sandboxDeps(sandbox);
});
afterEach(async () => {
  await sandbox.stop();
});

const BUDGET_MS = 5_000;

describe('a call still hanging near the end of the invocation', () => {
  it('reconcile: the change is cut short, the report logged, and the invocation fails in time, naming it', async () => {
    sandbox.faults.add({ match: 'ecr:CreateRepositoryCreationTemplate', latencyMs: 30_000 });
    const started = Date.now();
    const outcome = createReconcileHandler(kit.as('reconcile'))(
      {},
      lambdaContext('reconcile', { remainingMs: BUDGET_MS }),
    );
    await expect(outcome).rejects.toThrow(
      /template docker-hub.*CreateRepositoryCreationTemplate cut short at the invocation's deadline/s,
    );
    expect(Date.now() - started).toBeLessThan(BUDGET_MS);
    const report = kit.logs.find((e) => e.message === 'reconcile report');
    expect(report?.failed).toMatchObject({ target: 'template docker-hub' });
    // The rule before it was applied; the next run finishes the template.
    expect(sandbox.ecr.rules.has('docker-hub')).toBe(true);
  }, 40_000);

  it('reconcile: a re-created template whose create is cut short is put back, in time', async () => {
    const seeded = loadConfig('keeper.config.yaml');
    await reconcile(kit.aws, seeded);
    const before = sandbox.ecr.templates.get('docker-hub')!.lifecyclePolicy;
    // Removing the lifecycle policy needs delete + create; the create hangs past the deadline once.
    sandbox.faults.add({ match: 'ecr:CreateRepositoryCreationTemplate', latencyMs: 30_000, times: 1 });
    const path = configFile(
      readFileSync('keeper.config.yaml', 'utf8').replace('      lifecycle:\n        keepLast: 6\n', ''),
    );
    const stack = sandboxDeps(sandbox, path);
    const started = Date.now();
    await expect(
      createReconcileHandler(stack.as('reconcile'))(
        {},
        lambdaContext('reconcile', { remainingMs: BUDGET_MS }),
      ),
    ).rejects.toThrow(/cut short at the invocation's deadline; the previous template was put back/);
    expect(Date.now() - started).toBeLessThan(BUDGET_MS);
    expect(sandbox.ecr.templates.get('docker-hub')?.lifecyclePolicy).toBe(before);
  }, 40_000);

  /** The daily check with `route` hanging 30 s and BUDGET_MS of Lambda time: its report, in time. */
  async function checkWithHanging(route: string): Promise<CredentialCheck> {
    await reconcile(kit.aws, loadConfig('keeper.config.yaml'));
    sandbox.faults.add({ match: route, latencyMs: 30_000 });
    const started = Date.now();
    const [check] = (await createCheckCredentialHandler(kit.as('checkCredential'))(
      {},
      lambdaContext('checkCredential', { remainingMs: BUDGET_MS }),
    )) as CredentialCheck[];
    expect(Date.now() - started).toBeLessThan(BUDGET_MS);
    // Unverified, not invalid: nothing said the token is bad.
    expect(check).toMatchObject({ state: 'unverified', problems: [] });
    expect(
      kit.logs.some((e) => e.message.startsWith('credential ecr-pullthroughcache/docker-hub: unverified')),
    ).toBe(true);
    return check!;
  }

  it.each([
    [
      'ECR validating the rule',
      'ecr:ValidatePullThroughCacheRule',
      /ValidatePullThroughCacheRule.*cut short at the invocation's deadline/,
      true,
    ],
    [
      'the Docker Hub login',
      'hub:GET /token',
      /upstream not reachable: .*cut short at the invocation's deadline/,
      true,
    ],
    // The session came first and took the time: the secret itself could not be read after it.
    ['the Hub API (the admin session)', 'hubapi:', /cut short at the invocation's deadline/, false],
  ])(
    'checkCredential, %s hanging: cut short, the token unverified, the report out in time',
    async (_what, route, why, expiryKnown) => {
      const check = await checkWithHanging(route);
      expect(check.unverified.join(' ')).toMatch(why);
      // What it could learn is still published.
      const days = sandbox.cloudwatch.latest('EcrCacheKeeper', 'CredentialDaysToExpiry', {
        SecretName: 'ecr-pullthroughcache/docker-hub',
      });
      if (expiryKnown) expect(days).toBeGreaterThan(0);
      else expect(days).toBeUndefined();
    },
    40_000,
  );
});

describe('the cache walk that outlasts its function', () => {
  it('cacheMetrics: cut short in time, saying how far it got and what to raise', async () => {
    for (const name of ['docker-hub/library/one', 'docker-hub/library/two', 'docker-hub/library/three'])
      sandbox.ecr.createRepository(name, { createdByRule: 'docker-hub' });
    sandbox.faults.add({ match: 'ecr:DescribeImages', latencyMs: 30_000 });
    const started = Date.now();
    const outcome = createCacheMetricsHandler(kit.as('cacheMetrics'))(
      {},
      lambdaContext('cacheMetrics', { remainingMs: BUDGET_MS }),
    );
    await expect(outcome).rejects.toThrow(
      /^the cache walk read 0 of 3 repositories before the invocation's deadline \(metrics\.concurrency 8\): raise metrics\.concurrency, or the cacheMetrics function's timeout; ECR DescribeImages cut short/,
    );
    expect(Date.now() - started).toBeLessThan(BUDGET_MS);
    const failed = kit.logs.find((e) => e.message === 'cacheMetrics failed');
    expect(JSON.stringify(failed)).toContain('the cache walk read 0 of 3 repositories');
  }, 40_000);
});
