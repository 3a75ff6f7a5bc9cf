/**
 * `rewrite` on GitHub Actions workflows, read back by GitHub's own parser: a workflow GitHub
 * accepts is still one it accepts once its images point at the cache.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the workflows hold GitHub Actions expressions, ${{ … }} as workflows write them
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { rewriteText } from '../../../lib/ci/rewrite.js';
import { workflowProblems } from '../../support/github-workflow.js';

const target = {
  registryHost: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
  rules: [{ prefix: 'docker-hub', upstreamPrefix: 'ROOT', pullHosts: ['docker.io'] }],
};
const C = `${target.registryHost}/docker-hub`;

const WORKFLOW = `name: ci
on:
  push:
    branches: [main]
  pull_request:
jobs:
  unit:
    runs-on: ubuntu-latest
    container: node:22
    steps:
      - uses: actions/checkout@v4
      - run: npm test
  integration:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        image: [python:3.12, python:3.13]
    container:
      image: \${{ matrix.image }}
      options: --cpus 2
    services:
      db:
        image: postgres:17
        ports: ['5432:5432']
        env:
          POSTGRES_PASSWORD: x
      cache:
        image: docker.io/library/redis:7
        credentials:
          username: \${{ secrets.CACHE_USER }}
          password: \${{ secrets.CACHE_PASSWORD }}
    steps:
      - uses: docker://alpine:3.20
        with:
          args: echo hi
      - run: pytest
`;

describe('rewrite, read back by GitHub’s workflow parser', () => {
  it('the workflow is valid before and after, with its images on the cache and the rest as it was', async () => {
    expect(await workflowProblems(WORKFLOW)).toEqual([]);
    // The parser is GitHub's schema at work: a key a service does not take is a problem.
    expect(await workflowProblems(WORKFLOW.replace('ports:', 'portz:'))).toEqual([
      expect.stringContaining("Unexpected value 'portz'"),
    ]);
    const { output: text, notes } = rewriteText(WORKFLOW, 'yaml', target);
    expect(await workflowProblems(text)).toEqual([]);

    const before = parse(WORKFLOW);
    const after = parse(text);
    expect(after.jobs.unit.container).toBe(`${C}/library/node:22`);
    expect(after.jobs.integration.services.db.image).toBe(`${C}/library/postgres:17`);
    expect(after.jobs.integration.services.cache.image).toBe(`${C}/library/redis:7`);
    // An expression and a docker:// step action are left, each with a note saying why.
    expect(after.jobs.integration.container.image).toBe('${{ matrix.image }}');
    expect(after.jobs.integration.steps[0].uses).toBe('docker://alpine:3.20');
    expect(notes.length).toBeGreaterThan(0);
    // Nothing but the images moved.
    after.jobs.unit.container = before.jobs.unit.container;
    after.jobs.integration.services.db.image = before.jobs.integration.services.db.image;
    after.jobs.integration.services.cache.image = before.jobs.integration.services.cache.image;
    expect(after).toEqual(before);
  });

  it('a rewritten workflow is rewritten no further', async () => {
    const once = rewriteText(WORKFLOW, 'yaml', target).output;
    const twice = rewriteText(once, 'yaml', target).output;
    expect(twice).toBe(once);
    expect(await workflowProblems(twice)).toEqual([]);
  });
});
