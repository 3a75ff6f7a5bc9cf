#!/usr/bin/env node
// The cache-keeper command. Runs the bundle `npm ci` builds (scripts/build-cli.mjs) when it is newer
// than every source file it was built from; otherwise (an edited checkout, no build, or `cycle`,
// which starts the sandbox from its sources) the TypeScript sources directly, through tsx.
import { readFileSync, statSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

// Node keeps the compiled bundle on disk (in the OS temp directory) and skips compiling it on
// later runs: about 90 ms of every start.
module.enableCompileCache?.();

// Paths, not URLs: parsing a URL per source file cost more than the stats themselves.
const root = fileURLToPath(new URL('../', import.meta.url));

function freshBundle() {
  try {
    const built = statSync(`${root}dist/cache-keeper.mjs`).mtimeMs;
    const inputs = JSON.parse(readFileSync(`${root}dist/cache-keeper.inputs.json`, 'utf8'));
    return inputs.every((file) => statSync(`${root}${file}`).mtimeMs <= built);
  } catch {
    return false;
  }
}

if (process.argv[2] !== 'cycle' && freshBundle()) {
  await import('../dist/cache-keeper.mjs');
} else {
  const tsx = await import('tsx/esm/api').catch((error) => {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    // An install without the dev dependencies has neither esbuild (no bundle) nor tsx.
    const what =
      process.argv[2] === 'cycle'
        ? '`cycle` runs from the TypeScript sources through tsx, which is not installed; it comes'
        : 'there is no built command up to date with the sources (dist/cache-keeper.mjs) and no tsx to run them; both come';
    process.stderr.write(
      `cache-keeper: ${what} with the dev dependencies. Run \`npm ci\` (without --omit=dev) in ${root}.\n`,
    );
    process.exit(1);
  });
  tsx.register();
  await import('../cli/main.ts');
}
