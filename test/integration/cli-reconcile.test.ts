/** cache-keeper plan / apply against the sandbox, as a user would run them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { captureIo } from '../support/cli-io.js';
import { sandboxDeps } from './support/sandbox-deps.js';

let sandbox: Sandbox;
let cli: ReturnType<typeof sandboxDeps>['cli'];
beforeAll(async () => {
  sandbox = await startSandbox();
  cli = sandboxDeps(sandbox).cli;
});
afterAll(async () => {
  await sandbox.stop();
});

describe('cache-keeper plan and apply', () => {
  it('plan --json prints a top-level changes array and writes nothing', async () => {
    const { io, out } = captureIo();
    expect(await runCli(['plan', '--json'], io, cli)).toBe(0);
    const parsed = JSON.parse(out.join('\n'));
    // The reconcile function's own shape: plan, result, summary.
    expect(parsed.plan.changes.map((c: { kind: string }) => c.kind)).toEqual([
      'create-rule',
      'create-template',
    ]);
    expect(parsed.summary).toEqual({ add: 2, change: 0, destroy: 0 });
    expect(parsed.result).toMatchObject({ dryRun: true, ok: true });
    expect(sandbox.ecr.writeCalls).toEqual([]);
  });

  it('apply prints a readable diff, then plan shows no changes', async () => {
    const first = captureIo();
    expect(await runCli(['apply'], first.io, cli)).toBe(0);
    const text = first.out.join('\n');
    expect(text).toContain('+ rule docker-hub');
    expect(text).toContain('rule docker-hub: validated upstream');
    const second = captureIo();
    expect(await runCli(['plan'], second.io, cli)).toBe(0);
    expect(second.out.join('\n')).toMatch(/^No changes/);
  });

  it('plan --detailed-exitcode: 2 while there are changes, 0 once there are none', async () => {
    await sandbox.stop();
    sandbox = await startSandbox();
    cli = sandboxDeps(sandbox).cli;
    expect(await runCli(['plan', '--detailed-exitcode'], captureIo().io, cli)).toBe(2);
    expect(await runCli(['plan'], captureIo().io, cli)).toBe(0);
    expect(await runCli(['apply'], captureIo().io, cli)).toBe(0);
    expect(await runCli(['plan', '--detailed-exitcode'], captureIo().io, cli)).toBe(0);
  });
});
