#!/usr/bin/env node
// The cache-keeper command. Runs the bundle `npm ci` builds (scripts/build-cli.mjs) when it is newer
// than every source file it was built from; otherwise (an edited checkout, no build, or `cycle`,
// which starts the sandbox from its sources) the TypeScript sources directly, through tsx.
import { readFileSync, statSync } from 'node:fs';
import module from 'node:module';

// Node keeps the compiled bundle on disk (in the OS temp directory) and skips compiling it on
// later runs: about 90 ms of every start.
module.enableCompileCache?.();

const root = new URL('../', import.meta.url);

function freshBundle() {
  try {
    const built = statSync(new URL('dist/cache-keeper.mjs', root)).mtimeMs;
    const inputs = JSON.parse(readFileSync(new URL('dist/cache-keeper.inputs.json', root), 'utf8'));
    return inputs.every((file) => statSync(new URL(file, root)).mtimeMs <= built);
  } catch {
    return false;
  }
}

if (process.argv[2] !== 'cycle' && freshBundle()) {
  await import('../dist/cache-keeper.mjs');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
