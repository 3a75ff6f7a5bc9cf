/** npm start's cycle, end to end on the sandbox: every step does what it should; --json for machines. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { runCli } from '../../cli/main.js';
import { captureIo } from '../support/cli-io.js';

it('cache-keeper cycle --json reports every expectation met and exits 0', async () => {
  const { io, out, err } = captureIo();
  const code = await runCli(['cycle', '--json'], io);
  const result = JSON.parse(out.join('\n'));
  expect(result.expectations.filter((e: { ok: boolean }) => !e.ok)).toEqual([]);
  expect(code).toBe(0);
  expect(result.tokenBefore.state).toBe('expiring');
  expect(result.tokenAfter.state).toBe('valid');
  expect(result.nights[0].counts).toMatchObject({ warmed: 12, failed: 0 });
  expect(
    result.nights[1].images
      .filter((i: { status: string }) => i.status === 'warmed')
      .map((i: { image: string }) => i.image)
      .sort(),
  ).toEqual(['node:22-alpine', 'python:3.13-slim']);
  expect(result.nights[1].upstreamPulls.measured).toBe(4);
  expect(result.alarms.now).toEqual([]);
  // No token or password in anything the cycle prints.
  expect([...out, ...err].join('\n')).not.toMatch(/dckr_pat_[A-Za-z0-9_-]{10,}|"password"/);
});

/** npm prints its banner on stdout; both documented ways give a report that parses whole. */
it('npm start gives pure JSON with --json FILE, and on stdout with npm --silent', async () => {
  const run = promisify(execFile);
  const file = join(mkdtempSync(join(tmpdir(), 'keeper-start-')), 'report.json');
  const toFile = await run('npm', ['start', '--', '--json', file]);
  expect(JSON.parse(readFileSync(file, 'utf8')).ok).toBe(true);
  expect(toFile.stdout).toContain('OK: every step did what it should.');
  const silent = await run('npm', ['start', '--silent', '--', '--json']);
  expect(JSON.parse(silent.stdout).ok).toBe(true);
}, 120_000);

it('cycle refuses an argument that is not the --json file', async () => {
  const { io, err } = captureIo();
  expect(await runCli(['cycle', 'report.json'], io)).toBe(2);
  expect(err.join('\n')).toMatch(/only argument is the file for --json/);
});
