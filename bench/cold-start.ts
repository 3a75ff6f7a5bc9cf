/**
 * npm run bench:cold-start — each function's bundle (from `serverless package`) next to two
 * baselines: the default esbuild bundle (what `esbuild --bundle --platform=node` makes of the same
 * handler with no options: what a user gets without this project's tuning) and the unbundled
 * source (the same TypeScript compiled file by file, importing the SDK from node_modules). Size and
 * module initialisation time (a fresh Node process loading the handler module), median of
 * BENCH_RUNS (default 9) runs each, measured in the same run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { median, printTable } from './table.js';

const FUNCTIONS: string[] = createRequire(import.meta.url)('../deploy/functions.cjs');
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const root = resolve(import.meta.dirname, '..');

if (!existsSync(join(root, '.serverless/prewarm.zip'))) {
  execFileSync('npm', ['run', '-s', 'package'], { cwd: root, stdio: 'inherit' });
}
const work = mkdtempSync(join(tmpdir(), 'keeper-cold-'));
const bundled = join(work, 'bundled');
mkdirSync(bundled);
for (const fn of FUNCTIONS)
  execFileSync('unzip', ['-q', '-o', join(root, `.serverless/${fn}.zip`), '-d', join(bundled, fn)]);

// The baseline: every project file compiled on its own; imports resolve to node_modules at run time.
const unbundled = join(work, 'unbundled');
const sources: string[] = [];
for (const dir of ['handlers', 'lib']) {
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const full = join(d, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (full.endsWith('.ts')) sources.push(full);
    }
  };
  walk(join(root, dir));
}
await build({
  entryPoints: sources,
  outdir: unbundled,
  outbase: root,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  bundle: false,
  logLevel: 'error',
});
symlinkSync(join(root, 'node_modules'), join(unbundled, 'node_modules'));

// The other baseline: esbuild's defaults for a Node bundle of the same handler.
const plain = join(work, 'default-esbuild');
for (const fn of FUNCTIONS)
  await build({
    entryPoints: [join(root, 'handlers', `${fn}.ts`)],
    outfile: join(plain, `${fn}.cjs`),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    logLevel: 'error',
  });
execFileSync('sh', ['-c', `printf '{"type":"module"}' > ${join(unbundled, 'package.json')}`]);

/** Time to load a handler module in a fresh process, the way Lambda loads it (require for CommonJS). */
function initMs(modulePath: string): number {
  const load = modulePath.endsWith('.cjs')
    ? `(await import('node:module')).createRequire(import.meta.url)(${JSON.stringify(modulePath)})`
    : `await import(${JSON.stringify(modulePath)})`;
  const script = `const t = performance.now(); ${load}; process.stdout.write(String(performance.now() - t));`;
  return Number(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, AWS_REGION: 'us-east-1' },
    }),
  );
}

const rows: Array<Array<string | number>> = [];
let worstRatio = Number.POSITIVE_INFINITY;
let worstVsDefault = Number.POSITIVE_INFINITY;
let largest = 0;
for (const fn of FUNCTIONS) {
  const bundle = join(bundled, fn, 'handlers', `${fn}.cjs`);
  const source = join(unbundled, 'handlers', `${fn}.js`);
  const defaultBundle = join(plain, `${fn}.cjs`);
  const sizeKb = statSync(bundle).size / 1024;
  largest = Math.max(largest, sizeKb);
  const b: number[] = [];
  const u: number[] = [];
  const d: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    u.push(initMs(source));
    d.push(initMs(defaultBundle));
    b.push(initMs(bundle));
  }
  const ratio = median(u) / median(b);
  const vsDefault = median(d) / median(b);
  worstRatio = Math.min(worstRatio, ratio);
  worstVsDefault = Math.min(worstVsDefault, vsDefault);
  rows.push([
    fn,
    `${sizeKb.toFixed(0)} KB`,
    `${(statSync(defaultBundle).size / 1024).toFixed(0)} KB`,
    `${median(u).toFixed(1)} ms`,
    `${median(d).toFixed(1)} ms`,
    `${median(b).toFixed(1)} ms`,
    `${vsDefault.toFixed(1)}×`,
    `${ratio.toFixed(1)}×`,
  ]);
}
printTable(
  `Bundles (esbuild, minified CommonJS from the SDK's ESM sources, target node22): module init time, median of ${RUNS} fresh Node processes each`,
  [
    'function',
    'bundle',
    'default esbuild bundle',
    'init, unbundled',
    'init, default bundle',
    'init, bundle',
    'vs default bundle',
    'vs unbundled',
  ],
  rows,
);
printTable(
  'Goals',
  ['goal', 'result'],
  [
    ['every bundle under 400 KB', `largest ${largest.toFixed(0)} KB`],
    ['init faster than unbundled', `slowest ratio ${worstRatio.toFixed(1)}×`],
    ['init faster than the default esbuild bundle', `slowest ratio ${worstVsDefault.toFixed(1)}×`],
  ],
);
