import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/config/errors.js';
import { cacheRepositoryName } from '../../../lib/config/images.js';
import { loadConfig, parseConfig } from '../../../lib/config/load.js';

const base = `
rules:
  - prefix: docker-hub
    upstream: docker-hub
    credentialSecret: ecr-pullthroughcache/docker-hub
    template:
      lifecycle: { keepLast: 6 }
`;

function problemsOf(text: string): Array<{ path: string; message: string }> {
  try {
    parseConfig(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

function expectProblem(text: string, path: string, message: RegExp) {
  const problems = problemsOf(text);
  expect(problems, JSON.stringify(problems)).toContainEqual({
    path,
    message: expect.stringMatching(message),
  });
}

describe('the repository keeper.config.yaml', () => {
  it('reproduces the seed setup: docker-hub rule, its secret, no upstream prefix, keep-last-6 template', () => {
    const config = loadConfig('keeper.config.yaml');
    const rule = config.rules.find((r) => r.prefix === 'docker-hub');
    expect(rule).toMatchObject({
      upstream: 'docker-hub',
      upstreamUrl: 'registry-1.docker.io',
      upstreamPrefix: 'ROOT',
      credentialSecretName: 'ecr-pullthroughcache/docker-hub',
    });
    const policy = JSON.parse(rule!.template!.lifecyclePolicy!);
    expect(policy.rules).toContainEqual(
      expect.objectContaining({
        selection: {
          tagStatus: 'tagged',
          tagPatternList: ['*'],
          countType: 'imageCountMoreThan',
          countNumber: 6,
        },
        action: { type: 'expire' },
      }),
    );
    expect(rule!.template!.prefix).toBe('docker-hub');
  });

  it('matches the committed JSON schema (npm run schema keeps it current)', async () => {
    const { configJsonSchema } = await import('../../../lib/config/json-schema.js');
    const committed = JSON.parse(readFileSync('schema/keeper.config.schema.json', 'utf8'));
    expect(committed).toEqual(configJsonSchema());
  });

  it('matches the committed configuration reference (npm run schema keeps it current)', async () => {
    const { configurationReference } = await import('../../../lib/config/reference.js');
    expect(readFileSync('docs/configuration.md', 'utf8')).toBe(configurationReference());
  });
});

describe('parseConfig: valid input', () => {
  it('fills defaults and resolves images to their cache repositories', () => {
    const config = parseConfig(`${base}
prewarm:
  images: [node, "python:3.13-slim", { image: "docker.io/grafana/grafana:11", platforms: [linux/arm64] }]
`);
    // 16 since the pre-warm benchmark (docs/PERFORMANCE.md): HEADs and cached reads are light.
    expect(config.prewarm.concurrency).toBe(16);
    expect(config.prewarm.mode).toBe('full');
    expect(config.metrics.namespace).toBe('EcrCacheKeeper');
    expect(config.reconcile).toEqual({ prune: false, backfillLifecycle: true, excludeRepositories: [] });
    const [node, python, grafana] = config.prewarm.images;
    expect(node).toMatchObject({ repository: 'library/node', tag: 'latest', rulePrefix: 'docker-hub' });
    expect(cacheRepositoryName(python!)).toBe('docker-hub/library/python');
    expect(grafana).toMatchObject({ repository: 'grafana/grafana', tag: '11', platforms: ['linux/arm64'] });
  });

  it('accepts repository exclusions that can match under a rule prefix, wildcards anywhere', () => {
    const config = parseConfig(`${base}
reconcile:
  excludeRepositories: [docker-hub/team-d/*, "*/redis", docker-hub/library/node, "docker-*"]
`);
    expect(config.reconcile.excludeRepositories).toEqual([
      'docker-hub/team-d/*',
      '*/redis',
      'docker-hub/library/node',
      'docker-*',
    ]);
  });

  it('accepts an ECR Public rule with no secret and an ECR rule with a role', () => {
    const config = parseConfig(`${base}
  - prefix: ecr-public
    upstream: ecr-public
  - prefix: upstream-ecr
    upstream: ecr
    upstreamUrl: 123456789012.dkr.ecr.eu-west-1.amazonaws.com
    customRoleArn: arn:aws:iam::123456789012:role/ptc
`);
    expect(config.rules.map((r) => r.upstreamRegistry)).toEqual(['docker-hub', 'ecr-public', 'ecr']);
  });

  it("maps an image through its rule's upstream prefix as ECR does (cache <prefix>/x ↔ upstream <upstreamPrefix>/x)", () => {
    const config =
      parseConfig(`${base.replace('    upstream: docker-hub\n', '    upstream: docker-hub\n    upstreamPrefix: library\n')}
  - prefix: hub-all
    upstream: docker-hub
    credentialSecret: ecr-pullthroughcache/docker-hub
  - prefix: quay
    upstream: quay
prewarm:
  images: [node:22, bitnami/redis:7, quay.io/prometheus/node-exporter:v1]
`);
    const [node, redis, exporter] = config.prewarm.images;
    // library/node falls under the first rule's upstream prefix; bitnami/redis does not, so the next rule caches it.
    expect(node).toMatchObject({ repository: 'library/node', rulePrefix: 'docker-hub' });
    expect(cacheRepositoryName(node!)).toBe('docker-hub/node');
    expect(redis).toMatchObject({ repository: 'bitnami/redis', rulePrefix: 'hub-all' });
    expect(cacheRepositoryName(redis!)).toBe('hub-all/bitnami/redis');
    expect(cacheRepositoryName(exporter!)).toBe('quay/prometheus/node-exporter');
  });

  it('accepts a secret given as an ARN and takes its name', () => {
    const config = parseConfig(
      base.replace(
        'ecr-pullthroughcache/docker-hub',
        'arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf',
      ),
    );
    expect(config.rules[0]!.credentialSecretName).toBe('ecr-pullthroughcache/docker-hub');
  });
});

describe('parseConfig: bad input is reported with its path', () => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['malformed YAML', 'rules: [\n  - prefix: x', 'line 2, column 3', /YAML: Block collections/],
    ['a list at the top', '- a\n- b', '(top level)', /YAML mapping/],
    ['an empty file', '', '(top level)', /YAML mapping/],
    ['no rules', 'prewarm: {}', 'rules', /is required/],
    ['unknown top-level key', `${base}\nprewarn: {}`, '(top level)', /unknown key "prewarn"/],
    [
      'unknown rule key',
      base.replace('upstream: docker-hub', 'upstream: docker-hub\n    credentalSecret: x'),
      'rules[0]',
      /unknown key "credentalSecret"/,
    ],
    [
      'unknown template key',
      base.replace('keepLast: 6', 'keepLast: 6, keepLatest: 2'),
      'rules[0].template.lifecycle',
      /unknown key "keepLatest"/,
    ],
    [
      'prefix with capitals',
      base.replace('prefix: docker-hub', 'prefix: DockerHub'),
      'rules[0].prefix',
      /lowercase/,
    ],
    ['prefix too short', base.replace('prefix: docker-hub', 'prefix: d'), 'rules[0].prefix', /2 to 30/],
    [
      'prefix too long',
      base.replace('prefix: docker-hub', `prefix: ${'a'.repeat(31)}`),
      'rules[0].prefix',
      /2 to 30/,
    ],
    [
      'prefix with a trailing separator',
      base.replace('prefix: docker-hub', 'prefix: docker-'),
      'rules[0].prefix',
      /lowercase/,
    ],
    [
      'prefix as a number',
      base.replace('prefix: docker-hub', 'prefix: 42'),
      'rules[0].prefix',
      /must be a string, not 42/,
    ],
    [
      'unknown upstream',
      base.replace('upstream: docker-hub', 'upstream: dockerhub'),
      'rules[0].upstream',
      /docker-hub/,
    ],
    [
      'secret outside ecr-pullthroughcache/',
      base.replace('ecr-pullthroughcache/docker-hub', 'dockerhub/token'),
      'rules[0].credentialSecret',
      /must start with "ecr-pullthroughcache\/"/,
    ],
    [
      'Docker Hub rule without a secret',
      base.replace('    credentialSecret: ecr-pullthroughcache/docker-hub\n', ''),
      'rules[0].credentialSecret',
      /needs a Secrets Manager secret/,
    ],
    [
      'ECR Public rule with a secret',
      'rules:\n  - { prefix: ecr-public, upstream: ecr-public, credentialSecret: ecr-pullthroughcache/x }',
      'rules[0].credentialSecret',
      /takes no credential secret/,
    ],
    [
      'ECR rule without a role',
      'rules:\n  - { prefix: ecr-up, upstream: ecr, upstreamUrl: 123456789012.dkr.ecr.us-east-1.amazonaws.com }',
      'rules[0].customRoleArn',
      /needs customRoleArn/,
    ],
    [
      'Azure rule without a URL',
      'rules:\n  - { prefix: azure, upstream: azure, credentialSecret: ecr-pullthroughcache/az }',
      'rules[0].upstreamUrl',
      /is required for upstream azure/,
    ],
    [
      'Docker Hub rule with a foreign URL',
      base.replace('upstream: docker-hub', 'upstream: docker-hub\n    upstreamUrl: quay.io'),
      'rules[0].upstreamUrl',
      /not a docker-hub registry/,
    ],
    [
      'a bad role ARN',
      'rules:\n  - { prefix: ecr-up, upstream: ecr, upstreamUrl: 123456789012.dkr.ecr.us-east-1.amazonaws.com, customRoleArn: role/x }',
      'rules[0].customRoleArn',
      /IAM role ARN/,
    ],
    [
      'upstream prefix on a ROOT rule',
      base.replace('prefix: docker-hub', 'prefix: ROOT\n    upstreamPrefix: library'),
      'rules[0].upstreamPrefix',
      /only be set when the ECR prefix is not ROOT/,
    ],
    [
      'duplicate prefixes',
      `${base}  - { prefix: docker-hub, upstream: quay }`,
      'rules[1].prefix',
      /already used by rules\[0\]/,
    ],
    [
      '51 rules',
      `rules:\n${Array.from({ length: 51 }, (_, i) => `  - { prefix: quay${i}, upstream: quay }`).join('\n')}`,
      'rules',
      /at most 50/,
    ],
    [
      'resource tags without a role',
      base.replace('keepLast: 6 }', 'keepLast: 6 }\n      resourceTags: { team: platform }'),
      'rules[0].template.customRoleArn',
      /custom role/,
    ],
    [
      'KMS without a role',
      base.replace('keepLast: 6 }', 'keepLast: 6 }\n      encryption: { type: KMS }'),
      'rules[0].template.customRoleArn',
      /custom role/,
    ],
    [
      'unknown encryption type',
      base.replace('keepLast: 6 }', 'keepLast: 6 }\n      encryption: { type: DES }'),
      'rules[0].template.encryption.type',
      /AES256|KMS/,
    ],
    [
      'keepLast of zero',
      base.replace('keepLast: 6', 'keepLast: 0'),
      'rules[0].template.lifecycle.keepLast',
      /must be at least 1, not 0/,
    ],
    [
      'keepLast as text',
      base.replace('keepLast: 6', 'keepLast: six'),
      'rules[0].template.lifecycle.keepLast',
      /must be a number, not the string/,
    ],
    [
      'presets and a raw policy together',
      base.replace('keepLast: 6 }', 'keepLast: 6, policy: { rules: [] } }'),
      'rules[0].template.lifecycle',
      /either presets/,
    ],
    [
      'an empty lifecycle',
      base.replace('{ keepLast: 6 }', '{}'),
      'rules[0].template.lifecycle',
      /at least one preset/,
    ],
    [
      'raw policy: tagPatternList with tagPrefixList',
      base.replace(
        '{ keepLast: 6 }',
        `{ policy: { rules: [{ rulePriority: 1, selection: { tagStatus: tagged, tagPatternList: ["v*"], tagPrefixList: ["v"], countType: imageCountMoreThan, countNumber: 3 }, action: { type: expire } }] } }`,
      ),
      'rules[0].template.lifecycle.policy.rules[0].selection',
      /cannot be combined/,
    ],
    [
      'raw policy: "any" rule not last',
      base.replace(
        '{ keepLast: 6 }',
        `{ policy: { rules: [{ rulePriority: 1, selection: { tagStatus: any, countType: imageCountMoreThan, countNumber: 3 }, action: { type: expire } }, { rulePriority: 2, selection: { tagStatus: untagged, countType: sinceImagePushed, countUnit: days, countNumber: 1 }, action: { type: expire } }] } }`,
      ),
      'rules[0].template.lifecycle.policy.rules[0].rulePriority',
      /highest rulePriority/,
    ],
    [
      'raw policy: sinceImagePulled with expire',
      base.replace(
        '{ keepLast: 6 }',
        `{ policy: { rules: [{ rulePriority: 1, selection: { tagStatus: any, countType: sinceImagePulled, countUnit: days, countNumber: 30 }, action: { type: expire } }] } }`,
      ),
      'rules[0].template.lifecycle.policy.rules[0].action.type',
      /only transition/,
    ],
    [
      'raw policy: five wildcards',
      base.replace(
        '{ keepLast: 6 }',
        `{ policy: { rules: [{ rulePriority: 1, selection: { tagStatus: tagged, tagPatternList: ["*a*b*c*d*"], countType: imageCountMoreThan, countNumber: 3 }, action: { type: expire } }] } }`,
      ),
      'rules[0].template.lifecycle.policy.rules[0].selection.tagPatternList[0]',
      /at most 4 wildcards/,
    ],
    [
      'raw policy: days missing on sinceImagePushed',
      base.replace(
        '{ keepLast: 6 }',
        `{ policy: { rules: [{ rulePriority: 1, selection: { tagStatus: untagged, countType: sinceImagePushed, countNumber: 3 }, action: { type: expire } }] } }`,
      ),
      'rules[0].template.lifecycle.policy.rules[0].selection.countUnit',
      /must be "days"/,
    ],
    [
      'mutability exclusions without *_WITH_EXCLUSION',
      base.replace('keepLast: 6 }', 'keepLast: 6 }\n      imageTagMutabilityExclusionFilters: ["latest"]'),
      'rules[0].template.imageTagMutabilityExclusionFilters',
      /only allowed/,
    ],
    [
      'image pinned by digest',
      `${base}prewarm:\n  images: ["node@sha256:${'a'.repeat(64)}"]`,
      'prewarm.images[0]',
      /pins a digest/,
    ],
    [
      'image with an invalid tag',
      `${base}prewarm:\n  images: ["node:-bad"]`,
      'prewarm.images[0]',
      /not a valid tag/,
    ],
    [
      'image with uppercase repository',
      `${base}prewarm:\n  images: ["Node:22"]`,
      'prewarm.images[0]',
      /not valid/,
    ],
    [
      'image from a registry no rule caches',
      `${base}prewarm:\n  images: ["quay.io/prometheus/prometheus:v3"]`,
      'prewarm.images[0]',
      /no rule caches registry "quay.io"/,
    ],
    [
      'image object with an unknown key',
      `${base}prewarm:\n  images: [{ image: node, arch: arm64 }]`,
      'prewarm.images[0]',
      /unknown key "arch"|Invalid input/,
    ],
    ['bad platform', `${base}prewarm:\n  platforms: [amd64]`, 'prewarm.platforms[0]', /os\/architecture/],
    [
      'concurrency out of range',
      `${base}prewarm:\n  concurrency: 1000`,
      'prewarm.concurrency',
      /must be at most 64, not 1000/,
    ],
    [
      'negative reserve',
      `${base}prewarm:\n  reserveUpstreamPulls: -1`,
      'prewarm.reserveUpstreamPulls',
      /must be at least 0, not -1/,
    ],
    ['unknown pre-warm mode', `${base}prewarm:\n  mode: lazy`, 'prewarm.mode', /full|manifest-only/],
    [
      'managed rotation without admin secret',
      `${base}credential:\n  rotation: { mode: managed }`,
      'credential.rotation.adminSecret',
      /needs an admin secret/,
    ],
    [
      'admin secret under ecr-pullthroughcache/',
      `${base}credential:\n  rotation: { mode: managed, adminSecret: ecr-pullthroughcache/admin }`,
      'credential.rotation.adminSecret',
      /must not be under/,
    ],
    [
      'unknown PAT scope',
      `${base}credential:\n  rotation: { scopes: [repo:everything] }`,
      'credential.rotation.scopes[0]',
      /repo:public_read/,
    ],
    [
      'warnDays of zero',
      `${base}credential:\n  warnDays: 0`,
      'credential.warnDays',
      /must be at least 1, not 0/,
    ],
    [
      'stale days as text',
      `${base}metrics:\n  staleAfterDays: thirty`,
      'metrics.staleAfterDays',
      /must be a number, not the string/,
    ],
  ];

  it.each(cases)('%s', (_name, text, path, message) => {
    expectProblem(text, path, message);
  });

  it("refuses an image no rule's upstream prefix covers, naming the rule", () => {
    expectProblem(
      `${base.replace('    upstream: docker-hub\n', '    upstream: docker-hub\n    upstreamPrefix: library\n')}
prewarm:
  images: [node:22, bitnami/redis:7]
`,
      'prewarm.images[1]',
      /bitnami\/redis.*rule docker-hub.*library\//,
    );
  });

  it('reports every problem at once, not just the first', () => {
    const problems = problemsOf(`
rules:
  - { prefix: X, upstream: docker-hub }
  - { prefix: ok-prefix, upstream: nope }
prewarm: { concurrency: 0, images: ["a@sha256:${'b'.repeat(64)}"] }
`);
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['rules[0].prefix', 'rules[1].upstream', 'prewarm.concurrency']),
    );
    expect(problems.length).toBeGreaterThanOrEqual(3);
  });

  it('names the file in the error message', () => {
    expect(() => parseConfig('rules: 3', 'prod.yaml')).toThrow(/^prod\.yaml: 1 problem:\n {2}rules: /);
  });

  it('reports a missing file as a config problem', () => {
    expect(() => loadConfig('does-not-exist.yaml')).toThrow(ConfigError);
  });
});
