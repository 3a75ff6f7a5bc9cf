/**
 * Used by the memory test: the parent process runs the sandbox with one image whose layer is
 * 200 MB; a child process (this file with `keeper`) warms it and reports its own RSS growth (peak
 * sampled every 5 ms, minus the baseline taken just before the warm), so only the keeper's memory
 * is measured. Prints one JSON line.
 */
import { fork } from 'node:child_process';
import { createAwsClients } from '../../../lib/aws/clients.js';
import { parseConfig } from '../../../lib/config/load.js';
import { reconcile } from '../../../lib/ecr/reconcile.js';
import { runPrewarm } from '../../../lib/prewarm/run.js';
import { endpointsFromEnv } from '../../../lib/registry/upstreams.js';
import { startSandbox } from '../../../sandbox/index.js';

const config = parseConfig(
  'rules:\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\nprewarm:\n  images: ["big:1"]\n',
);
const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;

if (process.argv[2] === 'keeper') {
  const aws = createAwsClients();
  globalThis.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const started = performance.now();
  const report = await runPrewarm(config.prewarm.images, {
    ecr: aws.ecr,
    secrets: aws.secrets,
    endpoints: endpointsFromEnv(process.env),
    config,
    deadline: Date.now() + 600_000,
  });
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  process.send!({
    status: report.images[0]!.status,
    reason: report.images[0]!.reason,
    blobBytes: report.images[0]!.blobs?.bytes ?? 0,
    baselineMb: mb(baseline),
    peakMb: mb(peak),
    growthMb: mb(peak - baseline),
    seconds: Math.round((performance.now() - started) / 10) / 100,
  });
} else {
  const layerMb = Number(process.argv[2] ?? 200);
  const sandbox = await startSandbox({
    seed: { images: [{ repository: 'library/big', tag: '1', layerSizes: [layerMb * 1024 * 1024, 4096] }] },
  });
  await reconcile(createAwsClients(sandbox.clientOptions), config);
  // The keeper runs in its own process, reaching the sandbox through its environment.
  const child = fork(new URL(import.meta.url).pathname, ['keeper'], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, ...sandbox.env },
  });
  const result = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`keeper process exited with ${code}`)));
  });
  console.log(JSON.stringify(result));
  child.kill();
  await sandbox.stop();
}
