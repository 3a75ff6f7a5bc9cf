/** cache-keeper rewrite on files: in place, --check, --diff, all-or-nothing on bad input. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/main.js';
import { captureIo } from '../../support/cli-io.js';

const REGISTRY = ['--registry', 'r.example'];

function files() {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-rewrite-'));
  const dockerfile = join(dir, 'Dockerfile');
  const compose = join(dir, 'docker-compose.yml');
  writeFileSync(dockerfile, 'FROM node:22 AS build\nRUN npm ci\nFROM scratch\nCOPY --from=build /app /app\n');
  writeFileSync(compose, 'services:\n  db:\n    image: postgres:17\n');
  return { dir, dockerfile, compose };
}

describe('cache-keeper rewrite', () => {
  it('--check writes nothing and exits 1 when a file would change; after a rewrite it exits 0', async () => {
    const { dockerfile, compose } = files();
    const before = readFileSync(dockerfile, 'utf8');
    expect(await runCli(['rewrite', dockerfile, compose, '--check', ...REGISTRY], captureIo().io)).toBe(1);
    expect(readFileSync(dockerfile, 'utf8')).toBe(before);

    const run = captureIo();
    expect(await runCli(['rewrite', dockerfile, compose, ...REGISTRY], run.io)).toBe(0);
    expect(readFileSync(dockerfile, 'utf8')).toBe(
      'FROM r.example/docker-hub/library/node:22 AS build\nRUN npm ci\nFROM scratch\nCOPY --from=build /app /app\n',
    );
    expect(readFileSync(compose, 'utf8')).toContain('image: r.example/docker-hub/library/postgres:17');
    expect(run.out.at(-1)).toBe('2 of 2 file(s) rewritten to r.example.');
    expect(run.err).toEqual([`${dockerfile}:4: left build: an earlier build stage`]);

    expect(await runCli(['rewrite', dockerfile, compose, '--check', ...REGISTRY], captureIo().io)).toBe(0);
  });

  it('--diff prints a unified diff and writes nothing', async () => {
    const { compose } = files();
    const run = captureIo();
    expect(await runCli(['rewrite', compose, '--diff', ...REGISTRY], run.io)).toBe(0);
    expect(run.out.join('\n')).toContain(
      '-    image: postgres:17\n+    image: r.example/docker-hub/library/postgres:17',
    );
    expect(readFileSync(compose, 'utf8')).toContain('image: postgres:17');
  });

  it('refuses a missing file or one of an unknown kind, exit 2, and writes none of the others', async () => {
    const { dir, dockerfile } = files();
    const readme = join(dir, 'README.md');
    writeFileSync(readme, 'FROM node:22\n');
    const run = captureIo();
    expect(await runCli(['rewrite', dockerfile, readme, join(dir, 'nope.yml'), ...REGISTRY], run.io)).toBe(2);
    expect(run.err).toEqual([
      expect.stringMatching(/README\.md: not a Dockerfile/),
      expect.stringMatching(/nope\.yml: no such file/),
    ]);
    expect(readFileSync(dockerfile, 'utf8')).toMatch(/^FROM node:22 AS build/);
  });
});
