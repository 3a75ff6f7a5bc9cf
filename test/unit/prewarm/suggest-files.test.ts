/** suggestFromFiles: what Dockerfiles and CI files pull through the rules that prewarm.images misses. */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the files hold compose and Dockerfile variables
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config/load.js';
import { formatFileSuggestions, suggestFromFiles } from '../../../lib/prewarm/suggest-files.js';

const config = parseConfig(`rules:
  - prefix: docker-hub
    upstream: docker-hub
    credentialSecret: ecr-pullthroughcache/docker-hub
  - prefix: quay
    upstream: quay
prewarm:
  images: [node:22, docker.io/library/python:3.13-slim]
`);

describe('suggestFromFiles', () => {
  it('lists what the files pull through a rule and the list misses, once, with where each is pulled', () => {
    const report = suggestFromFiles(config, [
      {
        path: 'Dockerfile',
        kind: 'dockerfile',
        text: '# syntax=docker/dockerfile:1\nFROM node:22 AS build\nFROM docker.io/library/nginx:1.27\nCOPY --from=build /a /b',
      },
      {
        path: 'compose.yml',
        kind: 'yaml',
        text: 'services:\n  web:\n    image: nginx:1.27\n  db:\n    image: ${DB_IMAGE:-postgres:17}\n  py:\n    image: python:3.13-slim\n  exp:\n    image: quay.io/prometheus/node-exporter:v1.9.0\n  k8s:\n    image: registry.k8s.io/pause:3.10',
      },
    ]);
    expect(report.notListed).toEqual([
      { image: 'docker/dockerfile:1', pulledBy: ['Dockerfile:1'] },
      { image: 'nginx:1.27', pulledBy: ['Dockerfile:3', 'compose.yml:3'] },
      { image: 'postgres:17', pulledBy: ['compose.yml:5'] },
      { image: 'quay.io/prometheus/node-exporter:v1.9.0', pulledBy: ['compose.yml:9'] },
    ]);
    expect(report.unreadable).toEqual([]);
  });

  it.each([
    ['a variable tag', 'FROM node:${NODE_VERSION}', 'built from a variable'],
    ['a digest without a tag', `FROM alpine@sha256:${'a'.repeat(64)}`, 'pinned by digest only'],
    ['a digest that is none', 'FROM alpine:3.20@sha256:abc', 'is not a digest'],
  ])('leaves %s out, saying why', (_form, text, why) => {
    const report = suggestFromFiles(config, [{ path: 'Dockerfile', kind: 'dockerfile', text }]);
    expect(report.notListed).toEqual([]);
    expect(report.skipped).toEqual([
      expect.objectContaining({ where: 'Dockerfile:1', why: expect.stringContaining(why) }),
    ]);
  });

  it("counts what CI pulls before any login can, left as written by rewrite: an Actions docker:// step, Jenkins' short docker agent", () => {
    const report = suggestFromFiles(config, [
      {
        path: '.github/workflows/ci.yml',
        kind: 'yaml',
        text: 'on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: docker://alpine:3.20',
      },
      { path: 'Jenkinsfile', kind: 'jenkinsfile', text: "pipeline {\n  agent { docker 'maven:3.9' }\n}" },
    ]);
    expect(report.notListed).toEqual([
      { image: 'alpine:3.20', pulledBy: ['.github/workflows/ci.yml:6'] },
      { image: 'maven:3.9', pulledBy: ['Jenkinsfile:2'] },
    ]);
  });

  it('a tag pinned by digest too is listed by its tag; no tag at all is latest', () => {
    const report = suggestFromFiles(config, [
      { path: 'Dockerfile', kind: 'dockerfile', text: `FROM redis:7@sha256:${'b'.repeat(64)}\nFROM busybox` },
    ]);
    expect(report.notListed.map((i) => i.image)).toEqual(['busybox:latest', 'redis:7']);
  });

  it('counts references rewrite already pointed at the cache, and a Helm image as one image', () => {
    const host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    const report = suggestFromFiles(config, [
      {
        path: 'Dockerfile',
        kind: 'dockerfile',
        text: `FROM ${host}/docker-hub/library/nginx:1.27\nFROM ${host}/quay/prometheus/node-exporter:v1.9.0`,
      },
      {
        path: 'values.yaml',
        kind: 'yaml',
        text:
          'image:\n  registry: docker.io\n  repository: bitnami/redis\n  tag: 7.4\nother:\n  image:\n    registry: ' +
          host +
          '\n    repository: docker-hub/library/node\n    tag: "22"',
      },
    ]);
    expect(report.notListed).toEqual([
      { image: 'bitnami/redis:7.4', pulledBy: ['values.yaml:3'] },
      { image: 'nginx:1.27', pulledBy: ['Dockerfile:1'] },
      { image: 'quay.io/prometheus/node-exporter:v1.9.0', pulledBy: ['Dockerfile:2'] },
    ]);
  });

  it('with several ECR hosts in the files, the one given is the cache', () => {
    const cache = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    const other = '210987654321.dkr.ecr.us-east-1.amazonaws.com';
    const files = [
      {
        path: 'Dockerfile',
        kind: 'dockerfile' as const,
        text: `FROM ${cache}/docker-hub/library/nginx:1.27\nFROM ${other}/app:1`,
      },
    ];
    expect(suggestFromFiles(config, files).notListed).toEqual([]);
    expect(suggestFromFiles(config, files, { registryHost: cache }).notListed).toEqual([
      { image: 'nginx:1.27', pulledBy: ['Dockerfile:1'] },
    ]);
  });

  it('names a file it cannot read', () => {
    const report = suggestFromFiles(config, [{ path: 'x.json', kind: 'json', text: '{"image": ' }]);
    expect(report.unreadable).toEqual(['x.json']);
  });

  it('prints the list, and with config lines what to add', () => {
    const report = suggestFromFiles(config, [
      { path: 'Dockerfile', kind: 'dockerfile', text: 'FROM nginx:1.27' },
    ]);
    expect(formatFileSuggestions(report, true)).toBe(
      [
        'Pulled by these files through the cache, not on prewarm.images (1):',
        '  nginx:1.27                       Dockerfile:1',
        '',
        'To add them, under prewarm.images in keeper.config.yaml:',
        '    - nginx:1.27',
      ].join('\n'),
    );
    expect(formatFileSuggestions(suggestFromFiles(config, []), false)).toBe(
      'Everything these files pull through the cache is on prewarm.images.',
    );
  });
});
