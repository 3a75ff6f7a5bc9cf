/**
 * npm run bench:prewarm-fanout — the nightly state machine fanned out (one warmImage per image,
 * prewarm.fanOut.maxConcurrency at once) against the same night in one invocation (the single run,
 * prewarm.concurrency at once), on the sandbox, in the same run, for 10, 100 and 500 images:
 *
 *   - small images (two small layers; the night is API calls and latency), and
 *   - big images (every layer takes LAYER_SECONDS to come through the cache, as a multi-GB CUDA or
 *     PyTorch layer would), with every invocation capped at CAP_SECONDS: Lambda's 15 minutes,
 *     scaled down with the layer times so the benchmark runs in minutes.
 *
 * A local run has no Lambda invocation cost; what AWS adds per invocation is not measured here, so
 * the fanned-out night runs twice: with none, and with INVOKE_OVERHEAD_MS per invocation (a cold
 * start). Figures: wall time until the report, images warmed and deferred, invocations, Docker Hub
 * pulls (the sandbox's count). Both modes run on fresh sandboxes of the same kind. 20 ms of latency
 * on every Docker Hub request.
 */

import { nightHandlers } from '../cli/night.js';
import { createAwsClients } from '../lib/aws/clients.js';
import { type KeeperConfig, parseConfig } from '../lib/config/load.js';
import { reconcile } from '../lib/ecr/reconcile.js';
import { runNightLocally } from '../lib/prewarm/local-execution.js';
import type { PrewarmReport } from '../lib/prewarm/report.js';
import { runPrewarm } from '../lib/prewarm/run.js';
import { createRuntime } from '../lib/runtime/deps.js';
import { createLogger, memorySink } from '../lib/runtime/logger.js';
import { type Sandbox, startSandbox } from '../sandbox/index.js';
import { ms, printTable } from './table.js';

const SIZES = (process.env.BENCH_SIZES ?? '10,100,500').split(',').map(Number);
const LAYER_SECONDS = Number(process.env.BENCH_LAYER_SECONDS ?? 4);
const CAP_SECONDS = Number(process.env.BENCH_CAP_SECONDS ?? 60);
const INVOKE_OVERHEAD_MS = Number(process.env.BENCH_INVOKE_OVERHEAD_MS ?? 400);
const HUB_LATENCY_MS = 20;

type Workload = 'small' | 'big';

const seedImages = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    repository: `library/img${i}`,
    tag: '1',
    platforms: i % 3 === 0 ? ['linux/amd64', 'linux/arm64'] : ['linux/amd64'],
    layerSizes: [256 * 1024, 64 * 1024],
  }));

const configYaml = (n: number) => `rules:
  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub, template: { lifecycle: { keepLast: 6 } } }
prewarm:
  platforms: [linux/amd64, linux/arm64]
  maxUpstreamPullsPerRun: 100000
  safetyMarginSeconds: ${Math.max(1, Math.round(LAYER_SECONDS * 1.5))}
  fanOut: { minImages: 0, maxConcurrency: 40, imageTimeoutSeconds: ${CAP_SECONDS} }
  images: [${seedImages(n)
    .map((i) => `"${i.repository.replace('library/', '')}:1"`)
    .join(', ')}]
`;

async function boot(n: number, workload: Workload): Promise<{ sandbox: Sandbox; config: KeeperConfig }> {
  const sandbox = await startSandbox({ seed: { images: seedImages(n), pullLimit: 1_000_000 } });
  const config = parseConfig(configYaml(n));
  await reconcile(createAwsClients(sandbox.clientOptions), config);
  sandbox.faults.add({ match: 'hub:', latencyMs: HUB_LATENCY_MS });
  if (workload === 'big')
    sandbox.faults.add({
      match: /^registry:GET \/v2\/docker-hub\/library\/img\d+\/blobs\//,
      latencyMs: LAYER_SECONDS * 1000,
    });
  return { sandbox, config };
}

type Mode = 'one invocation' | 'fanned out' | 'fanned out + cold starts';

async function night(n: number, workload: Workload, mode: Mode) {
  const { sandbox, config } = await boot(n, workload);
  const deps = (fn: string) => ({
    ...createRuntime(config, { logger: createLogger({ sink: memorySink() }), endpoints: sandbox.endpoints }),
    ...createAwsClients(sandbox.roleClientOptions(fn, config)),
  });
  const started = performance.now();
  let report: PrewarmReport;
  if (mode === 'one invocation') {
    report = await runPrewarm(config.prewarm.images, {
      ...deps('prewarm'),
      deadline: Date.now() + CAP_SECONDS * 1000,
    });
  } else {
    report = await runNightLocally({
      config,
      handlers: nightHandlers((fn) => deps(fn)),
      timeoutSeconds: { prewarmPlan: CAP_SECONDS, warmImage: CAP_SECONDS },
      authorizeInvoke: (arn) => sandbox.authorizeStateMachineInvoke(arn),
      ...(mode === 'fanned out + cold starts' ? { invokeOverheadMs: INVOKE_OVERHEAD_MS } : {}),
    });
  }
  const wallMs = performance.now() - started;
  const pulls = sandbox.hub.pulls.length;
  await sandbox.stop();
  return { report, wallMs, pulls };
}

for (const workload of ['small', 'big'] as const) {
  const rows: Array<Array<string | number>> = [];
  for (const n of SIZES) {
    const results = new Map<Mode, Awaited<ReturnType<typeof night>>>();
    for (const mode of ['one invocation', 'fanned out', 'fanned out + cold starts'] as const) {
      results.set(mode, await night(n, workload, mode));
      process.stderr.write(`${workload}, ${n} images: ${mode} done\n`);
    }
    const single = results.get('one invocation')!;
    for (const [mode, r] of results) {
      rows.push([
        n,
        mode,
        r.report.counts.warmed,
        r.report.counts.deferred,
        mode === 'one invocation' ? 1 : 2 + (r.report.fanOut?.invocations ?? 0),
        r.pulls,
        ms(r.wallMs),
        // Only where both warmed every image: otherwise they did different work.
        mode === 'one invocation'
          ? '1.0×'
          : r.report.counts.warmed === n && single.report.counts.warmed === n
            ? `${(single.wallMs / r.wallMs).toFixed(1)}×`
            : '-',
      ]);
    }
  }
  printTable(
    workload === 'small'
      ? `Fan-out vs one invocation, small images (two small layers), ${HUB_LATENCY_MS} ms Docker Hub latency; cold start ${INVOKE_OVERHEAD_MS} ms; one run each`
      : `Fan-out vs one invocation, big images (each layer ${LAYER_SECONDS} s through the cache), every invocation capped at ${CAP_SECONDS} s; cold start ${INVOKE_OVERHEAD_MS} ms; one run each`,
    [
      'images',
      'night',
      'warmed',
      'deferred',
      'invocations',
      'Docker Hub pulls',
      'wall time',
      'vs one invocation',
    ],
    rows,
  );
}
