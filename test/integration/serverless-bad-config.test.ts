/**
 * `serverless package` with a keeper.config.yaml that does not validate: the user sees the config's
 * problems with their paths, once each, and no stack traces (the real osls CLI, no AWS).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serverlessPackage } from './support/serverless-package.js';

describe('serverless package with a bad config', () => {
  it('prints only the problems, each with its path, and exits non-zero', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keeper-bad-config-'));
    const config = join(dir, 'keeper.config.yaml');
    writeFileSync(
      config,
      [
        'rules:',
        '  - prefix: Docker-Hub',
        '    upstream: registry-1.docker.io',
        'prewarm:',
        '  concurrency: -3',
        '',
      ].join('\n'),
    );
    const packaged = await serverlessPackage([], { config });
    expect(packaged.code, 'serverless package accepted a bad config').not.toBe(0);
    const output = packaged.output;
    for (const path of ['rules[0].prefix', 'rules[0].upstream', 'prewarm.concurrency'])
      expect(output.split(`  ${path}: `).length - 1, `${path} reported once`).toBe(1);
    expect(output).toContain(config);
    expect(output).not.toMatch(/^\s+at /m);
    expect(output.trim().split('\n').length).toBeLessThanOrEqual(6);
  }, 60_000);

  it('refuses, before CloudFormation would, a config whose roles need more than IAM allows a role', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keeper-big-config-'));
    const config = join(dir, 'keeper.config.yaml');
    // ECR's 50 rules, each with its own credential secret: every rule adds its repositories and
    // its secret to the roles' policies.
    const rules = Array.from(
      { length: 50 },
      (_, i) =>
        `  - { prefix: team${i}-hub, upstream: docker-hub, upstreamPrefix: team${i}, credentialSecret: ecr-pullthroughcache/docker-hub-team${i}, template: { lifecycle: { keepLast: 6 } } }`,
    );
    writeFileSync(config, ['rules:', ...rules, ''].join('\n'));
    const packaged = await serverlessPackage([], { config });
    expect(packaged.code, 'serverless package accepted roles IAM would refuse').not.toBe(0);
    const output = packaged.output;
    expect(output).toMatch(
      /the reconcile function's role needs about \d{5} characters of policy; IAM allows a role 10,240/,
    );
    expect(output).toMatch(/50 rules/);
    expect(output).not.toMatch(/^\s+at /m);
  }, 60_000);
});
