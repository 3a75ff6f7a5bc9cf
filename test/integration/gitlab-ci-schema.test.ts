/**
 * `rewrite` and `ci-snippet` on GitLab CI, read back against GitLab's own schema for
 * .gitlab-ci.yml (as gitlab-ci-local applies it): a file GitLab accepts is still one it accepts,
 * with the same jobs, once its images point at the cache; the snippet is one GitLab accepts.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { rewriteText } from '../../lib/ci/rewrite.js';
import { ciSnippet } from '../../lib/ci/snippet.js';
import { readGitlabCi } from './support/gitlab-ci.js';

const host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const target = {
  registryHost: host,
  rules: [{ prefix: 'docker-hub', upstreamPrefix: 'ROOT', pullHosts: ['docker.io'] }],
};
const C = `${host}/docker-hub`;

/** The forms GitLab CI files take: a default image, anchors, service lists and objects, flow style. */
const PIPELINE = `stages: [build, test]
default:
  image:
    name: python:3.13-slim
    entrypoint: [""]
variables:
  DOCKER_TLS_CERTDIR: "/certs"
.with-db: &with-db
  services:
    - postgres:17
    - name: redis:7
      alias: cache
build:
  stage: build
  image: docker:27
  services:
    - docker:27-dind
  script:
    - docker build -t app .
unit:
  stage: test
  <<: *with-db
  script: [pytest]
lint:
  stage: test
  image: { name: node:22, entrypoint: [""] }
  services: [bitnami/redis:7]
  script:
    - npm run lint
`;

describe('GitLab CI, read back against GitLab’s schema', () => {
  it('the schema is at work: a value GitLab does not take is a problem', async () => {
    const reading = await readGitlabCi(PIPELINE.replace('stage: build', 'stage: build\n  when: sometimes'));
    expect(reading.valid).toBe(false);
    expect(reading.problems).toEqual([expect.stringContaining("'when' property must be one of")]);
  });

  it('a pipeline rewritten to the cache is one GitLab accepts, with the same jobs and its images on the cache', async () => {
    const before = await readGitlabCi(PIPELINE);
    expect(before).toEqual({ valid: true, jobs: ['build', 'unit', 'lint'], problems: [] });

    const { output } = rewriteText(PIPELINE, 'yaml', target, '.gitlab-ci.yml');
    expect(await readGitlabCi(output)).toEqual(before);
    const doc = parse(output, { merge: true });
    expect(doc.default.image.name).toBe(`${C}/library/python:3.13-slim`);
    expect(doc.build.image).toBe(`${C}/library/docker:27`);
    // A service keeps the host name GitLab gave it from its image.
    expect(doc.build.services).toEqual([{ name: `${C}/library/docker:27-dind`, alias: 'docker' }]);
    expect(doc.unit.services).toEqual([
      { name: `${C}/library/postgres:17`, alias: 'postgres' },
      { name: `${C}/library/redis:7`, alias: 'cache' },
    ]);
    expect(doc.lint.image.name).toBe(`${C}/library/node:22`);
    expect(doc.lint.services).toEqual([{ name: `${C}/bitnami/redis:7`, alias: 'bitnami-redis' }]);
  });

  it('ci-snippet --for gitlab is a pipeline GitLab accepts', async () => {
    const snippet = ciSnippet('gitlab', { registryHost: host, example: `${C}/library/node:22` });
    const reading = await readGitlabCi(snippet);
    expect(reading.problems).toEqual([]);
    expect(reading.jobs.length).toBeGreaterThan(0);
  });
});
