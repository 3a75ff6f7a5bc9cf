/** pullEvents: the sandbox's ECR pull-through events become metrics and log lines; bad events are refused. */
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { handler } from '../../handlers/pullEvents.js';
import { createAwsClients } from '../../lib/aws/clients.js';
import { loadConfig } from '../../lib/config/load.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import { runPrewarm } from '../../lib/prewarm/run.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { useSandboxEnv } from './support/env.js';

let sandbox: Sandbox;
let restore: () => void;
const context = { awsRequestId: 'e1', getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

beforeAll(async () => {
  sandbox = await startSandbox();
  restore = useSandboxEnv(sandbox, { KEEPER_CONFIG: 'keeper.config.yaml' });
});
afterAll(async () => {
  restore();
  await sandbox.stop();
});

it('counts failed upstream pulls per prefix and failure code, and names the image in the log', async () => {
  const aws = createAwsClients();
  const config = loadConfig('keeper.config.yaml');
  await reconcile(aws, config);
  sandbox.faults.add({ match: 'hub:GET /v2/library/redis/manifests', status: 500 });
  await runPrewarm(config.prewarm.images.slice(7, 9), {
    ecr: aws.ecr,
    secrets: aws.secrets,
    config,
    deadline: Date.now() + 60_000,
  });
  const events = sandbox.ecrRegistry.events;
  expect(events.some((e) => e.detail['sync-status'] === 'FAILED')).toBe(true);

  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((l) => lines.push(String(l)) > 0);
  for (const event of events) await handler(event, context);
  spy.mockRestore();

  const failures = events.filter((e) => e.detail['sync-status'] === 'FAILED').length;
  const total = sandbox.cloudwatch.datums.filter(
    (d) => d.metricName === 'UpstreamPullFailures' && Object.keys(d.dimensions).length === 0,
  );
  expect(total).toHaveLength(failures);
  const byCode = sandbox.cloudwatch.datums.find(
    (d) => d.metricName === 'UpstreamPullFailures' && d.dimensions.FailureCode,
  );
  expect(byCode?.dimensions).toEqual({ Prefix: 'docker-hub', FailureCode: 'UpstreamUnavailable' });
  expect(lines.some((l) => l.includes('upstream pull failed: docker-hub/library/redis:7'))).toBe(true);
});

it('refuses an event that is not an ECR pull-through event', async () => {
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  await expect(
    handler({ source: 'aws.s3', 'detail-type': 'Object Created', detail: {} }, context),
  ).rejects.toThrow(/expected source aws.ecr/);
  await expect(
    handler({ source: 'aws.ecr', 'detail-type': 'ECR Pull Through Cache Action', detail: {} }, context),
  ).rejects.toThrow(/sync-status and repository-name/);
  spy.mockRestore();
});
