/** The roles' policies against IAM's 10,240 characters a role: checked before packaging, at the longest an account makes them. */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config/load.js';

const { rolePolicyProblems } = createRequire(import.meta.url)('../../../deploy/stack.cjs') as {
  rolePolicyProblems: (config: ReturnType<typeof parseConfig>) => string[];
};

const rules = (count: number, sharedSecret: boolean) =>
  parseConfig(
    [
      'rules:',
      ...Array.from(
        { length: count },
        (_, i) =>
          `  - { prefix: team${i}-hub, upstream: docker-hub, upstreamPrefix: team${i}, credentialSecret: ecr-pullthroughcache/docker-hub${sharedSecret ? '' : `-team${i}`}, template: { lifecycle: { keepLast: 6 } } }`,
      ),
      '',
    ].join('\n'),
  );

describe('rolePolicyProblems', () => {
  it.each<[string, number, boolean, RegExp[]]>([
    ['the shipped config', 0, false, []],
    ['46 rules, a credential secret each', 46, false, []],
    ['50 rules (ECR’s limit) sharing one credential secret', 50, true, []],
    [
      '47 rules, a credential secret each',
      47,
      false,
      [
        /^the reconcile function's role needs about 10\d{3} characters of policy; IAM allows a role 10,240 .*47 rules/,
      ],
    ],
  ])('%s', (_case, count, shared, expected) => {
    const config =
      count === 0
        ? parseConfig(
            'rules:\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\n',
          )
        : rules(count, shared);
    const problems = rolePolicyProblems(config);
    expect(problems.slice(0, expected.length)).toEqual(expected.map((e) => expect.stringMatching(e)));
    if (expected.length === 0) expect(problems).toEqual([]);
  });

  it('50 rules with 30-character prefixes and access: fit (their repositories are listed once)', () => {
    const config = parseConfig(
      [
        "access: { accounts: ['222222222222'] }",
        'rules:',
        ...Array.from(
          { length: 50 },
          (_, i) =>
            `  - { prefix: team-${String(i).padStart(2, '0')}-${'x'.repeat(22)}, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub, template: {} }`,
        ),
        '',
      ].join('\n'),
    );
    expect(config.rules[0]!.prefix).toHaveLength(30);
    expect(rolePolicyProblems(config)).toEqual([]);
  });
});
