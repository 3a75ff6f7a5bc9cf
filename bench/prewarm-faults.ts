/**
 * npm run bench:prewarm-faults — a night with faults, on the keeper itself (runPrewarm as the
 * prewarm handler runs it): 5% of images meet a transient 5xx from Docker Hub, ECR throttles its
 * registry in bursts and its DescribeImages, and two requests hang near the deadline. The run must
 * return its report in time, complete (every image with a status and a reason), spending no more
 * Docker Hub pulls than the images it warmed need. 100 images, 50 ms Docker Hub latency, median of
 * BENCH_RUNS (default 3). Then a night Docker Hub is down, at 100 and 500 images (below).
 */
import { createAwsClients } from '../lib/aws/clients.js';
import { parseConfig } from '../lib/config/load.js';
import { reconcile } from '../lib/ecr/reconcile.js';
import { runPrewarm } from '../lib/prewarm/run.js';
import { startSandbox } from '../sandbox/index.js';
import { median, ms, printTable } from './table.js';

const N = 100;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BUDGET_MS = 20_000;
const images = Array.from({ length: N }, (_, i) => ({
  repository: `library/img${i}`,
  tag: '1',
  platforms: i % 3 === 0 ? ['linux/amd64', 'linux/arm64'] : ['linux/amd64'],
}));
const config = parseConfig(`rules:
  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub, template: { lifecycle: { keepLast: 6 } } }
prewarm:
  platforms: [linux/amd64, linux/arm64]
  maxUpstreamPullsPerRun: 100000
  safetyMarginSeconds: 1
  images: [${images.map((i) => `"${i.repository.replace('library/', '')}:1"`).join(', ')}]
`);

const rows: Array<Array<string | number>> = [];
const results: Array<{
  returnedMs: number;
  complete: boolean;
  extraPulls: number;
  counts: Record<string, number>;
}> = [];
for (let run = 0; run < RUNS; run++) {
  const sandbox = await startSandbox({ seed: { images, pullLimit: 1_000_000 } });
  const admin = createAwsClients(sandbox.clientOptions);
  await reconcile(admin, config);
  const prewarmClients = createAwsClients(sandbox.roleClientOptions('prewarm', config));
  sandbox.faults.add({ match: 'hub:', latencyMs: 50 });
  // 5% of images: a transient 5xx from Docker Hub on the manifest GET.
  for (let i = 7; i < N; i += 20)
    sandbox.faults.add({ match: `hub:GET /v2/library/img${i}/manifests`, status: 503, times: 1 });
  // ECR throttling bursts: its registry (429 Rate exceeded) and DescribeImages.
  for (let i = 3; i < N; i += 25)
    sandbox.faults.add({
      match: `registry:GET /v2/docker-hub/library/img${i}/manifests`,
      status: 429,
      body: { errors: [{ code: 'TOOMANYREQUESTS', message: 'Rate exceeded' }] },
      times: 2,
    });
  sandbox.faults.add({ match: 'ecr:DescribeImages', awsError: 'ThrottlingException', times: 6 });
  // Two requests that hang far past the deadline.
  for (const i of [90, 95])
    sandbox.faults.add({ match: `registry:GET /v2/docker-hub/library/img${i}/blobs`, latencyMs: 120_000 });

  const started = Date.now();
  const report = await runPrewarm(config.prewarm.images, {
    ecr: prewarmClients.ecr,
    secrets: prewarmClients.secrets,
    endpoints: sandbox.endpoints,
    config,
    deadline: started + BUDGET_MS,
  });
  const returnedMs = Date.now() - started;
  const complete =
    report.images.length === N && report.images.every((i) => i.status && i.reason !== undefined);
  // What the warmed images needed: one pull per platform of each image pulled through.
  const needed = report.images.reduce((sum, i) => sum + i.upstreamPulls, 0);
  results.push({
    returnedMs,
    complete,
    extraPulls: sandbox.hub.pulls.length - needed,
    counts: report.counts,
  });
  await sandbox.stop();
  process.stderr.write(`fault night ${run + 1}/${RUNS} done\n`);
}
const m = (f: (r: (typeof results)[number]) => number) => median(results.map(f));
rows.push(
  ['returned after (deadline 20 000 ms)', ms(m((r) => r.returnedMs)), 'before the deadline'],
  ['report complete (every image has a status)', results.every((r) => r.complete) ? 'yes' : 'NO', 'yes'],
  ['warmed', m((r) => r.counts.warmed!), '-'],
  ['deferred (cut short at the deadline)', m((r) => r.counts.deferred!), '2 (the hanging requests)'],
  ['unverified (ECR kept throttling)', m((r) => r.counts.unverified!), '-'],
  ['failed', m((r) => r.counts.failed!), '-'],
  ['Docker Hub pulls beyond what the warmed images need', m((r) => r.extraPulls), '0'],
);
printTable(
  `Pre-warm fault night: ${N} images, 50 ms Docker Hub latency, ${BUDGET_MS / 1000} s budget; median of ${RUNS}`,
  ['measure', 'result', 'goal'],
  rows,
);

/**
 * The outage night: the night after a whole one, Docker Hub answers 503 to everything. What the
 * cache holds is served as it is (ECR's guide), so no image of it may fail, and the night should
 * stop asking once Docker Hub has failed check after check: its requests stay bounded by the
 * checks under way (prewarm.concurrency × 4, each tried 4 times), whatever the size of the list.
 */
const outageRows: Array<Array<string | number>> = [];
for (const size of [100, 500]) {
  const outageImages = Array.from({ length: size }, (_, i) => ({
    repository: `library/img${i}`,
    tag: '1',
    platforms: ['linux/amd64'],
    layerSizes: [1024],
  }));
  const outageConfig = parseConfig(`rules:
  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub, template: { lifecycle: { keepLast: 6 } } }
prewarm:
  maxUpstreamPullsPerRun: 100000
  images: [${outageImages.map((i) => `"${i.repository.replace('library/', '')}:1"`).join(', ')}]
`);
  const nights: Array<{ ms: number; requests: number; counts: Record<string, number> }> = [];
  for (let run = 0; run < RUNS; run++) {
    const sandbox = await startSandbox({ seed: { images: outageImages, pullLimit: 1_000_000 } });
    await reconcile(createAwsClients(sandbox.clientOptions), outageConfig);
    const clients = createAwsClients(sandbox.roleClientOptions('prewarm', outageConfig));
    const night = () =>
      runPrewarm(outageConfig.prewarm.images, {
        ecr: clients.ecr,
        secrets: clients.secrets,
        endpoints: sandbox.endpoints,
        config: outageConfig,
        deadline: Date.now() + 600_000,
      });
    await night();
    sandbox.clock.advanceHours(25);
    const down = sandbox.faults.add({ match: 'hub:', status: 503 });
    const started = Date.now();
    const report = await night();
    nights.push({ ms: Date.now() - started, requests: down.hits, counts: report.counts });
    await sandbox.stop();
  }
  const om = (f: (n: (typeof nights)[number]) => number) => median(nights.map(f));
  outageRows.push([
    size,
    om((n) => n.counts.failed!),
    om((n) => n.counts.unverified!),
    om((n) => n.counts.deferred!),
    om((n) => n.requests),
    ms(om((n) => n.ms)),
  ]);
  process.stderr.write(`outage night, ${size} images, done\n`);
}
printTable(
  `Pre-warm on a night Docker Hub answers 503 to everything (the cache holds every image); median of ${RUNS}`,
  ['images', 'failed', 'unverified', 'deferred', 'Docker Hub requests', 'wall time'],
  outageRows,
);
