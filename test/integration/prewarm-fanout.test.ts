/**
 * The nightly state machine (deploy/state-machine.cjs), run locally with aws-local-stepfunctions
 * against the sandbox, each step its real handler as its own role, the state machine role's
 * permission checked before each invocation.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.js';
import { nightHandlers } from '../../cli/night.js';
import { type KeeperConfig, loadConfig, parseConfig } from '../../lib/config/load.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import { type LocalNightOptions, runNightLocally } from '../../lib/prewarm/local-execution.js';
import type { PrewarmReport } from '../../lib/prewarm/report.js';
import { PULLED_BY_PLAN, runPrewarm } from '../../lib/prewarm/run.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { captureIo } from '../support/cli-io.js';
import { type SandboxDeps, sandboxDeps } from './support/sandbox-deps.js';

let sandbox: Sandbox;
let kit: SandboxDeps;

beforeEach(async () => {
  sandbox = await startSandbox();
  kit = sandboxDeps(sandbox);
  await reconcile(kit.aws, loadConfig('keeper.config.yaml'));
});
afterEach(async () => {
  await sandbox.stop();
});

const withFanOut = (
  config: KeeperConfig,
  fanOut: Partial<KeeperConfig['prewarm']['fanOut']>,
): KeeperConfig => ({
  ...config,
  prewarm: { ...config.prewarm, fanOut: { ...config.prewarm.fanOut, ...fanOut } },
});

const night = (config: KeeperConfig, s = sandbox, options: Partial<LocalNightOptions> = {}) => {
  const k = sandboxDeps(s, config);
  return runNightLocally({
    config,
    handlers: nightHandlers((fn) => k.as(fn)),
    authorizeInvoke: (arn) => s.authorizeStateMachineInvoke(arn),
    ...options,
  });
};

/** A report without what differs between any two runs (times, the sandbox's port). */
const comparable = (report: PrewarmReport) => ({
  counts: report.counts,
  upstreamPulls: report.upstreamPulls.estimated,
  images: report.images.map(({ durationMs: _d, cacheReference, ...line }) => ({
    ...line,
    cacheReference: cacheReference.replace(/^[^/]*:\d+\//, ''),
  })),
});

/**
 * A sandbox with four new images of 3 platforms each, one configured, every night fanned out;
 * 27 Docker Hub pulls left and 20 kept in reserve.
 */
async function freshWideImages(): Promise<KeeperConfig> {
  const names = ['fresh1', 'fresh2', 'fresh3', 'fresh4'];
  const config = withFanOut(
    parseConfig(
      `rules:\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\nprewarm:\n  platforms: [linux/amd64]\n  reserveUpstreamPulls: 20\n  images: [${names.map((n) => `library/${n}:1`).join(', ')}]\n`,
    ),
    { minImages: 0 },
  );
  await sandbox.stop();
  sandbox = await startSandbox();
  for (const name of names)
    sandbox.hub.publish(`library/${name}`, '1', { platforms: ['linux/amd64', 'linux/arm64', 'linux/s390x'] });
  await reconcile(sandboxDeps(sandbox, config).aws, config);
  sandbox.hub.setRemaining('keeper-ci', 27);
  return config;
}

describe('the nightly state machine, locally', () => {
  it('fans a night out over warmImage: every image warmed, the pulls a single run spends', async () => {
    const config = withFanOut(loadConfig('keeper.config.yaml'), { minImages: 0 });
    const report = await night(config);
    expect(report.fanOut).toEqual({ mode: 'fan-out', invocations: 12 });
    expect(report.counts).toMatchObject({ warmed: 12, failed: 0, deferred: 0 });
    expect(report.upstreamPulls.estimated).toBe(17);
    expect(sandbox.hub.pulls).toHaveLength(17);
    expect(report.metrics).toEqual({ published: true });
  });

  it('a night that fits one invocation reports the same, fanned out, in the plan step, or as a single run', async () => {
    const config = loadConfig('keeper.config.yaml');
    const fanned = withFanOut(config, { minImages: 0 });
    const others = await Promise.all([startSandbox(), startSandbox()]);
    try {
      for (const s of others) await reconcile(sandboxDeps(s, config).aws, config);
      const [viaPlan, viaMap, single] = await Promise.all([
        night(config),
        night(fanned, others[0]),
        runPrewarm(config.prewarm.images, {
          ...sandboxDeps(others[1]!, config).as('prewarm'),
          deadline: Date.now() + 600_000,
        }),
      ]);
      expect(viaPlan.fanOut).toEqual({ mode: 'inline', invocations: 0 });
      expect(viaMap.fanOut).toEqual({ mode: 'fan-out', invocations: 12 });
      // The plan pulls the night's first new multi-platform image itself (to learn how wide such
      // images are) and says so on its line; the rest of the report is the single run's.
      for (const fanned of [viaPlan, viaMap]) {
        const pulledByPlan = fanned.images.filter((i) => i.reason?.startsWith(PULLED_BY_PLAN));
        expect(pulledByPlan.map((i) => i.image)).toEqual(['node:22-alpine']);
        expect(pulledByPlan[0]!.reason).toBe(`${PULLED_BY_PLAN}; then 6 missing layer(s) filled in`);
        pulledByPlan[0]!.reason = 'new';
        expect(comparable(fanned)).toEqual(comparable(single));
      }
      // What Docker Hub counted, read from its quota answers: in one invocation the plan's pull
      // counts as well as the run's (the metric UpstreamPullsSpent is this figure).
      expect(single.upstreamPulls.measured).toBe(17);
      expect(viaPlan.upstreamPulls.measured).toBe(17);
    } finally {
      await Promise.all(others.map((s) => s.stop()));
    }
  });

  it('new multi-platform images fanned out keep the reserve: the plan learns how wide they are before it approves them', async () => {
    const config = await freshWideImages();
    const report = await night(config);
    // As a single run: one pulled to learn the width (3), one more at 3 (21 left), two deferred.
    expect(report.counts).toMatchObject({ warmed: 2, deferred: 2, failed: 0 });
    expect(report.upstreamPulls.estimated).toBe(6);
    expect(sandbox.hub.remaining('keeper-ci')).toBe(21);
    // The plan's pull is on its image's line, whose layers a worker filled.
    const probe = report.images.find((i) => i.reason?.startsWith('pulled by the plan step'))!;
    expect(probe).toMatchObject({ status: 'warmed', upstreamPulls: 3 });
    expect(probe.reason).toMatch(/; then \d+ missing layer\(s\) filled in$/);
    expect(report.fanOut).toEqual({ mode: 'fan-out', invocations: 2 });
  });

  it('a worker holds a new multi-platform image to the reserve at the width the plan learnt, when CI pulled meanwhile', async () => {
    const config = await freshWideImages();
    const k = sandboxDeps(sandbox, config);
    const handlers = nightHandlers((fn) => k.as(fn));
    const report = await runNightLocally({
      config,
      handlers: {
        ...handlers,
        // The plan pulls one (3 platforms: 24 left) and approves one more at 3 (21 left, 20 kept);
        // then CI pulls 2 before the workers start: 22 left, so that image no longer fits.
        prewarmPlan: async (event, context) => {
          const plan = await handlers.prewarmPlan(event, context);
          sandbox.hub.setRemaining('keeper-ci', sandbox.hub.remaining('keeper-ci')! - 2);
          return plan;
        },
      },
      authorizeInvoke: (arn) => sandbox.authorizeStateMachineInvoke(arn),
    });
    expect(sandbox.hub.remaining('keeper-ci')).toBe(22);
    expect(report.counts).toMatchObject({ warmed: 1, deferred: 3, failed: 0 });
    expect(report.images.filter((i) => i.status === 'deferred').map((i) => i.reason)).toContainEqual(
      expect.stringMatching(/22 pulls left; pulling needs 3 and 20 are kept in reserve/),
    );
  });

  it('runs at most 40 warmImage invocations at once, as a Map state on AWS does, whatever the definition asks', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `library/many${i}`);
    for (const name of names) sandbox.hub.publish(name, '1', {});
    const config = withFanOut(
      parseConfig(
        `rules:\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\nprewarm:\n  images: [${names.map((n) => `${n}:1`).join(', ')}]\n`,
      ),
      // What the config refuses, as a hand-edited definition could ask it.
      { minImages: 0, maxConcurrency: 60 },
    );
    const k = sandboxDeps(sandbox, config);
    const handlers = nightHandlers((fn) => k.as(fn));
    let running = 0;
    let most = 0;
    const report = await runNightLocally({
      config,
      handlers: {
        ...handlers,
        warmImage: async (event, context) => {
          most = Math.max(most, ++running);
          await new Promise((resolve) => setTimeout(resolve, 50));
          try {
            return await handlers.warmImage(event, context);
          } finally {
            running--;
          }
        },
      },
      authorizeInvoke: (arn) => sandbox.authorizeStateMachineInvoke(arn),
    });
    expect(report.fanOut).toEqual({ mode: 'fan-out', invocations: 50 });
    expect(most).toBe(40);
  });

  it('a warmImage that crashes costs only its own image: the report names it, the others keep their results', async () => {
    const config = withFanOut(loadConfig('keeper.config.yaml'), { minImages: 0 });
    const k = sandboxDeps(sandbox, config);
    const handlers = nightHandlers((fn) => k.as(fn));
    const warm = handlers.warmImage;
    handlers.warmImage = async (event, context) => {
      if ((event as { image: string }).image === 'redis:7') {
        const crash = new Error('RequestId: 1 Error: Runtime exited with error: signal: killed');
        crash.name = 'Runtime.ExitError';
        throw crash;
      }
      return warm(event, context);
    };
    const report = await night(config, sandbox, { handlers });
    const redis = report.images.find((i) => i.image === 'redis:7')!;
    expect(redis).toMatchObject({ status: 'failed', cause: 'other' });
    expect(redis.reason).toMatch(/warmImage did not return \(Runtime\.ExitError: .*signal: killed\)/);
    expect(report.counts).toMatchObject({ warmed: 11, failed: 1 });
    expect(report.images.map((i) => i.image)).toEqual(config.prewarm.images.map((i) => i.original));
  });

  it('the state machine role may invoke its three functions and nothing else', async () => {
    const config = loadConfig('keeper.config.yaml');
    const base = 'arn:aws:lambda:us-east-1:123456789012:function:ecr-cache-keeper-local-';
    for (const fn of ['prewarmPlan', 'warmImage', 'prewarmReport'])
      expect(() => sandbox.authorizeStateMachineInvoke(`${base}${fn}`)).not.toThrow();
    for (const fn of ['prewarm', 'rotateCredential', 'reconcile'])
      expect(() => sandbox.authorizeStateMachineInvoke(`${base}${fn}`)).toThrow(
        /not authorized to perform: lambda:InvokeFunction/,
      );
    // A run whose plan step were another function: refused before it runs, the execution fails.
    await expect(night(config, sandbox, { stage: 'other' })).rejects.toThrow(
      /execution .* failed .*AccessDenied|not authorized/,
    );
    expect(sandbox.hub.pulls).toHaveLength(0);
  });
});

