/**
 * npm run bench:prewarm — 100 images (a third multi-platform), 50 ms injected upstream latency.
 * The keeper (concurrency 8, digest comparison) side by side with a naive baseline that pulls
 * every image from Docker Hub every night, one at a time: upstream pulls on the second night, and
 * wall time on the first, cold night. Medians of BENCH_RUNS runs (default 3), fresh sandbox each.
 */
import { createAwsClients } from '../lib/aws/clients.js';
import { type KeeperConfig, parseConfig } from '../lib/config/load.js';
import { reconcile } from '../lib/ecr/reconcile.js';
import { runPrewarm } from '../lib/prewarm/run.js';
import { RegistryClient } from '../lib/registry/client.js';
import { isIndex } from '../lib/registry/media-types.js';
import { type Sandbox, startSandbox } from '../sandbox/index.js';
import { median, ms, printTable } from './table.js';

const IMAGES = 100;
const LATENCY_MS = 50;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PLATFORMS = ['linux/amd64', 'linux/arm64'];

const seedImages = Array.from({ length: IMAGES }, (_, i) => ({
  repository: `library/img${i}`,
  tag: '1',
  platforms: i % 3 === 0 ? PLATFORMS : ['linux/amd64'],
}));

async function boot(): Promise<{ sandbox: Sandbox; config: KeeperConfig }> {
  const sandbox = await startSandbox({ seed: { images: seedImages, pullLimit: 10_000 } });
  const config = parseConfig(`
rules:
  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub, template: { lifecycle: { keepLast: 6 } } }
prewarm:
  platforms: [linux/amd64, linux/arm64]
  concurrency: 8
  maxUpstreamPullsPerRun: 1000
  images: [${seedImages.map((i) => `"${i.repository.replace('library/', '')}:${i.tag}"`).join(', ')}]
`);
  await reconcile(createAwsClients(sandbox.clientOptions), config);
  sandbox.faults.add({ match: 'hub:', latencyMs: LATENCY_MS });
  return { sandbox, config };
}

async function keeperNight(sandbox: Sandbox, config: KeeperConfig) {
  const aws = createAwsClients(sandbox.clientOptions);
  return runPrewarm(config.prewarm.images, {
    ecr: aws.ecr,
    secrets: aws.secrets,
    endpoints: sandbox.endpoints,
    config,
    deadline: Date.now() + 3_600_000,
  });
}

/** The naive nightly job: docker-pull every image from Docker Hub, one at a time, all of it. */
async function naiveNight(sandbox: Sandbox) {
  const hub = new RegistryClient({
    baseUrl: sandbox.urls.dockerHub,
    credentials: { username: sandbox.seeded!.username, password: sandbox.seeded!.pat.token },
  });
  for (const image of seedImages) {
    const top = await hub.getManifest(image.repository, image.tag);
    const children = isIndex(top.mediaType)
      ? await sequential(top.json.manifests ?? [], (m) => hub.getManifest(image.repository, m.digest))
      : [top];
    for (const child of children) {
      for (const blob of [child.json.config!, ...(child.json.layers ?? [])])
        await hub.fetchBlob(image.repository, blob.digest);
    }
  }
}

async function sequential<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await fn(item));
  return out;
}

const keeperCold: number[] = [];
const naiveCold: number[] = [];
const keeperSecond: number[] = [];
const naiveSecond: number[] = [];
const keeperFirstPulls: number[] = [];
const naiveFirstPulls: number[] = [];

for (let run = 0; run < RUNS; run++) {
  {
    const { sandbox, config } = await boot();
    let t = performance.now();
    const first = await keeperNight(sandbox, config);
    keeperCold.push(performance.now() - t);
    if (first.counts.warmed !== IMAGES) throw new Error(`keeper warmed ${first.counts.warmed} of ${IMAGES}`);
    keeperFirstPulls.push(sandbox.hub.pulls.length);
    sandbox.clock.advanceHours(24);
    const before = sandbox.hub.pulls.length;
    t = performance.now();
    await keeperNight(sandbox, config);
    keeperSecond.push(sandbox.hub.pulls.length - before);
    await sandbox.stop();
  }
  {
    const { sandbox } = await boot();
    const t = performance.now();
    await naiveNight(sandbox);
    naiveCold.push(performance.now() - t);
    naiveFirstPulls.push(sandbox.hub.pulls.length);
    sandbox.clock.advanceHours(24);
    const before = sandbox.hub.pulls.length;
    await naiveNight(sandbox);
    naiveSecond.push(sandbox.hub.pulls.length - before);
    await sandbox.stop();
  }
  process.stderr.write(`run ${run + 1}/${RUNS} done\n`);
}

printTable(
  `Pre-warm: ${IMAGES} images (${seedImages.filter((i) => i.platforms.length > 1).length} multi-platform), ${LATENCY_MS} ms upstream latency, median of ${RUNS}`,
  ['measure', 'naive baseline', 'ecr-cache-keeper', 'ratio', 'goal'],
  [
    [
      'Docker Hub pulls, 2nd night',
      median(naiveSecond),
      median(keeperSecond),
      median(keeperSecond) === 0 ? '0 (none spent)' : (median(naiveSecond) / median(keeperSecond)).toFixed(1),
      '0 vs ≥100',
    ],
    [
      'Docker Hub pulls, 1st night',
      median(naiveFirstPulls),
      median(keeperFirstPulls),
      (median(naiveFirstPulls) / median(keeperFirstPulls)).toFixed(2),
      '-',
    ],
    [
      'wall time, 1st (cold) night',
      ms(median(naiveCold)),
      ms(median(keeperCold)),
      `${(median(naiveCold) / median(keeperCold)).toFixed(1)}× faster`,
      '≥ 6× at concurrency 8',
    ],
  ],
);
