/** access: the statements that let other accounts pull through the cache, and how they are merged. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  describeGrantees,
  holdsKeeperStatements,
  registryStatements,
  repositoryStatements,
  samePolicy,
  withKeeperStatements,
} from '../../../lib/config/access.js';
import { parseConfig } from '../../../lib/config/load.js';
import { configProblems } from '../../support/configs.js';

const ACCOUNTS = { accounts: ['222222222222', '111111111111'] };
const ORG = { accounts: [], organizationId: 'o-abc123def4' };
const REGISTRY = { region: 'eu-west-1', account: '123456789012' };
const foreign = {
  Sid: 'Theirs',
  Effect: 'Allow',
  Principal: { AWS: '999999999999' },
  Action: 'ecr:BatchGetImage',
};
const policy = (...statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

describe('the statements', () => {
  it('let the accounts (by root ARN) and the organization pull from a repository', () => {
    expect(repositoryStatements({ ...ACCOUNTS, organizationId: ORG.organizationId })).toEqual([
      {
        Sid: 'EcrCacheKeeperPullAccounts',
        Effect: 'Allow',
        Principal: { AWS: ['arn:aws:iam::111111111111:root', 'arn:aws:iam::222222222222:root'] },
        Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
      },
      {
        Sid: 'EcrCacheKeeperPullOrganization',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123def4' } },
      },
    ]);
    expect(repositoryStatements({ accounts: [] })).toEqual([]);
    // An account written twice is one principal (AWS would keep one: no drift from the spelling).
    expect(repositoryStatements({ accounts: ['111111111111', '111111111111'] })[0]!.Principal).toEqual({
      AWS: ['arn:aws:iam::111111111111:root'],
    });
  });

  it('let them make the cache fetch what it lacks, on the rules’ prefixes of this registry only', () => {
    expect(registryStatements(ACCOUNTS, ['quay', 'docker-hub', 'quay'], REGISTRY)).toEqual([
      {
        Sid: 'EcrCacheKeeperFirstPullAccounts',
        Effect: 'Allow',
        Principal: { AWS: ['arn:aws:iam::111111111111:root', 'arn:aws:iam::222222222222:root'] },
        Action: ['ecr:BatchImportUpstreamImage', 'ecr:CreateRepository'],
        Resource: [
          'arn:aws:ecr:eu-west-1:123456789012:repository/docker-hub/*',
          'arn:aws:ecr:eu-west-1:123456789012:repository/quay/*',
        ],
      },
    ]);
    expect(registryStatements(ACCOUNTS, ['ROOT'], REGISTRY)[0]!.Resource).toEqual([
      'arn:aws:ecr:eu-west-1:123456789012:repository/*',
    ]);
  });
});

describe('merging into a policy others write to', () => {
  const mine = repositoryStatements(ACCOUNTS);
  it.each<[string, string | undefined, unknown[], string | undefined]>([
    ['none yet: a policy of the keeper’s statements', undefined, mine, policy(...mine)],
    ['someone else’s: theirs kept first', policy(foreign), mine, policy(foreign, ...mine)],
    [
      'the keeper’s old statements replaced, theirs kept',
      policy(foreign, { ...mine[0], Sid: 'EcrCacheKeeperPullOrganization' }),
      mine,
      policy(foreign, ...mine),
    ],
    ['emptied: theirs alone', policy(foreign, ...mine), [], policy(foreign)],
    ['emptied, nothing else: no policy at all', policy(...mine), [], undefined],
    ['a lone statement object is a list of one', JSON.stringify({ Statement: foreign }), [], policy(foreign)],
  ])('%s', (_name, before, statements, after) => {
    expect(withKeeperStatements(before, statements as never, 'p')).toEqual(after);
  });

  it('refuses a policy that is not JSON, naming it', () => {
    expect(() => withKeeperStatements('{', mine, "repository x's policy")).toThrow(
      "repository x's policy is not JSON",
    );
  });
});

describe('comparing what AWS hands back with what was written', () => {
  const mine = [...repositoryStatements(ACCOUNTS), ...repositoryStatements(ORG)];
  it.each<[string, string | undefined, boolean]>([
    ['as written', policy(...mine), true],
    ['with someone else’s statement beside them', policy(foreign, ...mine), true],
    [
      'in another spelling: account ids, "*", lone values, another order',
      policy(
        {
          ...mine[1],
          Principal: '*',
          Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        },
        { ...mine[0], Principal: { AWS: ['222222222222', '111111111111'] } },
      ),
      true,
    ],
    [
      'an account written twice, as its id and as its root ARN',
      policy(
        {
          ...mine[0],
          Principal: { AWS: ['111111111111', 'arn:aws:iam::111111111111:root', '222222222222'] },
        },
        mine[1],
      ),
      true,
    ],
    ['one account fewer', policy({ ...mine[0], Principal: { AWS: ['111111111111'] } }, mine[1]), false],
    ['missing', undefined, false],
    ['missing one', policy(mine[0]), false],
  ])('%s: %s', (_name, text, holds) => {
    expect(holdsKeeperStatements(text, mine, 'p')).toBe(holds);
  });

  it('holds nothing when nothing is granted and nothing was written', () => {
    expect(holdsKeeperStatements(undefined, [], 'p')).toBe(true);
    expect(holdsKeeperStatements(policy(foreign), [], 'p')).toBe(true);
  });

  it('samePolicy weighs every statement by meaning', () => {
    expect(samePolicy(policy(foreign, ...mine), policy(...mine, foreign))).toBe(true);
    expect(samePolicy(policy(foreign), policy(...mine))).toBe(false);
    expect(samePolicy(undefined, undefined)).toBe(true);
  });

  it('says who may pull, in words', () => {
    expect(describeGrantees(policy(foreign, ...mine), 'p')).toBe(
      '111111111111, 222222222222, organization o-abc123def4',
    );
    expect(describeGrantees(policy(foreign), 'p')).toBe('nobody');
  });
});

describe('access: in keeper.config.yaml', () => {
  const seed = readFileSync('keeper.config.yaml', 'utf8');
  const problems = configProblems;

  it("puts the pull statements into every rule's template, beside the policy written there", () => {
    const config = parseConfig(
      `${seed.replace(
        '      imageTagMutability: MUTABLE\n',
        `      imageTagMutability: MUTABLE\n      repositoryPolicy: ${JSON.stringify(policy(foreign))}\n`,
      )}\naccess:\n  accounts: ['222222222222']\n`,
    );
    expect(config.access).toEqual({ accounts: ['222222222222'] });
    expect(
      JSON.parse(config.rules[0]!.template!.repositoryPolicy!).Statement.map((s: { Sid: string }) => s.Sid),
    ).toEqual(['Theirs', 'EcrCacheKeeperPullAccounts']);
    expect(parseConfig(seed).access).toBeUndefined();
  });

  it.each<[string, string, string]>([
    [
      'an account id that is not one',
      "access:\n  accounts: ['1234']\n",
      'access.accounts[0]: must be a 12-digit AWS account id',
    ],
    [
      'an organization id that is not one',
      'access:\n  organizationId: org-1\n',
      'access.organizationId: must be an AWS Organizations id (o- and 10 to 32 lowercase letters or digits)',
    ],
    [
      'a rule without a template',
      "access:\n  accounts: ['222222222222']\n",
      'rules[1].template: access: needs a template on every rule (template: {} will do): the repositories the cache creates get their pull statement from it',
    ],
  ])('refuses %s', (_name, yaml, problem) => {
    const withQuay = seed.replace('reconcile:\n', '  - prefix: quay\n    upstream: quay\n\nreconcile:\n');
    expect(problems(`${withQuay}\n${yaml}`)).toContain(problem);
  });

  it('refuses a template policy whose statement claims to be the keeper’s', () => {
    const yaml = `${seed.replace(
      '      imageTagMutability: MUTABLE\n',
      `      imageTagMutability: MUTABLE\n      repositoryPolicy: ${JSON.stringify(policy({ ...foreign, Sid: 'EcrCacheKeeperMine' }))}\n`,
    )}\naccess:\n  accounts: ['222222222222']\n`;
    expect(problems(yaml)).toEqual([
      'rules[0].template.repositoryPolicy: statement Sid "EcrCacheKeeperMine": Sids starting with EcrCacheKeeper are the ones access: writes; name yours otherwise',
    ]);
  });

  it('refuses a template policy the statements would take past 10,240 characters', () => {
    const long = { ...foreign, Condition: { StringEquals: { 'aws:PrincipalTag/team': 'x'.repeat(9900) } } };
    const yaml = `${seed.replace(
      '      imageTagMutability: MUTABLE\n',
      `      imageTagMutability: MUTABLE\n      repositoryPolicy: ${JSON.stringify(policy(long))}\n`,
    )}\naccess:\n  accounts: ['222222222222']\n`;
    expect(problems(yaml)).toEqual([
      "rules[0].template.repositoryPolicy: with access:'s statements it is longer than the 10,240 characters ECR takes",
    ]);
  });
});
