/**
 * `cache-keeper prewarm` as a user sees it: in a real terminal (tmux) a live block shows the images
 * in flight, done/total, pulls and elapsed time, and goes away at the end, leaving one line per image
 * and a summary that lists every failure with its cause; piped, plain lines with no escape codes.
 * Skipped with a message when tmux is not installed; required under CI=true.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/load.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { sandboxDeps } from './support/sandbox-deps.js';

const run = promisify(execFile);
const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
})();
if (!hasTmux && process.env.CI === 'true')
  throw new Error('tmux is required under CI=true (.ci/run installs it)');
if (!hasTmux) console.warn('prewarm live view: tmux not installed, the terminal test is skipped');

const IMAGES = ['node:22-alpine', 'python:3.13-slim', 'alpine:3.20', 'redis:7', 'no-such-image:1'];
let sandbox: Sandbox;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  await reconcile(sandboxDeps(sandbox).aws, loadConfig('keeper.config.yaml'));
  // Slow layers, so that images are seen in flight.
  sandbox.faults.add({ match: /^registry:GET .*\/blobs\//, latencyMs: 400 });
  dir = mkdtempSync(join(tmpdir(), 'keeper-live-'));
});
afterAll(async () => {
  await sandbox?.stop();
});

/** A shell script that runs the CLI against the sandbox, as a user's shell would. */
function script(name: string, tail: string): string {
  const path = join(dir, name);
  const exports = Object.entries(sandbox.env).map(([k, v]) => `export ${k}='${v}'`);
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      ...exports,
      `cd '${process.cwd()}'`,
      `node bin/cache-keeper.mjs prewarm ${IMAGES.join(' ')}${tail}`,
    ].join('\n'),
  );
  return path;
}

describe('prewarm on a terminal and piped', () => {
  it.skipIf(!hasTmux)(
    'shows a live view in tmux, then one line per image and the failures',
    async () => {
      const session = `keeper-live-${process.pid}`;
      const path = script('tty.sh', '; echo "EXIT=$?"; sleep 60');
      await run('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '50', `sh ${path}`]);
      const frames: string[] = [];
      try {
        for (let i = 0; i < 300; i++) {
          const { stdout } = await run('tmux', ['capture-pane', '-p', '-t', session]);
          frames.push(stdout);
          if (stdout.includes('EXIT=')) break;
          await sleep(50);
        }
      } finally {
        await run('tmux', ['kill-session', '-t', session]).catch(() => undefined);
      }
      const last = frames.at(-1)!;
      expect(last, 'the run did not finish in 15 s').toContain('EXIT=1');
      // While running: images in flight with their step and bytes, and the totals line.
      const live = frames.find((f) => /⋯ \S+ +pull-blobs +[\d.]+ (B|KiB|MiB)/.test(f));
      expect(live, 'no frame showed an image in flight').toBeDefined();
      expect(live).toMatch(
        /\[\d+\/5\] \d+ in flight, [\d.]+ (B|KiB|MiB) moved, Docker Hub pulls: \d+ spent, \d+ of \d+ left, [\d.]+ s elapsed/,
      );
      // At the end: the block is gone, each image has exactly one line, the failure is listed with its cause.
      expect(last).not.toMatch(/in flight/);
      for (const image of IMAGES)
        expect(
          last.match(new RegExp(`^\\[\\d/5\\] \\S+ ${image.replace(/[.:]/g, '\\$&')} `, 'gm'))?.length,
          image,
        ).toBe(1);
      expect(last).toMatch(/^Failed \(1\):\n {2}no-such-image:1: \S+: not-found: /m);
    },
    30_000,
  );

  it('prints plain lines when piped: no escape codes, no live block', async () => {
    const path = script('piped.sh', '');
    const out = await run('sh', [path]).then(
      (r) => r.stdout,
      (error: { stdout: string }) => error.stdout,
    );
    expect(out).not.toContain('\x1b[');
    expect(out).not.toMatch(/in flight/);
    expect(out).toMatch(/^5 images: \d+ warmed, .* 1 failed/m);
    expect(out).toMatch(/^Failed \(1\):\n {2}no-such-image:1: \S+: not-found: /m);
  }, 30_000);
});
