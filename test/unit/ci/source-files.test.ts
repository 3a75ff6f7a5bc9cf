/** What rewrite and suggest read from the paths named: files as they are, directories walked. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isContainerConfig, passedOverLine, sourceFiles } from '../../../lib/ci/source-files.js';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-sources-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const K8S =
  'apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - image: node:22\n';

describe('isContainerConfig: a file met in a directory', () => {
  it.each([
    ['Dockerfile', '', true],
    ['services/api/Dockerfile.dev', '', true],
    ['ci/Jenkinsfile', '', true],
    ['compose.yaml', '', true],
    ['docker-compose.override.yml', '', true],
    ['deploy/app.compose.yml', '', true],
    ['.github/workflows/ci.yml', '', true],
    ['.github/actions/lint/action.yml', '', true],
    ['.gitlab-ci.yml', '', true],
    ['.gitlab/ci/build.yml', '', true],
    ['.circleci/config.yml', '', true],
    ['bitbucket-pipelines.yml', '', true],
    ['azure-pipelines.yml', '', true],
    ['.buildkite/pipeline.yml', '', true],
    ['.drone.yml', '', true],
    ['skaffold.yaml', '', true],
    ['overlays/prod/kustomization.yaml', '', true],
    ['charts/api/values-prod.yaml', '', true],
    ['.devcontainer/devcontainer.json', '', true],
    ['ecs/task-definition.json', '', true],
    ['k8s/deploy.yaml', K8S, true],
    ['charts/api/templates/deployment.yaml', K8S, true],
    ['infra/stack.yaml', 'AWSTemplateFormatVersion: "2010-09-09"\nResources: {}\n', true],
    ['infra/batch.json', '{"Resources": {"J": {"Type": "AWS::Batch::JobDefinition"}}}', true],
    ['ecs/api.json', '{"family": "api", "containerDefinitions": [{"image": "node:22"}]}', true],
    // An application's own data is not a container's image, whatever its keys.
    ['src/fixtures/gallery.json', '{"image": "logo.png"}', false],
    ['openapi.yaml', 'openapi: 3.1.0\ncomponents: {}\n', false],
    ['.pre-commit-config.yaml', 'repos: []\n', false],
    ['package-lock.json', '{"kind": "x", "apiVersion": "y"}', false],
    ['README.md', 'FROM node:22\n', false],
  ])('%s → %s', (path, text, expected) => expect(isContainerConfig(path, () => text)).toBe(expected));

  it('reads a file only when its name and place do not settle it', () => {
    let reads = 0;
    isContainerConfig('Dockerfile', () => `${reads++}`);
    isContainerConfig('.github/workflows/ci.yml', () => `${reads++}`);
    expect(reads).toBe(0);
    isContainerConfig('k8s/deploy.yaml', () => `${reads++}`);
    expect(reads).toBe(1);
  });
});

describe('sourceFiles', () => {
  it("walks a directory for its container files, not others' code nor links, and counts what it passed over", () => {
    const dir = tree({
      Dockerfile: 'FROM node:22\n',
      'docker-compose.yml': 'services:\n  db:\n    image: postgres:17\n',
      'k8s/deploy.yaml': K8S,
      'src/fixtures/gallery.json': '{"image": "logo.png"}',
      'node_modules/pkg/Dockerfile': 'FROM node:22\n',
      'README.md': 'FROM node:22\n',
    });
    symlinkSync(join(dir, 'Dockerfile'), join(dir, 'Dockerfile.link'));
    expect(sourceFiles([dir])).toEqual({
      files: [join(dir, 'Dockerfile'), join(dir, 'docker-compose.yml'), join(dir, 'k8s/deploy.yaml')],
      problems: [],
      passedOver: [{ directory: dir, count: 1 }],
    });
  });

  it('in a git work tree, takes what git tracks and what it would, not what .gitignore excludes', () => {
    const dir = tree({
      '.gitignore': 'dist/\n',
      Dockerfile: 'FROM node:22\n',
      'dist/Dockerfile': 'FROM node:22\n',
      'web/Dockerfile': 'FROM nginx:1.27\n',
    });
    execFileSync('git', ['init', '-q', dir]);
    expect(sourceFiles([dir]).files).toEqual([join(dir, 'Dockerfile'), join(dir, 'web/Dockerfile')]);
    // A directory inside the work tree gives its own files only.
    expect(sourceFiles([join(dir, 'web')]).files).toEqual([join(dir, 'web/Dockerfile')]);
  });

  it('reads a file named and met again in a directory once; a file named is read whatever its name', () => {
    const dir = tree({ Dockerfile: 'FROM node:22\n', 'data/images.yaml': 'image: node:22\n' });
    const named = join(dir, 'data/images.yaml');
    expect(sourceFiles([named, dir, join(dir, 'Dockerfile')]).files).toEqual([
      named,
      join(dir, 'Dockerfile'),
    ]);
  });

  it('names each path it cannot read: missing, of another kind, a directory with nothing to read', () => {
    const dir = tree({ 'README.md': 'x', 'docs/guide.md': 'x' });
    const data = tree({ 'mkdocs.yml': 'site_name: x\n' });
    expect(sourceFiles([join(dir, 'nope.yml'), join(dir, 'README.md'), dir, data]).problems).toEqual([
      `${join(dir, 'nope.yml')}: no such file or directory`,
      expect.stringMatching(/README\.md: not a Dockerfile/),
      `${dir}: no Dockerfile, Jenkinsfile, compose, CI, Kubernetes, Helm, kustomize, ECS or CloudFormation file below it`,
      `${data}: no Dockerfile, Jenkinsfile, compose, CI, Kubernetes, Helm, kustomize, ECS or CloudFormation file below it (1 other YAML/JSON file(s): name one to read it)`,
    ]);
  });

  it('says how to read a file the walk passed over', () => {
    expect(passedOverLine({ directory: 'repo', count: 3 })).toBe(
      'repo: 3 YAML/JSON file(s) passed over: not compose, CI, Kubernetes, Helm, kustomize, ECS or CloudFormation by name or content (name a file to read it)',
    );
  });
});
