/**
 * npm run bench:metrics — the cache walk over 2,000 repositories × 25 images with 10 ms injected
 * API latency: API calls made vs the minimum number of pages, and wall time at the configured
 * concurrency vs one call at a time. Medians of BENCH_RUNS runs (default 3).
 */
import { fork } from 'node:child_process';
import { type AwsClientOptions, createAwsClients } from '../lib/aws/clients.js';
import { parseConfig } from '../lib/config/load.js';
import { collectCacheMetrics } from '../lib/metrics/collect.js';
import { startSandbox } from '../sandbox/index.js';
import { MEDIA, storedManifest } from '../sandbox/registry/content.js';
import { median, ms, printTable } from './table.js';

const REPOSITORIES = 2000;
const IMAGES = 25;
const LATENCY_MS = 10;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

// The sandbox runs in a child process, as AWS is remote: its CPU does not compete with the walk's.
if (process.argv[2] === 'sandbox') {
  const sandbox = await startSandbox({ empty: true });
  const now = sandbox.clock.now();
  for (let r = 0; r < REPOSITORIES; r++) {
    const repo = sandbox.ecr.createRepository(`docker-hub/team${r % 40}/app${r}`, {
      createdByRule: 'docker-hub',
    });
    for (let i = 0; i < IMAGES; i++) {
      const manifest = storedManifest(
        {
          schemaVersion: 2,
          mediaType: MEDIA.ociManifest,
          layers: [{ size: 1000 + i, digest: `sha256:${r}-${i}` }],
        },
        MEDIA.ociManifest,
      );
      repo.images.set(manifest.digest, {
        digest: manifest.digest,
        manifest,
        size: 1_000_000 + i,
        pushedAt: now - i * 86_400_000,
        storageClass: 'STANDARD',
      });
      if (i < 5) repo.tagToDigest.set(`v${i}`, manifest.digest);
    }
  }
  sandbox.faults.add({ match: /^ecr:Describe/, latencyMs: LATENCY_MS });
  process.send!(sandbox.clientOptions);
  process.on('disconnect', () => void sandbox.stop().then(() => process.exit(0)));
} else {
  const child = fork(new URL(import.meta.url).pathname, ['sandbox'], { execArgv: ['--import', 'tsx'] });
  await main(await new Promise<AwsClientOptions>((resolve) => child.once('message', resolve)));
  child.disconnect();
}

async function main(sandbox: AwsClientOptions) {
  const config = (concurrency: number) =>
    parseConfig(`
rules:
  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }
metrics: { concurrency: ${concurrency} }
`);
  const ecr = createAwsClients(sandbox).ecr;

  async function measure(concurrency: number) {
    const times: number[] = [];
    let calls: Record<string, number> = {};
    let images = 0;
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      const report = await collectCacheMetrics(ecr, config(concurrency));
      times.push(performance.now() - started);
      calls = report.apiCalls;
      images = report.total.images;
    }
    if (images !== REPOSITORIES * IMAGES)
      throw new Error(`counted ${images} images, expected ${REPOSITORIES * IMAGES}`);
    return { time: median(times), calls };
  }

  const concurrent = await measure(8);
  const sequential = await measure(1);
  const minimum = {
    DescribeRepositories: Math.ceil(REPOSITORIES / 1000),
    DescribeImages: REPOSITORIES * Math.ceil(IMAGES / 1000),
  };
  printTable(
    `Cache metrics walk: ${REPOSITORIES} repositories × ${IMAGES} images`,
    ['API call', 'made', 'minimum pages', 'ratio'],
    [
      ...Object.entries(minimum).map(([op, min]) => [
        op,
        concurrent.calls[op] ?? 0,
        min,
        ((concurrent.calls[op] ?? 0) / min).toFixed(2),
      ]),
    ],
  );
  printTable(
    `Wall time with ${LATENCY_MS} ms per Describe* call (median of ${RUNS})`,
    ['concurrency', 'wall time', 'speed-up', 'goal'],
    [
      ['1 (baseline)', ms(sequential.time), '1.0×', '-'],
      ['8', ms(concurrent.time), `${(sequential.time / concurrent.time).toFixed(1)}×`, '≥ 6×'],
    ],
  );
}
