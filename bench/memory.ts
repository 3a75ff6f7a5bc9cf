/**
 * npm run bench:memory — peak RSS growth of the process that warms one image whose big layer is
 * 20 MB (baseline) and 200 MB, median of BENCH_RUNS (default 3) runs each. Blobs are streamed and
 * hashed as they arrive, so growth should not follow the layer size. Goal: < 64 MB at 200 MB.
 */
import { execFileSync } from 'node:child_process';
import { median, printTable } from './table.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const probe = (mb: number) =>
  JSON.parse(
    execFileSync(
      process.execPath,
      ['--import', 'tsx', 'test/integration/support/memory-probe.ts', String(mb)],
      { encoding: 'utf8' },
    )
      .trim()
      .split('\n')
      .at(-1)!,
  );

const rows: Array<Array<string | number>> = [];
for (const mb of [20, 200]) {
  const results = Array.from({ length: RUNS }, () => probe(mb));
  rows.push([
    `${mb} MB layer`,
    `${median(results.map((r) => r.growthMb)).toFixed(1)} MB`,
    `${median(results.map((r) => r.seconds)).toFixed(2)} s`,
    mb === 200 ? '< 64 MB' : 'baseline',
  ]);
}
printTable(
  `Pre-warm memory: peak RSS growth of the warming process (median of ${RUNS})`,
  ['image', 'peak RSS growth', 'warm time', 'goal'],
  rows,
);
