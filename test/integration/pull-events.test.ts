/** pullEvents: the sandbox's ECR pull-through events become metrics and log lines; bad events are refused. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPullEventsHandler } from '../../handlers/pullEvents.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import { runPrewarm } from '../../lib/prewarm/run.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { context } from '../support/lambda.js';
import { type SandboxDeps, sandboxDeps } from './support/sandbox-deps.js';

let sandbox: Sandbox;
let kit: SandboxDeps;
const handler = (event: unknown, ctx = context) => createPullEventsHandler(kit.as('pullEvents'))(event, ctx);

beforeAll(async () => {
  sandbox = await startSandbox();
  kit = sandboxDeps(sandbox);
});
afterAll(async () => {
  await sandbox.stop();
});

it('counts failed upstream pulls per prefix and failure code, and names the image in the log', async () => {
  const { aws, config } = kit;
  await reconcile(aws, config);
  sandbox.faults.add({ match: 'hub:GET /v2/library/redis/manifests', status: 500 });
  await runPrewarm(config.prewarm.images.slice(7, 9), {
    ...kit.as('prewarm'),
    deadline: Date.now() + 60_000,
  });
  const events = sandbox.ecrRegistry.events;
  expect(events.some((e) => e.detail['sync-status'] === 'FAILED')).toBe(true);

  for (const event of events) await handler(event, context);
  const lines = kit.logs.map((entry) => JSON.stringify(entry));

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
  await expect(
    handler({ source: 'aws.s3', 'detail-type': 'Object Created', detail: {} }, context),
  ).rejects.toThrow(/expected source aws.ecr/);
  await expect(
    handler({ source: 'aws.ecr', 'detail-type': 'ECR Pull Through Cache Action', detail: {} }, context),
  ).rejects.toThrow(/sync-status and repository-name/);
});

it('CloudWatch refusing the metric fails the invocation (Lambda retries it), but the failed pull is logged first', async () => {
  const failed = JSON.parse(readFileSync('events/pull-through-failed.json', 'utf8'));
  const once = sandboxDeps(sandbox, kit.config, { maxAttempts: 1 });
  sandbox.faults.add({ match: 'cloudwatch:PutMetricData', awsError: 'ThrottlingException' });
  try {
    await expect(createPullEventsHandler(once.as('pullEvents'))(failed, context)).rejects.toThrow(
      /ThrottlingException/,
    );
    expect(once.logs.some((entry) => entry.message.startsWith('upstream pull failed: '))).toBe(true);
  } finally {
    sandbox.faults.clear();
  }
});
