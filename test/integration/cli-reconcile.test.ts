/** cache-keeper plan / apply against the sandbox, through the SDK environment as a user would run it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { captureIo } from '../support/cli-io.js';
import { useSandboxEnv } from './support/env.js';

let sandbox: Sandbox;
let restore: () => void;
beforeAll(async () => {
  sandbox = await startSandbox();
  restore = useSandboxEnv(sandbox);
});
afterAll(async () => {
  restore();
  await sandbox.stop();
});

describe('cache-keeper plan and apply', () => {
  it('plan --json prints a top-level changes array and writes nothing', async () => {
    const { io, out } = captureIo();
    expect(await runCli(['plan', '--json'], io)).toBe(0);
    const parsed = JSON.parse(out.join('\n'));
    expect(parsed.changes.map((c: { kind: string }) => c.kind)).toEqual(['create-rule', 'create-template']);
    expect(sandbox.ecr.writeCalls).toEqual([]);
  });

  it('apply prints a readable diff, then plan shows no changes', async () => {
    const first = captureIo();
    expect(await runCli(['apply'], first.io)).toBe(0);
    const text = first.out.join('\n');
    expect(text).toContain('+ rule docker-hub');
    expect(text).toContain('rule docker-hub: validated upstream');
    const second = captureIo();
    expect(await runCli(['plan'], second.io)).toBe(0);
    expect(second.out.join('\n')).toMatch(/^No changes/);
  });
});