describe('deferred work goes first the next night', () => {
  it.each([
    ['one invocation', false],
    ['the state machine, fanned out', true],
  ])('%s: what the budget deferred tonight is warmed first tomorrow', async (_, fanned) => {
    const base = loadConfig('keeper.config.yaml');
    const config = withFanOut(
      { ...base, prewarm: { ...base.prewarm, maxUpstreamPullsPerRun: 6 } },
      { minImages: fanned ? 0 : 25 },
    );
    const run = () =>
      fanned
        ? night(config)
        : runPrewarm(config.prewarm.images, {
            ...sandboxDeps(sandbox, config).as('prewarm'),
            deadline: Date.now() + 600_000,
          });
    const first = await run();
    const deferred = first.images.filter((i) => i.status === 'deferred').map((i) => i.image);
    expect(deferred.length).toBeGreaterThan(3);
    const second = await run();
    const order = second.images.map((i) => i.image);
    // Tonight starts where last night's deferrals began; the images before it come last.
    expect(order[0]).toBe(deferred[0]);
    const before = first.images
      .slice(
        0,
        first.images.findIndex((i) => i.image === deferred[0]),
      )
      .map((i) => i.image);
    expect(before.length).toBeGreaterThan(0);
    const lastDeferred = Math.max(...deferred.map((d) => order.indexOf(d)));
    for (const image of before) expect(order.indexOf(image)).toBeGreaterThan(lastDeferred);
    expect(
      second.images.filter((i) => deferred.includes(i.image) && i.status === 'warmed').length,
    ).toBeGreaterThan(0);
  });
});

