/** cache-keeper suggest FILE…: the pre-warm list's gaps from Dockerfiles and CI files, with no AWS. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/main.js';
import { captureIo } from '../../support/cli-io.js';

function repository() {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-suggest-files-'));
  const config = join(dir, 'keeper.config.yaml');
  writeFileSync(
    config,
    'rules:\n  - prefix: docker-hub\n    upstream: docker-hub\n    credentialSecret: ecr-pullthroughcache/docker-hub\nprewarm:\n  images: [node:22]\n',
  );
  const dockerfile = join(dir, 'Dockerfile');
  writeFileSync(dockerfile, 'FROM node:22 AS build\nFROM nginx:1.27\n');
  return { dir, config, dockerfile };
}

describe('cache-keeper suggest FILE…', () => {
  it('lists what the files pull that prewarm.images misses, with the lines to add, and needs no AWS', async () => {
    const { config, dockerfile } = repository();
    const run = captureIo();
    // No region and no credentials in the environment: nothing here may reach for AWS.
    const code = await runCli(['suggest', dockerfile, '--config', config, '--config-lines'], run.io, {
      env: {},
    });
    expect(code).toBe(0);
    expect(run.out.join('\n')).toBe(
      [
        'Pulled by these files through the cache, not on prewarm.images (1):',
        `  nginx:1.27                       ${dockerfile}:2`,
        '',
        'To add them, under prewarm.images in keeper.config.yaml:',
        '    - nginx:1.27',
      ].join('\n'),
    );
  });

  it("reads a directory's Dockerfiles and CI files, not its other YAML", async () => {
    const { dir, config, dockerfile } = repository();
    mkdirSync(join(dir, '.github', 'workflows'), { recursive: true });
    const workflow = join(dir, '.github', 'workflows', 'ci.yml');
    writeFileSync(
      workflow,
      'jobs:\n  test:\n    runs-on: ubuntu-latest\n    services:\n      db:\n        image: postgres:17\n',
    );
    writeFileSync(join(dir, 'mkdocs.yml'), 'image: python:3.13\n');
    const run = captureIo();
    expect(await runCli(['suggest', dir, '--config', config, '--json'], run.io, { env: {} })).toBe(0);
    expect(JSON.parse(run.out.join('\n')).notListed).toEqual([
      expect.objectContaining({ image: 'nginx:1.27', pulledBy: [`${dockerfile}:2`] }),
      expect.objectContaining({ image: 'postgres:17', pulledBy: [`${workflow}:6`] }),
    ]);
    // keeper.config.yaml and mkdocs.yml
    expect(run.err).toEqual([expect.stringMatching(/: 2 YAML\/JSON file\(s\) passed over/)]);
  });

  it('refuses a missing file, and --days with files, exit 2', async () => {
    const { dir, config, dockerfile } = repository();
    const run = captureIo();
    expect(
      await runCli(
        ['suggest', dockerfile, join(dir, 'nope.yml'), '--days', '3', '--config', config],
        run.io,
        {
          env: {},
        },
      ),
    ).toBe(2);
    expect(run.err).toEqual([
      expect.stringMatching(/nope\.yml: no such file/),
      expect.stringMatching(/--days reads ECR's record of pulls/),
    ]);
  });

  it('exits 1 when a file does not parse, naming it', async () => {
    const { dir, config } = repository();
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"image": ');
    const run = captureIo();
    expect(await runCli(['suggest', broken, '--config', config, '--json'], run.io, { env: {} })).toBe(1);
    expect(JSON.parse(run.out.join('\n'))).toEqual({ notListed: [], skipped: [], unreadable: [broken] });
  });
});
