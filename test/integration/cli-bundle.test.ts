/**
 * The built command (dist/cache-keeper.mjs, built by `npm ci` and `npm test`): it says the same as
 * the sources, and bin/cache-keeper.mjs runs it only while it is newer than every source it was
 * built from, so an edited checkout never runs stale code.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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

  it('compiles at start only what every command needs: the fan-out state machine and zod locales wait', () => {
    // What Node compiles before the first request of every nightly run: the entry module and the
    // chunks it imports statically, followed through their own static imports.
    const loaded = new Set<string>();
    const pending = [join(root, 'dist/cache-keeper.mjs')];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (loaded.has(file)) continue;
      loaded.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(
        /(?:^|\n)(?:import|export)\s[^;]*?from\s*"(\.[^"]+)"|(?:^|\n)import\s*"(\.[^"]+)"/g,
      ))
        pending.push(join(dirname(file), (m[1] ?? m[2])!));
    }
    const text = [...loaded].map((file) => readFileSync(file, 'utf8')).join('\n');
    expect(text).not.toContain('node_modules/aws-local-stepfunctions/');
    // zod's messages in every language: 400 KB that `import { z } from 'zod'` pulls in.
    expect(text).not.toContain('node_modules/zod/v4/locales/fr.js');
    expect(Buffer.byteLength(text)).toBeLessThan(1.6 * 1024 * 1024);
  });

  it('loads the commands it keeps in chunks (dist/chunks/) when they are asked for', async () => {
    const args = [
      'ci-snippet',
      '--for',
      'gitlab',
      '--registry',
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    ];
    const [built, sources] = await Promise.all([
      run(process.execPath, [join(root, 'dist/cache-keeper.mjs'), ...args], { cwd: root }),
      run(process.execPath, ['--import', 'tsx', join(root, 'cli/main.ts'), ...args], { cwd: root }),
    ]);
    expect(built.stdout).toContain('123456789012.dkr.ecr.eu-west-1.amazonaws.com');
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

  it('says what to do, without a stack trace, when it has neither a built bundle nor tsx (npm ci --omit=dev)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keeper-bin-'));
    for (const d of ['bin', 'cli']) mkdirSync(join(dir, d));
    copyFileSync(join(root, 'bin/cache-keeper.mjs'), join(dir, 'bin/cache-keeper.mjs'));
    writeFileSync(join(dir, 'cli/main.ts'), "console.log('sources');\n");
    const failed = await run(process.execPath, [join(dir, 'bin/cache-keeper.mjs'), 'validate']).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('npm ci');
    expect(failed?.stderr).toContain('dev dependencies');
    expect(failed?.stderr).not.toMatch(/\n\s+at /);
  });
});