describe('cache-keeper prewarm --fan-out', () => {
  it('runs the night through the state machine here, with the same report', async () => {
    const io = captureIo();
    expect(await runCli(['prewarm', '--fan-out', '--json'], io.io, kit.cli)).toBe(0);
    const report = JSON.parse(io.out.join('\n')) as PrewarmReport;
    expect(report.fanOut).toEqual({ mode: 'inline', invocations: 0 });
    expect(report.counts).toMatchObject({ warmed: 12, failed: 0 });
    const again = captureIo();
    expect(await runCli(['prewarm', '--fan-out', 'alpine:3.20'], again.io, kit.cli)).toBe(0);
    expect(again.out.join('\n')).toMatch(/alpine:3\.20 +skipped/);
  });

  it('refuses --dry-run with --fan-out', async () => {
    const io = captureIo();
    expect(await runCli(['prewarm', '--fan-out', '--dry-run'], io.io, kit.cli)).toBe(2);
    expect(io.err.join('\n')).toMatch(/--dry-run and --fan-out do not go together/);
  });
});

describe('a night bigger than one invocation', () => {
  // 60 images whose layers take 20 s each to come through the cache; every invocation may run 60 s.
  const images = Array.from({ length: 60 }, (_, i) => ({
    repository: `library/big${i}`,
    tag: '1',
    platforms: i % 3 === 0 ? ['linux/amd64', 'linux/arm64'] : ['linux/amd64'],
    layerSizes: [64 * 1024],
  }));
  const yaml = `rules:
  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub, template: { lifecycle: { keepLast: 6 } } }
prewarm:
  platforms: [linux/amd64, linux/arm64]
  concurrency: 8
  maxUpstreamPullsPerRun: 1000
  fanOut: { minImages: 25, maxConcurrency: 40, imageTimeoutSeconds: 60 }
  images: [${images.map((i) => `"${i.repository.replace('library/', '')}:1"`).join(', ')}]
`;
  const boot = async (slowLayers: boolean) => {
    const s = await startSandbox({ seed: { images, pullLimit: 100_000 } });
    const config = parseConfig(yaml);
    await reconcile(sandboxDeps(s, config).aws, config);
    if (slowLayers)
      s.faults.add({ match: /^registry:GET \/v2\/docker-hub\/library\/big\d+\/blobs\//, latencyMs: 20_000 });
    return { s, config };
  };

  it('one invocation defers most of it; the fanned-out night warms all of it and spends the same pulls', async () => {
    const [single, fanned, reference] = await Promise.all([boot(true), boot(true), boot(false)]);
    try {
      const [one, many, fits] = await Promise.all([
        runPrewarm(single.config.prewarm.images, {
          ...sandboxDeps(single.s, single.config).as('prewarm'),
          deadline: Date.now() + 60_000,
        }),
        night(fanned.config, fanned.s),
        // The same night with time enough for one invocation: the pulls it costs.
        runPrewarm(reference.config.prewarm.images, {
          ...sandboxDeps(reference.s, reference.config).as('prewarm'),
          deadline: Date.now() + 600_000,
        }),
      ]);
      expect(one.counts.deferred).toBeGreaterThan(30);
      expect(many.fanOut).toEqual({ mode: 'fan-out', invocations: 60 });
      expect(many.counts).toMatchObject({ warmed: 60, deferred: 0, failed: 0 });
      expect(fits.counts.warmed).toBe(60);
      expect(many.upstreamPulls.estimated).toBe(fits.upstreamPulls.estimated);
      expect(fanned.s.hub.pulls).toHaveLength(reference.s.hub.pulls.length);
    } finally {
      await Promise.all([single.s.stop(), fanned.s.stop(), reference.s.stop()]);
    }
  }, 120_000);
});

describe('a big unchanged night', () => {
  it('1,000 unchanged images (the config allows 1,000) cross the state machine within 256 KiB, and every one is counted', async () => {
    const images = Array.from({ length: 1000 }, (_, i) => ({
      repository: `team-${i % 7}/service-image-${i}`,
      tag: '1',
      platforms: ['linux/amd64', 'linux/arm64'],
    }));
    const s = await startSandbox({ seed: { images, pullLimit: 100_000 } });
    try {
      const config = parseConfig(`rules:
  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }
prewarm:
  platforms: [linux/amd64, linux/arm64]
  maxUpstreamPullsPerRun: 2000
  images: [${images.map((i) => `"${i.repository}:1"`).join(', ')}]
`);
      const k = sandboxDeps(s, config);
      await reconcile(k.aws, config);
      const cold = await runPrewarm(config.prewarm.images, {
        ...k.as('prewarm'),
        deadline: Date.now() + 600_000,
      });
      expect(cold.counts.warmed).toBe(1000);
      const logged = k.logs.length;
      const report = await runNightLocally({
        config,
        handlers: nightHandlers((fn) => k.as(fn)),
        authorizeInvoke: (arn) => s.authorizeStateMachineInvoke(arn),
      });
      expect(report.counts).toMatchObject({ skipped: 1000, failed: 0, deferred: 0 });
      // The execution's output could not carry 1,000 lines: the unchanged ones are left out, said so,
      // and each is in the plan step's log, whole.
      expect(report.images).toEqual([]);
      expect(report.unlisted).toEqual({ count: 1000, reason: expect.stringMatching(/256 KiB.*skipped/) });
      // The last line logged for each image: the plan's, or the worker's that checked its layers.
      const lines = new Map(
        k.logs
          .slice(logged)
          .filter((e) => e.message === 'image')
          .map((e) => [e.image, e]),
      );
      expect([...lines.keys()].sort()).toEqual(images.map((i) => `${i.repository}:1`).sort());
      for (const line of lines.values())
        expect(line).toMatchObject({
          status: 'skipped',
          cacheReference: expect.stringMatching(/:\d+\/docker-hub\/team-\d\/service-image-\d+:1$/),
          upstreamDigest: expect.stringMatching(/^sha256:/),
        });
    } finally {
      await s.stop();
    }
  }, 120_000);
});
