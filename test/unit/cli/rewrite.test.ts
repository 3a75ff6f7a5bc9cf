/** cache-keeper rewrite on files: in place, --check, --diff, all-or-nothing on bad input. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/main.js';
import { captureIo } from '../../support/cli-io.js';
import { RULES } from '../../support/configs.js';

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

  it('a file that cannot be written leaves every file as it was', async () => {
    const { dockerfile, compose } = files();
    const before = [readFileSync(dockerfile, 'utf8'), readFileSync(compose, 'utf8')];
    // The compose file's place beside it is taken by a directory: it cannot be written there.
    mkdirSync(`${compose}.cache-keeper-partial`);
    await expect(runCli(['rewrite', dockerfile, compose, ...REGISTRY], captureIo().io)).rejects.toThrow(
      /docker-compose\.yml/,
    );
    expect([readFileSync(dockerfile, 'utf8'), readFileSync(compose, 'utf8')]).toEqual(before);
    expect(existsSync(`${dockerfile}.cache-keeper-partial`)).toBe(false);
  });

  it("says once per GitLab CI file that the runner, not the job's login, pulls its images", async () => {
    const { dir } = files();
    const ci = join(dir, '.gitlab-ci.yml');
    writeFileSync(ci, 'image: node:22\nservices:\n  - postgres:17\ntest:\n  script: make\n');
    const run = captureIo();
    expect(await runCli(['rewrite', ci, '--check', ...REGISTRY], run.io)).toBe(1);
    expect(run.err).toEqual([
      `${ci}:1: note node:22: GitLab's runner pulls a job's image: and services: itself, before the job's login: give it the ECR credential helper for r.example (cache-keeper ci-snippet --for gitlab)`,
    ]);
  });

  it("reads GitLab CI's forms in an included template, known by its place, though it has no script or stages", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keeper-rewrite-'));
    mkdirSync(join(dir, '.gitlab', 'ci'), { recursive: true });
    const template = join(dir, '.gitlab', 'ci', 'databases.yml');
    const values = join(dir, 'values.yml');
    const text = '.with-postgres:\n  services:\n    - postgres:17\n';
    writeFileSync(template, text);
    writeFileSync(values, text);
    expect(await runCli(['rewrite', template, values, ...REGISTRY], captureIo().io)).toBe(0);
    expect(readFileSync(template, 'utf8')).toBe(
      '.with-postgres:\n  services:\n    - { name: r.example/docker-hub/library/postgres:17, alias: postgres }\n',
    );
    // The same text elsewhere is a list of names, not GitLab's services.
    expect(readFileSync(values, 'utf8')).toBe(text);
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

  it('rewrites an ECS task definition in place and leaves a JSON file it cannot read whole, saying where', async () => {
    const { dir } = files();
    const taskDefinition = join(dir, 'task-definition.json');
    const broken = join(dir, 'broken.json');
    const ecs =
      '{\n  "family": "web",\n  "containerDefinitions": [\n    { "name": "app", "image": "node:22" }\n  ]\n}\n';
    writeFileSync(taskDefinition, ecs);
    writeFileSync(broken, '{\n  "image": "node:22",\n  "x": \n}\n');
    // Done, but something is wrong (exit 1): the file rewrite could not read may pull from Docker Hub.
    const check = captureIo();
    expect(await runCli(['rewrite', broken, '--check', ...REGISTRY], check.io)).toBe(1);
    expect(check.out.at(-1)).toBe('0 of 1 file(s) would change; 1 could not be read.');
    const run = captureIo();
    expect(await runCli(['rewrite', taskDefinition, broken, ...REGISTRY], run.io)).toBe(1);
    expect(readFileSync(taskDefinition, 'utf8')).toBe(
      ecs.replace('node:22', 'r.example/docker-hub/library/node:22'),
    );
    expect(readFileSync(broken, 'utf8')).toBe('{\n  "image": "node:22",\n  "x": \n}\n');
    expect(run.err).toEqual([
      expect.stringMatching(/broken\.json:4: left: not JSON this tool can read \(line 4: /),
    ]);
    expect(run.out.at(-1)).toBe('1 of 2 file(s) rewritten to r.example; 1 could not be read.');
    const json = captureIo();
    expect(await runCli(['rewrite', broken, '--json', ...REGISTRY], json.io)).toBe(1);
    expect(JSON.parse(json.out.join('\n'))).toEqual([
      expect.objectContaining({ readable: false, changes: [] }),
    ]);
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
    const empty = mkdtempSync(join(tmpdir(), 'keeper-rewrite-empty-'));
    const directory = captureIo();
    expect(await runCli(['rewrite', dockerfile, empty, ...REGISTRY], directory.io)).toBe(2);
    expect(directory.err).toEqual([
      `cache-keeper rewrite: ${empty}: no Dockerfile, Jenkinsfile, compose, CI, Kubernetes, Helm, kustomize, ECS or CloudFormation file below it`,
    ]);
    expect(readFileSync(dockerfile, 'utf8')).toMatch(/^FROM node:22 AS build/);
  });

  it("rewrites a directory's Dockerfiles and container files, and says what YAML and JSON it passed over", async () => {
    const { dir, dockerfile, compose } = files();
    const data = join(dir, 'src', 'gallery.json');
    mkdirSync(join(dir, 'src'));
    writeFileSync(data, '{"image": "logo.png"}\n');
    const check = captureIo();
    expect(await runCli(['rewrite', dir, '--check', ...REGISTRY], check.io)).toBe(1);
    expect(check.out.at(-1)).toBe('2 of 2 file(s) would change.');

    const run = captureIo();
    expect(await runCli(['rewrite', dir, ...REGISTRY], run.io)).toBe(0);
    expect(readFileSync(dockerfile, 'utf8')).toMatch(
      /^FROM r\.example\/docker-hub\/library\/node:22 AS build/,
    );
    expect(readFileSync(compose, 'utf8')).toContain('image: r.example/docker-hub/library/postgres:17');
    expect(readFileSync(data, 'utf8')).toBe('{"image": "logo.png"}\n');
    expect(run.err).toContain(
      `cache-keeper rewrite: ${dir}: 1 YAML/JSON file(s) passed over: not compose, CI, Kubernetes, Helm, kustomize, ECS or CloudFormation by name or content (name a file to read it)`,
    );
    expect(await runCli(['rewrite', dir, '--check', ...REGISTRY], captureIo().io)).toBe(0);
  });

  it("rewrites every registry a rule caches, through each rule's upstream prefix, and leaves the rest", async () => {
    const { dir } = files();
    const config = join(dir, 'keeper.config.yaml');
    writeFileSync(config, RULES);
    const dockerfile = join(dir, 'Dockerfile');
    writeFileSync(
      dockerfile,
      'FROM node:22\nFROM bitnami/redis:7\nFROM quay.io/prometheus/node-exporter:v1\nFROM ghcr.io/o/app:1\n',
    );
    const run = captureIo();
    expect(await runCli(['rewrite', dockerfile, '--config', config, ...REGISTRY], run.io)).toBe(0);
    expect(readFileSync(dockerfile, 'utf8')).toBe(
      'FROM r.example/docker-hub/node:22\nFROM r.example/hub-all/bitnami/redis:7\n' +
        'FROM r.example/quay/prometheus/node-exporter:v1\nFROM ghcr.io/o/app:1\n',
    );
    expect(run.err).toEqual([
      `${dockerfile}:4: left ghcr.io/o/app:1: ghcr.io has no pull-through cache rule here`,
    ]);
  });

  it('a reference pinned by digest is rewritten, and its caution is not reported as left alone', async () => {
    const { dir } = files();
    const dockerfile = join(dir, 'Dockerfile');
    const digest = `sha256:${'a'.repeat(64)}`;
    writeFileSync(dockerfile, `FROM node:22@${digest}\n`);
    const run = captureIo();
    expect(await runCli(['rewrite', dockerfile, ...REGISTRY], run.io)).toBe(0);
    expect(readFileSync(dockerfile, 'utf8')).toBe(`FROM r.example/docker-hub/library/node:22@${digest}\n`);
    expect(run.err).toEqual([
      `${dockerfile}:1: note node:22@${digest}: pinned by digest: an image not yet in the cache cannot be pulled through it by digest; pre-warm its tag first`,
    ]);
  });
});
