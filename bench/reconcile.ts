/**
 * npm run bench:reconcile — API calls of a no-drift reconcile with 5 rules and 500 cache
 * repositories, against the minimum pages the APIs need; and wall time at the configured
 * concurrency vs one call at a time, with injected API latency. Medians of several runs.
 */
import { createAwsClients } from '../lib/aws/clients.js';
import { parseConfig } from '../lib/config/load.js';
import { reconcile } from '../lib/ecr/reconcile.js';
import { startSandbox } from '../sandbox/index.js';
import { median, ms, printTable } from './table.js';

const REPOSITORIES = 500;
const RUNS = 3;
const LATENCY_MS = 5;

const sandbox = await startSandbox();
const config = parseConfig(`
rules:
  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub, template: { lifecycle: { keepLast: 6 } } }
  - { prefix: ecr-public, upstream: ecr-public, template: { lifecycle: { keepLast: 6 } } }
  - { prefix: quay, upstream: quay, template: { lifecycle: { keepLast: 6 } } }
  - { prefix: k8s, upstream: k8s, template: { lifecycle: { keepLast: 6 } } }
  - { prefix: hub-mirror, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub, template: { lifecycle: { keepLast: 10 } } }
`);
const prefixes = config.rules.map((r) => r.prefix);
for (let i = 0; i < REPOSITORIES; i++)
  sandbox.ecr.createRepository(`${prefixes[i % prefixes.length]}/library/image-${i}`);

const clients = createAwsClients(sandbox.clientOptions);
await reconcile(clients, config); // brings everything in line, back-fill included

async function measure(concurrency: number) {
  const times: number[] = [];
  let calls = new Map<string, number>();
  for (let run = 0; run < RUNS; run++) {
    sandbox.awsCalls.clear();
    const writesBefore = sandbox.ecr.writeCalls.length;
    const started = performance.now();
    const report = await reconcile(clients, config, { concurrency });
    times.push(performance.now() - started);
    if (report.plan.changes.length || sandbox.ecr.writeCalls.length !== writesBefore)
      throw new Error('expected a no-drift run');
    calls = new Map(sandbox.awsCalls);
  }
  return { time: median(times), calls };
}

const fast = await measure(8);
const minimum: Record<string, number> = {
  'ecr:DescribePullThroughCacheRules': Math.ceil(prefixes.length / 1000),
  'ecr:DescribeRepositoryCreationTemplates': Math.ceil(prefixes.length / 1000),
  'ecr:DescribeRepositories': Math.ceil(REPOSITORIES / 1000),
  'ecr:GetLifecyclePolicy': REPOSITORIES,
  'secretsmanager:DescribeSecret': 1,
  'secretsmanager:GetSecretValue': 1,
};
const rows: Array<Array<string | number>> = Object.entries(minimum).map(([op, min]) => [
  op,
  fast.calls.get(op) ?? 0,
  min,
  ((fast.calls.get(op) ?? 0) / min).toFixed(2),
]);
const extra = [...fast.calls.keys()].filter((op) => !(op in minimum));
for (const op of extra) rows.push([op, fast.calls.get(op)!, 0, 'extra']);
const total = [...fast.calls.values()].reduce((a, b) => a + b, 0);
const totalMin = Object.values(minimum).reduce((a, b) => a + b, 0);
rows.push(['total', total, totalMin, (total / totalMin).toFixed(2)]);
printTable(
  `Reconcile, no drift: ${prefixes.length} rules, ${REPOSITORIES} cache repositories (writes: 0)`,
  ['API call', 'made', 'minimum', 'ratio'],
  rows,
);

sandbox.faults.add({ match: /^ecr:|^secretsmanager:/, latencyMs: LATENCY_MS });
const sequential = await measure(1);
const concurrent = await measure(8);
printTable(
  `Reconcile wall time with ${LATENCY_MS} ms per API call (median of ${RUNS})`,
  ['concurrency', 'wall time', 'speed-up'],
  [
    ['1 (baseline)', ms(sequential.time), '1.0×'],
    ['8', ms(concurrent.time), `${(sequential.time / concurrent.time).toFixed(1)}×`],
  ],
);
// Back-fill: every cache repository lost its lifecycle policy; reconcile puts 500 back.
async function backfill(concurrency: number) {
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    for (const repo of sandbox.ecr.repositories.values()) repo.lifecyclePolicy = undefined;
    const started = performance.now();
    const report = await reconcile(clients, config, { concurrency });
    times.push(performance.now() - started);
    const puts = report.result.applied.filter((a) => a.kind === 'put-lifecycle-policy').length;
    if (puts !== REPOSITORIES || !report.result.ok)
      throw new Error(`expected ${REPOSITORIES} back-fills, got ${puts}`);
  }
  return median(times);
}
const serialBackfill = await backfill(1);
const concurrentBackfill = await backfill(8);
printTable(
  `Reconcile back-fill of ${REPOSITORIES} repositories' lifecycle policies, ${LATENCY_MS} ms per API call (median of ${RUNS})`,
  ['concurrency', 'wall time', 'speed-up', 'goal'],
  [
    ['1 (serial baseline)', ms(serialBackfill), '1.0×', ''],
    ['8', ms(concurrentBackfill), `${(serialBackfill / concurrentBackfill).toFixed(1)}×`, '≥ 5×'],
  ],
);
await sandbox.stop();
