/**
 * The built command (dist/cache-keeper.mjs, built by `npm ci` and `npm test`): it says the same as
 * the sources, and bin/cache-keeper.mjs runs it only while it is newer than every source it was
 * built from, so an edited checkout never runs stale code.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');

describe('the built command', () => {
  it('is what bin/cache-keeper.mjs runs after a build, and says what the sources say', async () => {
    const bin = await run(process.execPath, [join(root, 'bin/cache-keeper.mjs'), '--version'], { cwd: root });
    expect(bin.stdout.trim()).toMatch(/^cache-keeper \d+\.\d+\.\d+ \(bundle\)$/);
    const [built, sources] = await Promise.all([
      run(process.execPath, [join(root, 'dist/cache-keeper.mjs'), 'validate'], { cwd: root }),
      run(process.execPath, ['--import', 'tsx', join(root, 'cli/main.ts'), 'validate'], { cwd: root }),
    ]);
    expect(built.stdout).toContain('valid');
    expect(built.stdout).toBe(sources.stdout);
  });

  it('falls back to the sources when one is newer than the bundle, when the bundle is missing, and for cycle', async () => {
    // A checkout in miniature: a "bundle" and "sources" that each say which they are.
    const dir = mkdtempSync(join(tmpdir(), 'keeper-bin-'));
    for (const d of ['bin', 'dist', 'cli']) mkdirSync(join(dir, d));
    copyFileSync(join(root, 'bin/cache-keeper.mjs'), join(dir, 'bin/cache-keeper.mjs'));
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(join(dir, 'cli/main.ts'), "console.log('sources');\n");
    writeFileSync(join(dir, 'cli/other.ts'), '\n');
    writeFileSync(join(dir, 'dist/cache-keeper.mjs'), "console.log('bundle');\n");
    writeFileSync(
      join(dir, 'dist/cache-keeper.inputs.json'),
      JSON.stringify(['cli/main.ts', 'cli/other.ts']),
    );
    const at = (file: string, seconds: number) => utimesSync(join(dir, file), seconds, seconds);
    const says = async (...args: string[]) =>
      (await run(process.execPath, [join(dir, 'bin/cache-keeper.mjs'), ...args])).stdout.trim();

    at('cli/main.ts', 1000);
    at('cli/other.ts', 1000);
    at('dist/cache-keeper.mjs', 2000);
    expect(await says('validate')).toBe('bundle');
    expect(await says('cycle')).toBe('sources');

    at('cli/other.ts', 3000); // edited after the build
    expect(await says('validate')).toBe('sources');

    at('dist/cache-keeper.mjs', 4000);
    writeFileSync(join(dir, 'dist/cache-keeper.inputs.json'), JSON.stringify(['cli/main.ts', 'cli/gone.ts']));
    expect(await says('validate')).toBe('sources'); // an input that no longer exists
  });
});
