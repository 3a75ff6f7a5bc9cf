/**
 * Bad config files, one per row: each is refused with a ConfigError naming the path and the
 * problem, never a stack trace, and every problem of a file comes in one pass. The limits come
 * from the AWS API models (what ECR, Secrets Manager and CloudWatch would refuse at apply time) and
 * ECR's lifecycle policy rules.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/config/errors.js';
import { parseConfig } from '../../../lib/config/load.js';

type Doc = Record<string, unknown>;
const rule = (patch: Doc = {}, template: Doc | undefined = { lifecycle: { keepLast: 6 } }): Doc => ({
  prefix: 'docker-hub',
  upstream: 'docker-hub',
  credentialSecret: 'ecr-pullthroughcache/docker-hub',
  ...(template ? { template } : {}),
  ...patch,
});
const config = (patch: Doc = {}): string => JSON.stringify({ rules: [rule()], ...patch });
const withRule = (patch: Doc, template?: Doc) => JSON.stringify({ rules: [rule(patch, template)] });
const withTemplate = (patch: Doc) => withRule({}, { lifecycle: { keepLast: 6 }, ...patch });
const policyRule = (patch: Doc = {}, selection: Doc = {}, action: Doc = {}): Doc => ({
  rulePriority: 1,
  description: 'keep the newest ten images of the repository',
  selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10, ...selection },
  action: { type: 'expire', ...action },
  ...patch,
});
const withPolicy = (...rules: Doc[]) => withTemplate({ lifecycle: { policy: { rules } } });
const TAGGED = { tagStatus: 'tagged', tagPatternList: ['v*'] };
const long = (n: number, unit = 'a') => unit.repeat(n).slice(0, n);
const billionLaughs = [
  'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
  ...Array.from({ length: 8 }, (_, i) => {
    const prev = String.fromCharCode(97 + i);
    return `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`;
  }),
  'rules: *i',
].join('\n');

const T = 'rules[0].template';
const P = `${T}.lifecycle.policy.rules[0]`;
const CASES: Array<[string, string, string, RegExp]> = [
  // Rules: ECR's prefix and upstream rules.
  ['prefix of one character', withRule({ prefix: 'x' }), 'rules[0].prefix', /2 to 30 characters/],
  ['prefix of 31 characters', withRule({ prefix: long(31) }), 'rules[0].prefix', /2 to 30 characters/],
  ['prefix in capitals', withRule({ prefix: 'Docker' }), 'rules[0].prefix', /lowercase/],
  ['prefix with a trailing dash', withRule({ prefix: 'hub-' }), 'rules[0].prefix', /lowercase/],
  [
    'upstream prefix of one character',
    withRule({ upstreamPrefix: 'x' }),
    'rules[0].upstreamPrefix',
    /at least 2 characters/,
  ],
  [
    'upstream prefix of 31 characters',
    withRule({ upstreamPrefix: long(31) }),
    'rules[0].upstreamPrefix',
    /at most 30/,
  ],
  [
    'upstream prefix in capitals',
    withRule({ upstreamPrefix: 'Library' }),
    'rules[0].upstreamPrefix',
    /not accepted by the ECR API/,
  ],
  [
    'upstream prefix on a ROOT rule',
    withRule({ prefix: 'ROOT', upstreamPrefix: 'library' }),
    'rules[0].upstreamPrefix',
    /not ROOT/,
  ],
  ['an unknown upstream', withRule({ upstream: 'dockerhub' }), 'rules[0].upstream', /must be one of/],
  [
    "the ECR API's name of an upstream",
    withRule({ upstream: 'github-container-registry', credentialSecret: 'ecr-pullthroughcache/ghcr' }),
    'rules[0].upstream',
    /^"github-container-registry" is the ECR API's name for it: write ghcr$/,
  ],
  [
    'Azure without its URL',
    withRule({ upstream: 'azure', credentialSecret: 'ecr-pullthroughcache/acr' }),
    'rules[0].upstreamUrl',
    /is required/,
  ],
  [
    'Azure with a Docker Hub URL',
    withRule({
      upstream: 'azure',
      upstreamUrl: 'registry-1.docker.io',
      credentialSecret: 'ecr-pullthroughcache/acr',
    }),
    'rules[0].upstreamUrl',
    /is not a azure registry/,
  ],
  [
    'Docker Hub without a secret',
    withRule({ credentialSecret: undefined }),
    'rules[0].credentialSecret',
    /needs a Secrets Manager secret/,
  ],
  [
    'Quay with a secret',
    withRule({ upstream: 'quay', prefix: 'quay' }),
    'rules[0].credentialSecret',
    /takes no credential secret/,
  ],
  [
    'a secret outside ecr-pullthroughcache/',
    withRule({ credentialSecret: 'team/docker-hub' }),
    'rules[0].credentialSecret',
    /must start with "ecr-pullthroughcache\/"/,
  ],
  [
    'a secret ARN outside ecr-pullthroughcache/',
    withRule({ credentialSecret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:team/hub-AbCdEf' }),
    'rules[0].credentialSecret',
    /not accepted by the ECR API's CreatePullThroughCacheRule credentialArn/,
  ],
  [
    'a secret name of 2,049 characters',
    withRule({ credentialSecret: `ecr-pullthroughcache/${long(2030)}` }),
    'rules[0].credentialSecret',
    /at most 2048 characters/,
  ],
  [
    'an ECR upstream without a role',
    withRule({
      upstream: 'ecr',
      prefix: 'mirror',
      upstreamUrl: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      credentialSecret: undefined,
    }),
    'rules[0].customRoleArn',
    /needs customRoleArn/,
  ],
  [
    'a role on a Docker Hub rule',
    withRule({ customRoleArn: 'arn:aws:iam::123456789012:role/x' }),
    'rules[0].customRoleArn',
    /only ECR-to-ECR rules/,
  ],
  [
    'a role ARN that is not one',
    withRule({ customRoleArn: 'role/x' }),
    'rules[0].customRoleArn',
    /must be an IAM role ARN/,
  ],
  [
    'two rules with one prefix',
    JSON.stringify({ rules: [rule(), rule()] }),
    'rules[1].prefix',
    /already used by rules\[0\]/,
  ],
  [
    '51 rules',
    JSON.stringify({ rules: Array.from({ length: 51 }, (_, i) => rule({ prefix: `hub${i}` })) }),
    'rules',
    /at most 50/,
  ],
  ['no rules', JSON.stringify({ rules: [] }), 'rules', /at least 1|>=1/],
  ['an unknown key in a rule', withRule({ prefixes: 'x' }), 'rules[0]', /unknown key "prefixes"/],
  // Templates: the model's limits.
  [
    'a KMS key alias',
    withTemplate({
      encryption: { type: 'KMS', kmsKey: 'alias/ecr' },
      customRoleArn: 'arn:aws:iam::123456789012:role/t',
    }),
    `${T}.encryption.kmsKey`,
    /not accepted by the ECR API/,
  ],
  ['KMS without a role', withTemplate({ encryption: { type: 'KMS' } }), `${T}.customRoleArn`, /custom role/],
  [
    'an exclusion filter with a slash',
    withTemplate({
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: ['release/*'],
    }),
    `${T}.imageTagMutabilityExclusionFilters[0]`,
    /not accepted by the ECR API/,
  ],
  [
    'six exclusion filters',
    withTemplate({
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: ['a', 'b', 'c', 'd', 'e', 'f'],
    }),
    `${T}.imageTagMutabilityExclusionFilters`,
    /at most 5/,
  ],
  [
    'no exclusion filter in a list',
    withTemplate({ imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [] }),
    `${T}.imageTagMutabilityExclusionFilters`,
    /at least 1/,
  ],
  [
    'an exclusion filter of 129 characters',
    withTemplate({
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [long(129)],
    }),
    `${T}.imageTagMutabilityExclusionFilters[0]`,
    /at most 128/,
  ],
  [
    'exclusion mutability without filters',
    withTemplate({ imageTagMutability: 'MUTABLE_WITH_EXCLUSION' }),
    `${T}.imageTagMutabilityExclusionFilters`,
    /needs at least one filter/,
  ],
  [
    'filters without exclusion mutability',
    withTemplate({ imageTagMutabilityExclusionFilters: ['v*'] }),
    `${T}.imageTagMutabilityExclusionFilters`,
    /only allowed with/,
  ],
  [
    'an unknown tag mutability',
    withTemplate({ imageTagMutability: 'SOMETIMES' }),
    `${T}.imageTagMutability`,
    /must be one of/,
  ],
  [
    'a description of 257 characters',
    withTemplate({ description: long(257) }),
    `${T}.description`,
    /256|Too big/,
  ],
  [
    'tags without a role',
    withTemplate({ resourceTags: { team: 'platform' } }),
    `${T}.customRoleArn`,
    /custom role/,
  ],
  [
    'a repository policy that is not JSON',
    withTemplate({ repositoryPolicy: '{not json' }),
    `${T}.repositoryPolicy`,
    /not valid JSON/,
  ],
  [
    'a repository policy over 10,240 characters',
    withTemplate({ repositoryPolicy: { Statement: [{ Sid: long(10300) }] } }),
    `${T}.repositoryPolicy`,
    /10,240/,
  ],
  [
    'both presets and a policy',
    withTemplate({ lifecycle: { keepLast: 3, policy: { rules: [policyRule()] } } }),
    `${T}.lifecycle`,
    /not both/,
  ],
  [
    'a lifecycle with nothing in it',
    withTemplate({ lifecycle: {} }),
    `${T}.lifecycle`,
    /at least one preset/,
  ],
  [
    'keepLast of 0',
    withTemplate({ lifecycle: { keepLast: 0 } }),
    `${T}.lifecycle.keepLast`,
    /must be at least 1/,
  ],
  // Raw lifecycle policies: shape first (never a crash), then ECR's rules.
  [
    'tagPatternList as a string',
    withPolicy(policyRule({}, { tagStatus: 'tagged', tagPatternList: 'v*' })),
    `${P}.selection.tagPatternList`,
    /must be a list, not the string/,
  ],
  [
    'tagPatternList of numbers',
    withPolicy(policyRule({}, { tagStatus: 'tagged', tagPatternList: [5] })),
    `${P}.selection.tagPatternList[0]`,
    /must be a string, not 5/,
  ],
  [
    'tagPrefixList as a string',
    withPolicy(policyRule({}, { tagStatus: 'tagged', tagPrefixList: 'v' })),
    `${P}.selection.tagPrefixList`,
    /must be a list, not the string/,
  ],
  [
    'an unknown key in a selection',
    withPolicy(policyRule({}, { tagStatuses: 'any' })),
    `${P}.selection`,
    /unknown key "tagStatuses"/,
  ],
  ['an unknown key in a policy rule', withPolicy(policyRule({ priority: 1 })), P, /unknown key "priority"/],
  [
    'an unknown key in the policy',
    withTemplate({ lifecycle: { policy: { rules: [policyRule()], version: 2 } } }),
    `${T}.lifecycle.policy`,
    /unknown key "version"/,
  ],
  [
    'tagStatus all',
    withPolicy(policyRule({}, { tagStatus: 'all' })),
    `${P}.selection.tagStatus`,
    /must be one of/,
  ],
  [
    'an unknown countType',
    withPolicy(policyRule({}, { countType: 'sinceForever' })),
    `${P}.selection.countType`,
    /must be one of/,
  ],
  [
    'countNumber 0',
    withPolicy(policyRule({}, { countNumber: 0 })),
    `${P}.selection.countNumber`,
    /must be at least 1/,
  ],
  [
    'countNumber 1.5',
    withPolicy(policyRule({}, { countNumber: 1.5 })),
    `${P}.selection.countNumber`,
    /must be a whole number, not 1.5/,
  ],
  [
    'countUnit hours',
    withPolicy(policyRule({}, { countType: 'sinceImagePushed', countUnit: 'hours' })),
    `${P}.selection.countUnit`,
    /must be "days", not "hours"/,
  ],
  [
    'days with imageCountMoreThan',
    withPolicy(policyRule({}, { countUnit: 'days' })),
    `${P}.selection.countUnit`,
    /not allowed with imageCountMoreThan/,
  ],
  [
    'sinceImagePushed without days',
    withPolicy(policyRule({}, { countType: 'sinceImagePushed' })),
    `${P}.selection.countUnit`,
    /must be "days"/,
  ],
  ['action delete', withPolicy(policyRule({}, {}, { type: 'delete' })), `${P}.action.type`, /must be one of/],
  [
    'a transition to glacier',
    withPolicy(policyRule({}, {}, { type: 'transition', targetStorageClass: 'glacier' })),
    `${P}.action.targetStorageClass`,
    /must be "archive", not "glacier"/,
  ],
  [
    'storageClass cold',
    withPolicy(policyRule({}, { storageClass: 'cold' })),
    `${P}.selection.storageClass`,
    /must be one of/,
  ],
  ['rulePriority 0', withPolicy(policyRule({ rulePriority: 0 })), `${P}.rulePriority`, /must be at least 1/],
  ['a policy with no rule', withPolicy(), `${T}.lifecycle.policy.rules`, /at least one rule/],
  [
    '51 policy rules',
    withPolicy(...Array.from({ length: 51 }, (_, i) => policyRule({ rulePriority: i + 1 }, TAGGED))),
    `${T}.lifecycle.policy.rules`,
    /at most 50/,
  ],
  [
    'two rules of one priority',
    withPolicy(policyRule({}, TAGGED), policyRule({}, TAGGED)),
    `${T}.lifecycle.policy.rules[1].rulePriority`,
    /also used/,
  ],
  [
    'an "any" rule below another',
    withPolicy(policyRule({ rulePriority: 1 }), policyRule({ rulePriority: 2 }, TAGGED)),
    `${P}.rulePriority`,
    /highest rulePriority/,
  ],
  [
    'patterns and prefixes together',
    withPolicy(policyRule({}, { ...TAGGED, tagPrefixList: ['v'] })),
    `${P}.selection`,
    /cannot be combined/,
  ],
  [
    'a tagged rule with no list',
    withPolicy(policyRule({}, { tagStatus: 'tagged' })),
    `${P}.selection`,
    /needs tagPatternList or tagPrefixList/,
  ],
  [
    'a pattern with five wildcards',
    withPolicy(policyRule({}, { tagStatus: 'tagged', tagPatternList: ['*a*b*c*d*'] })),
    `${P}.selection.tagPatternList[0]`,
    /at most 4 wildcards/,
  ],
  [
    'sinceImagePulled that expires',
    withPolicy(policyRule({}, { countType: 'sinceImagePulled', countUnit: 'days' })),
    `${P}.action.type`,
    /only transition/,
  ],
  [
    'sinceImageTransitioned on standard',
    withPolicy(policyRule({}, { countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 120 })),
    `${P}.selection`,
    /needs storageClass "archive"/,
  ],
  [
    'archived images expired after 30 days',
    withPolicy(
      policyRule(
        {},
        { countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 30, storageClass: 'archive' },
      ),
    ),
    `${P}.selection.countNumber`,
    /at least 90 days/,
  ],
  // Pre-warm images.
  [
    'an image pinned by digest',
    config({ prewarm: { images: [`node@sha256:${'a'.repeat(64)}`] } }),
    'prewarm.images[0]',
    /pins a digest/,
  ],
  ['an image in capitals', config({ prewarm: { images: ['Node:22'] } }), 'prewarm.images[0]', /./],
  [
    'more warmImage invocations at once than a Map state runs',
    config({ prewarm: { fanOut: { maxConcurrency: 41 } } }),
    'prewarm.fanOut.maxConcurrency',
    /at most 40/,
  ],
  ['an empty image', config({ prewarm: { images: [''] } }), 'prewarm.images[0]', /empty/],
  [
    'an image from an undeclared registry',
    config({ prewarm: { images: ['quay.io/prometheus/node-exporter:v1'] } }),
    'prewarm.images[0]',
    /no rule caches registry "quay.io"/,
  ],
  [
    'an image repository over 255 characters',
    config({ prewarm: { images: [`${Array.from({ length: 9 }, () => long(30)).join('/')}:1`] } }),
    'prewarm.images[0]',
    /longer than 255 characters/,
  ],
  [
    'an image whose cache repository passes 256 characters',
    // 247 characters upstream, 258 in the cache (docker-hub/…): ECR's limit is 256.
    config({ prewarm: { images: [`${Array.from({ length: 8 }, () => long(30)).join('/')}:1`] } }),
    'prewarm.images[0]',
    /at most 256 characters/,
  ],
  [
    '1,001 images',
    config({ prewarm: { images: Array.from({ length: 1001 }, (_, i) => `img${i}:1`) } }),
    'prewarm.images',
    /1000|Too big/,
  ],
  [
    'a platform without an architecture',
    config({ prewarm: { platforms: ['linux'] } }),
    'prewarm.platforms[0]',
    /os\/architecture/,
  ],
  ['concurrency 0', config({ prewarm: { concurrency: 0 } }), 'prewarm.concurrency', /must be at least 1/],
  ['an unknown pre-warm mode', config({ prewarm: { mode: 'lazy' } }), 'prewarm.mode', /must be one of/],
  // Credential and metrics.
  [
    'managed rotation without an admin secret',
    config({ credential: { rotation: { mode: 'managed' } } }),
    'credential.rotation.adminSecret',
    /needs an admin secret/,
  ],
  [
    'an admin secret ECR could read',
    config({ credential: { rotation: { mode: 'managed', adminSecret: 'ecr-pullthroughcache/admin' } } }),
    'credential.rotation.adminSecret',
    /must not be under/,
  ],
  [
    'an empty admin secret',
    config({ credential: { rotation: { mode: 'managed', adminSecret: '' } } }),
    'credential.rotation.adminSecret',
    /at least 1 character/,
  ],
  [
    'an organization without an admin secret to manage its tokens',
    config({ credential: { rotation: { mode: 'staged', organization: 'acme' } } }),
    'credential.rotation.organization',
    /needs credential\.rotation\.adminSecret: the username and password of one of acme's owners/,
  ],
  [
    'an organization name Docker Hub would not take',
    config({ credential: { rotation: { organization: 'Acme Corp' } } }),
    'credential.rotation.organization',
    /must be a Docker Hub organization name/,
  ],
  [
    'an unknown PAT scope',
    config({ credential: { rotation: { scopes: ['repo:everything'] } } }),
    'credential.rotation.scopes[0]',
    /must be one of/,
  ],
  [
    'the AWS/ECR namespace',
    config({ metrics: { namespace: 'AWS/ECR' } }),
    'metrics.namespace',
    /must not start with "AWS\/"/,
  ],
  [
    'a namespace starting with a colon',
    config({ metrics: { namespace: ':keeper' } }),
    'metrics.namespace',
    /must not start with ":"/,
  ],
  [
    'a namespace of 256 characters',
    config({ metrics: { namespace: long(256) } }),
    'metrics.namespace',
    /at most 255/,
  ],
  [
    'topRepositories 501',
    config({ metrics: { topRepositories: 501 } }),
    'metrics.topRepositories',
    /must be at most 500, not 501/,
  ],
  [
    'an exclusion role in another form',
    config({ reconcile: { pullTimeExclusionRoleArn: 'arn:aws:iam::1234:role/x' } }),
    'reconcile.pullTimeExclusionRoleArn',
    /must be an IAM role ARN/,
  ],
  [
    'a repository exclusion with capitals',
    config({ reconcile: { excludeRepositories: ['docker-hub/Team-D/*'] } }),
    'reconcile.excludeRepositories[0]',
    /must be a repository name/,
  ],
  [
    'a repository exclusion under no rule',
    config({ reconcile: { excludeRepositories: ['dockerhub/team-d/*'] } }),
    'reconcile.excludeRepositories[0]',
    /"dockerhub\/team-d\/\*" matches no repository under a rule's prefix \(docker-hub\/\)/,
  ],
  [
    'a repository exclusion naming the prefix itself',
    config({ reconcile: { excludeRepositories: ['docker-hub'] } }),
    'reconcile.excludeRepositories[0]',
    /matches no repository under a rule's prefix/,
  ],
  // The file itself.
  ['an unknown top-level key', config({ prewarms: {} }), '(top level)', /unknown key "prewarms"/],
  ['a YAML syntax error', 'rules: [\n  - prefix: x', 'line 2, column 3', /YAML/],
  ['a list instead of a mapping', '- rules', '(top level)', /must be a YAML mapping/],
  ['a document without rules', 'prewarm: {}', 'rules', /expected array|required/],
  ['an alias bomb', billionLaughs, '(file)', /YAML: .*alias/],
  ['a duplicated key', 'rules: []\nrules: []', 'line 2, column 1', /unique|Map keys must be unique/],
];

function rejection(text: string): ConfigError {
  try {
    parseConfig(text);
  } catch (error) {
    // Any other error (a TypeError from a missing check, a ReferenceError from the YAML parser) is a defect.
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('the config was accepted');
}

describe('bad config files', () => {
  it('has at least 60 of them', () => expect(CASES.length).toBeGreaterThanOrEqual(60));

  it.each(CASES)('%s → %s', (_name, text, path, message) => {
    const error = rejection(text);
    expect(error.problems, JSON.stringify(error.problems)).toContainEqual({
      path,
      message: expect.stringMatching(message),
    });
    expect(error.message).not.toMatch(/\n\s+at /);
  });

  it('reports every problem of a file in one pass, image references included', () => {
    const error = rejection(
      JSON.stringify({
        rules: [rule({ prefix: 'X', upstreamPrefix: 'y' })],
        prewarm: { images: ['node@sha256:abc', 'python:3.13'] },
        metrics: { namespace: 'AWS/Mine' },
      }),
    );
    expect([...new Set(error.problems.map((p) => p.path))].sort()).toEqual(
      [
        'metrics.namespace',
        'prewarm.images[0]',
        'prewarm.images[1]', // python is outside the rule's upstream prefix y/
        'rules[0].prefix',
        'rules[0].upstreamPrefix',
      ].sort(),
    );
  });
});
