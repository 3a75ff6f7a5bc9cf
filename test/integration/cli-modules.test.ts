/**
 * The sandbox is loaded only by the command that starts it: `validate` and `plan` (run as a user
 * runs them, in a process of their own, against the sandbox through the environment) resolve no
 * module under sandbox/.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.stop();
});

async function modulesLoadedBy(args: string[]): Promise<{ modules: string[]; stdout: string }> {
  const trace = join(mkdtempSync(join(tmpdir(), 'keeper-trace-')), 'modules.txt');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--import', resolve('test/support/trace-modules.mjs'), 'cli/main.ts', ...args],
    { encoding: 'utf8', env: { ...process.env, ...sandbox.env, MODULE_TRACE: trace } },
  );
  return { modules: readFileSync(trace, 'utf8').split('\n').filter(Boolean), stdout };
}

it.each([['validate'], ['plan']])('cache-keeper %s loads no sandbox module', async (command) => {
  const { modules, stdout } = await modulesLoadedBy([command]);
  // The trace works: the command's own modules are in it.
  expect(modules.some((m) => m.endsWith('/cli/main.ts'))).toBe(true);
  expect(modules.some((m) => m.endsWith('/lib/config/load.ts'))).toBe(true);
  expect(modules.filter((m) => m.includes('/sandbox/'))).toEqual([]);
  expect(stdout).toMatch(command === 'validate' ? /valid/ : /rule docker-hub/);
});

it('cache-keeper cycle does load it (the trace would see it)', async () => {
  const { modules } = await modulesLoadedBy(['cycle', '--json']);
  expect(modules.some((m) => m.includes('/sandbox/index.ts'))).toBe(true);
}, 60_000);
