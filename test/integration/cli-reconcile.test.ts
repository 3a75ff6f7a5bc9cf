/** cache-keeper plan / apply against the sandbox, as a user would run them. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    expect(await runCli(['apply', '--auto-approve'], first.io, cli)).toBe(0);
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
    expect(await runCli(['apply', '--auto-approve'], captureIo().io, cli)).toBe(0);
    expect(await runCli(['plan', '--detailed-exitcode'], captureIo().io, cli)).toBe(0);
  });
});

describe('apply: a saved plan, and asking first', () => {
  const fresh = async () => {
    await sandbox.stop();
    sandbox = await startSandbox();
    cli = sandboxDeps(sandbox).cli;
  };
  const planFile = () => join(mkdtempSync(join(tmpdir(), 'keeper-plan-')), 'tonight.plan');

  it('plan -out FILE, then apply FILE applies exactly that plan', async () => {
    await fresh();
    const file = planFile();
    expect(await runCli(['plan', '-out', file], captureIo().io, cli)).toBe(0);
    expect(sandbox.ecr.writeCalls).toEqual([]);
    const applied = captureIo();
    expect(await runCli(['apply', file, '--json'], applied.io, cli)).toBe(0);
    const report = JSON.parse(applied.out.join('\n'));
    expect(report.result.applied.map((a: { target: string }) => a.target)).toEqual([
      'rule docker-hub',
      'template docker-hub',
    ]);
    expect(await runCli(['plan', '--detailed-exitcode'], captureIo().io, cli)).toBe(0);
  });

  it('apply FILE refuses when the account changed since the plan was saved, and applies nothing', async () => {
    await fresh();
    const file = planFile();
    expect(await runCli(['plan', `-out=${file}`], captureIo().io, cli)).toBe(0);
    // Someone creates the rule by hand in between.
    await runCli(['apply', '--auto-approve'], captureIo().io, cli);
    const writes = sandbox.ecr.writeCalls.length;
    await expect(runCli(['apply', file], captureIo().io, cli)).rejects.toThrow(
      /changed since the plan was saved/,
    );
    expect(sandbox.ecr.writeCalls.length).toBe(writes);
  });

  it('apply without a terminal and without --auto-approve refuses and writes nothing', async () => {
    await fresh();
    const run = captureIo();
    expect(await runCli(['apply'], run.io, cli)).toBe(1);
    expect(run.err.join('\n')).toMatch(/not on a terminal, so not asking: pass --auto-approve/);
    expect(sandbox.ecr.writeCalls).toEqual([]);
  });

  it('on a terminal it asks, and only "yes" applies', async () => {
    await fresh();
    const answers = ['no', 'yes'];
    const terminal = () => {
      const io = captureIo();
      return { ...io, io: { ...io.io, isTty: true, prompt: async () => answers.shift()! } };
    };
    expect(await runCli(['apply'], terminal().io, cli)).toBe(1);
    expect(sandbox.ecr.writeCalls).toEqual([]);
    expect(await runCli(['apply'], terminal().io, cli)).toBe(0);
    expect(sandbox.ecr.writeCalls.length).toBeGreaterThan(0);
  });
});
