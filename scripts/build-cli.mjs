#!/usr/bin/env node
// Builds the cache-keeper command into an ES module (dist/cache-keeper.mjs), so the command starts
// without compiling TypeScript on every run (about 0.7 s less per invocation, measured by
// bench:prewarm). What only some commands load (a fanned-out night's local state machine, the
// suggest, rewrite and CI commands) goes to chunks under dist/chunks/, loaded when asked for: a
// nightly `prewarm` compiles 1.3 MB at start instead of 4.1 MB, and reaches `--version` in 0.10 s
// instead of 0.17 s. Runs on `npm ci`/`npm install` (prepare). bin/cache-keeper.mjs uses the bundle only
// while it is newer than every source file it was built from (listed in dist/cache-keeper.inputs.json),
// and the TypeScript sources otherwise, so an edited checkout never runs stale code.
// `cycle` stays on the sources: it starts the sandbox, which reads the stack definition and the IAM
// reference data from beside its own files.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// Without the dev dependencies (npm ci --omit=dev) there is no esbuild, so no bundle (and no tsx to
// run the sources: bin/cache-keeper.mjs says to install them).
const esbuild = await import('esbuild').catch(() => undefined);
if (!esbuild) {
  console.warn('build-cli: esbuild is not installed (dev dependencies omitted?): no bundle built');
  process.exit(0);
}
const { build } = esbuild;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist');
// Chunk names carry a hash of their contents: drop the last build's, which nothing loads any more.
rmSync(join(outdir, 'chunks'), { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

const result = await build({
  entryPoints: { 'cache-keeper': join(root, 'cli/main.ts') },
  outdir,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  // The SDK's ES module sources (as the Lambda bundles use, serverless.yml): smaller once tree-shaken.
  mainFields: ['module', 'main'],
  metafile: true,
  define: { KEEPER_BUILD: '"bundle"' },
  logLevel: 'warning',
  // CommonJS dependencies bundled into an ES module still call require().
  banner: {
    js: "import { createRequire as __keeperRequire } from 'node:module'; const require = __keeperRequire(import.meta.url);",
  },
  plugins: [
    {
      name: 'cycle-stays-on-sources',
      setup(b) {
        b.onResolve({ filter: /\/commands\/cycle\.js$/ }, () => ({
          path: '../cli/commands/cycle.ts',
          external: true,
        }));
      },
    },
  ],
});

const inputs = Object.keys(result.metafile.inputs)
  .filter((p) => !p.includes('node_modules'))
  .map((p) => relative(root, join(root, p)));
writeFileSync(join(root, 'dist/cache-keeper.inputs.json'), `${JSON.stringify(inputs)}\n`);
