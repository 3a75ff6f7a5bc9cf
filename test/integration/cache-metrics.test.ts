/** cacheMetrics on the sandbox, over images warmed by the pre-warm code: published values match what the sandbox holds. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { failureLine } from '../../cli/hints.js';
import { runCli } from '../../cli/main.js';
import { createCacheMetricsHandler } from '../../handlers/cacheMetrics.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import { runPrewarm } from '../../lib/prewarm/run.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { INDEX_TYPES } from '../../sandbox/registry/content.js';
import { guardrailPolicy } from '../support/guardrail.js';
import { lambdaContext } from '../support/lambda.js';
import { type SandboxDeps, sandboxDeps } from './support/sandbox-deps.js';

let sandbox: Sandbox;
let kit: SandboxDeps;

beforeAll(async () => {
  sandbox = await startSandbox();
  kit = sandboxDeps(sandbox);
  await reconcile(kit.aws, kit.config);
  await runPrewarm(kit.config.prewarm.images, { ...kit.as('prewarm'), deadline: Date.now() + 120_000 });
});
afterAll(async () => {
  await sandbox.stop();
});

it('publishes totals, per-prefix and per-repository figures equal to the sandbox contents', async () => {
  // One image ages past the stale threshold and one is archived, to exercise both paths.
  const redis = sandbox.ecr.repositories.get('docker-hub/library/redis')!;
  for (const image of redis.images.values()) {
    image.lastRecordedPullTime = undefined;
    image.pushedAt = sandbox.clock.now() - 45 * 86_400_000;
  }
  const busybox = [...sandbox.ecr.repositories.get('docker-hub/library/busybox')!.images.values()][0]!;
  busybox.storageClass = 'ARCHIVE';

  const result = await createCacheMetricsHandler(kit.as('cacheMetrics'))(
    {},
    lambdaContext('cacheMetrics', { remainingMs: 300_000 }),
  );

  let images = 0;
  let bytes = 0;
  for (const repo of sandbox.ecr.repositories.values()) {
    for (const image of repo.images.values()) {
      images++;
      if (!INDEX_TYPES.has(image.manifest.mediaType)) bytes += image.size;
    }
  }
  const ns = 'EcrCacheKeeper';
  expect(sandbox.cloudwatch.latest(ns, 'CacheRepositories')).toBe(sandbox.ecr.repositories.size);
  expect(sandbox.cloudwatch.latest(ns, 'CacheImages')).toBe(images);
  expect(sandbox.cloudwatch.latest(ns, 'CacheBytes')).toBe(bytes);
  expect(sandbox.cloudwatch.latest(ns, 'CacheBytes', { Prefix: 'docker-hub' })).toBe(bytes);
  expect(sandbox.cloudwatch.latest(ns, 'CacheBytesArchive')).toBe(busybox.size);
  expect(sandbox.cloudwatch.latest(ns, 'CacheStaleImages')).toBe(1);
  expect(sandbox.cloudwatch.latest(ns, 'CacheTaggedImages')).toBe(12);
  const largest = result.report.repositories[0]!;
  expect(sandbox.cloudwatch.latest(ns, 'RepositoryBytes', { Repository: largest.name })).toBe(largest.bytes);
  expect(result.published.calls).toBe(1);
});

it('cache-keeper metrics prints the same figures as a table', async () => {
  const out: string[] = [];
  expect(
    await runCli(
      ['metrics'],
      {
        out: (t) => out.push(t),
        err: () => {},
        isTty: false,
        readStdin: async () => '',
      },
      kit.cli,
    ),
  ).toBe(0);
  const text = out.join('\n');
  expect(text).toMatch(/^Cache: 11 repositories, \d+ images \(12 tagged\)/);
  expect(text).toContain('Largest repositories');
  expect(text).toContain('docker-hub/library/redis');
});

it('counts layers shared inside a repository once when exactLayerBytes is on, next to the simple sum', async () => {
  const { storedManifest, MEDIA } = await import('../../sandbox/registry/content.js');
  const repo = sandbox.ecr.createRepository('docker-hub/library/shared', { createdByRule: 'docker-hub' });
  const layer = { mediaType: MEDIA.ociLayer, digest: `sha256:${'a'.repeat(64)}`, size: 1000 };
  for (const [i, tag] of ['1', '2'].entries()) {
    const manifest = storedManifest(
      {
        schemaVersion: 2,
        mediaType: MEDIA.ociManifest,
        config: { mediaType: MEDIA.ociConfig, digest: `sha256:${String(i).repeat(64)}`, size: 100 },
        layers: [layer],
      },
      MEDIA.ociManifest,
    );
    repo.images.set(manifest.digest, {
      digest: manifest.digest,
      manifest,
      size: 1100,
      pushedAt: sandbox.clock.now(),
      storageClass: 'STANDARD',
    });
    repo.tagToDigest.set(tag, manifest.digest);
  }
  const { collectCacheMetrics } = await import('../../lib/metrics/collect.js');
  const { parseConfig } = await import('../../lib/config/load.js');
  const config = parseConfig(
    'rules:\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\nmetrics: { exactLayerBytes: true }\n',
  );
  const report = await collectCacheMetrics(kit.aws.ecr, config);
  const shared = report.repositories.find((r) => r.name === 'docker-hub/library/shared')!;
  expect(shared.bytes).toBe(2200);
  expect(shared.dedupedBytes).toBe(1200);
  expect(report.apiCalls.BatchGetImage).toBe(report.total.repositories);
  expect(report.total.dedupedBytes).toBeLessThan(report.total.bytes);

  // An image expired between the listing and the read of its manifest counts at its full size,
  // as in the simple sum, rather than not at all (a rule of its own, so the walk reads it alone).
  const solo = sandbox.ecr.createRepository('solo/shared', { createdByRule: 'solo' });
  for (const [digest, image] of repo.images) solo.images.set(digest, { ...image });
  for (const [tag, digest] of repo.tagToDigest) solo.tagToDigest.set(tag, digest);
  const second = solo.tagToDigest.get('2')!;
  sandbox.faults.add({ match: 'ecr:BatchGetImage', times: 1, before: () => solo.images.delete(second) });
  const soloConfig = parseConfig(
    'rules:\n  - { prefix: solo, upstream: quay }\nmetrics: { exactLayerBytes: true }\n',
  );
  const raced = await collectCacheMetrics(kit.aws.ecr, soloConfig).finally(() => {
    sandbox.faults.clear();
    sandbox.ecr.repositories.delete('solo/shared');
  });
  const racedShared = raced.repositories.find((r) => r.name === 'solo/shared')!;
  expect(racedShared.bytes).toBe(2200);
  expect(racedShared.dedupedBytes).toBe(2200);
});

it("a failing AWS call names its service and operation, in the CLI and in the function's log", async () => {
  sandbox.faults.add({ match: 'ecr:DescribeImages', awsError: 'ThrottlingException', times: 1000 });
  try {
    const err: string[] = [];
    const io = { out: () => {}, err: (t: string) => err.push(t), isTty: false, readStdin: async () => '' };
    const cli = { ...kit.cli, aws: { ...kit.cli.aws, maxAttempts: 1 } };
    // runCli returns the command's code; a thrown failure is printed by the entry point (failureLine).
    const failure = await runCli(['metrics'], io, cli).catch((error: unknown) => error);
    expect(failureLine(failure)).toMatch(/^ThrottlingException \(ECR DescribeImages\): /);

    const once = sandboxDeps(sandbox, kit.config, { role: 'cacheMetrics', maxAttempts: 1 });
    await expect(
      createCacheMetricsHandler(once.deps)({}, lambdaContext('cacheMetrics', { remainingMs: 300_000 })),
    ).rejects.toThrow();
    const failed = once.logs.find((entry) => entry.message === 'cacheMetrics failed');
    expect(failed?.error).toMatchObject({ name: 'ThrottlingException', operation: 'ECR DescribeImages' });
  } finally {
    sandbox.faults.clear();
  }
});

it('CloudWatch refusing the metrics fails the invocation, but the figures it collected are logged first', async () => {
  sandbox.faults.add({ match: 'cloudwatch:PutMetricData', awsError: 'ThrottlingException' });
  try {
    const once = sandboxDeps(sandbox, kit.config, { role: 'cacheMetrics', maxAttempts: 1 });
    await expect(
      createCacheMetricsHandler(once.deps)({}, lambdaContext('cacheMetrics', { remainingMs: 300_000 })),
    ).rejects.toThrow(/ThrottlingException/);
    const figures = once.logs.find((entry) => entry.message === 'cache metrics');
    expect(figures?.total).toMatchObject({ repositories: expect.any(Number), images: expect.any(Number) });
    expect(figures?.published).toBe(false);
  } finally {
    sandbox.faults.clear();
  }
});

it('a repository deleted while the walk runs is left out, not a reason to lose the hour', async () => {
  // Someone (or a clean-up job) deletes a cached repository between the listing and its images.
  const doomed = 'docker-hub/library/redis';
  const saved = sandbox.ecr.repositories.get(doomed)!;
  sandbox.faults.add({
    match: 'ecr:DescribeImages',
    times: 1,
    before: () => sandbox.ecr.repositories.delete(doomed),
  });
  try {
    const once = sandboxDeps(sandbox, kit.config, { role: 'cacheMetrics', maxAttempts: 1 });
    const result = await createCacheMetricsHandler(once.deps)(
      {},
      lambdaContext('cacheMetrics', { remainingMs: 300_000 }),
    );
    expect(result.report.repositories.map((r) => r.name)).not.toContain(doomed);
    expect(result.report.total.repositories).toBe(sandbox.ecr.repositories.size);
    expect(result.report.vanished).toEqual([doomed]);
    expect(once.logs.find((entry) => entry.message === 'cache metrics')?.vanished).toEqual([doomed]);
    const { formatCacheReport } = await import('../../lib/metrics/format.js');
    expect(formatCacheReport(result.report)).toContain(`Deleted while this ran, left out: ${doomed}.`);
    expect(sandbox.cloudwatch.latest('EcrCacheKeeper', 'CacheRepositories')).toBe(
      sandbox.ecr.repositories.size,
    );
  } finally {
    sandbox.faults.clear();
    sandbox.ecr.repositories.set(doomed, saved);
  }
});

it("a repository whose own policy refuses the keeper's reads is left out and counted, not a reason to lose the hour", async () => {
  // A guardrail: only the platform's admin role may read this repository.
  const guarded = 'docker-hub/library/redis';
  const repo = sandbox.ecr.repositories.get(guarded)!;
  repo.repositoryPolicy = guardrailPolicy(['ecr:Describe*', 'ecr:BatchGetImage']);
  try {
    const once = sandboxDeps(sandbox, kit.config, { role: 'cacheMetrics', maxAttempts: 1 });
    const result = await createCacheMetricsHandler(once.deps)(
      {},
      lambdaContext('cacheMetrics', { remainingMs: 300_000 }),
    );
    expect(result.report.unreadable).toEqual([
      {
        name: guarded,
        prefix: 'docker-hub',
        error: expect.stringContaining('with an explicit deny in a resource-based policy'),
      },
    ]);
    expect(result.report.repositories.map((r) => r.name)).not.toContain(guarded);
    expect(result.report.total.repositories).toBe(sandbox.ecr.repositories.size - 1);
    const ns = 'EcrCacheKeeper';
    expect(sandbox.cloudwatch.latest(ns, 'CacheRepositories')).toBe(sandbox.ecr.repositories.size - 1);
    expect(sandbox.cloudwatch.latest(ns, 'CacheRepositoriesUnreadable')).toBe(1);
    const warning = once.logs.find((entry) => entry.message === 'cache repositories the keeper may not read');
    expect(warning).toMatchObject({ level: 'warn', repositories: [guarded] });
    const { formatCacheReport } = await import('../../lib/metrics/format.js');
    expect(formatCacheReport(result.report)).toContain(
      `Not readable by this caller, left out: ${guarded} (AccessDeniedException:`,
    );
    // Every repository refused is the caller's own permissions, not a guardrail: the hour fails.
    const everything = sandboxDeps(sandbox, kit.config, { maxAttempts: 1 });
    for (const r of sandbox.ecr.repositories.values()) r.repositoryPolicy = repo.repositoryPolicy;
    await expect(
      createCacheMetricsHandler(everything.as('cacheMetrics'))(
        {},
        lambdaContext('cacheMetrics', { remainingMs: 300_000 }),
      ),
    ).rejects.toThrow(/AccessDeniedException|not authorized/);
  } finally {
    for (const r of sandbox.ecr.repositories.values()) r.repositoryPolicy = undefined;
  }
});

it('a repository whose read fails for a moment (throttled past the SDK’s retries) is read again after the walk, not a reason to lose the hour', async () => {
  sandbox.faults.add({ match: 'ecr:DescribeImages', awsError: 'ThrottlingException', times: 2 });
  try {
    const once = sandboxDeps(sandbox, kit.config, { role: 'cacheMetrics', maxAttempts: 1 });
    const result = await createCacheMetricsHandler(once.deps)(
      {},
      lambdaContext('cacheMetrics', { remainingMs: 300_000 }),
    );
    expect(result.report.total.repositories).toBe(sandbox.ecr.repositories.size);
    expect(result.report.unreadable).toEqual([]);
    expect(once.logs.find((e) => e.message === 'cache metrics')?.readAgain).toBe(2);
    expect(sandbox.cloudwatch.latest('EcrCacheKeeper', 'CacheRepositories')).toBe(
      sandbox.ecr.repositories.size,
    );
  } finally {
    sandbox.faults.clear();
  }
});
