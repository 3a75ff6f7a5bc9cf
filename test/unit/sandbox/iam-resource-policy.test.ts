/**
 * The sandbox's IAM with resource-based policies, as AWS evaluates them: in the resource's account an
 * identity policy or a resource policy naming the caller allows; from another account both must; an
 * explicit Deny in either wins.
 */
import { describe, expect, it } from 'vitest';
import { IamDirectory } from '../../../sandbox/iam/directory.js';
import type { PolicyDocument } from '../../../sandbox/iam/policy.js';

const CACHE = '111111111111';
const CI = '222222222222';
const REPO = `arn:aws:ecr:eu-west-1:${CACHE}:repository/docker-hub/library/node`;
const PULL = { action: 'ecr:BatchGetImage', resource: REPO };

const identityAllows: PolicyDocument = {
  Statement: [
    { Effect: 'Allow', Action: 'ecr:BatchGetImage', Resource: `arn:aws:ecr:*:${CACHE}:repository/*` },
  ],
};
const statement = (principal: PolicyDocument['Statement'][0]['Principal'], extra = {}): PolicyDocument => ({
  Statement: [{ Effect: 'Allow', Principal: principal, Action: 'ecr:BatchGetImage', ...extra }],
});

describe('resource-based policies in the sandbox IAM', () => {
  it.each<
    [
      string,
      { account: string; organizationId?: string },
      PolicyDocument[],
      PolicyDocument[],
      string | undefined,
    ]
  >([
    ['own account, identity policy alone', { account: CACHE }, [identityAllows], [], undefined],
    [
      'own account, resource policy alone',
      { account: CACHE },
      [],
      [statement({ AWS: `arn:aws:iam::${CACHE}:root` })],
      undefined,
    ],
    [
      'other account, identity policy alone',
      { account: CI },
      [identityAllows],
      [],
      'because no resource-based policy allows the ecr:BatchGetImage action',
    ],
    [
      'other account, resource policy alone',
      { account: CI },
      [],
      [statement({ AWS: CI })],
      'because no identity-based policy allows the ecr:BatchGetImage action',
    ],
    [
      'other account, both (account id)',
      { account: CI },
      [identityAllows],
      [statement({ AWS: CI })],
      undefined,
    ],
    [
      'other account, both (root ARN)',
      { account: CI },
      [identityAllows],
      [statement({ AWS: [`arn:aws:iam::${CI}:root`] })],
      undefined,
    ],
    [
      'other account, resource policy names another account',
      { account: CI },
      [identityAllows],
      [statement({ AWS: '333333333333' })],
      'because no resource-based policy allows the ecr:BatchGetImage action',
    ],
    [
      'other account in the organization',
      { account: CI, organizationId: 'o-abc123def4' },
      [identityAllows],
      [statement('*', { Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123def4' } } })],
      undefined,
    ],
    [
      'other account outside the organization',
      { account: CI },
      [identityAllows],
      [statement('*', { Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123def4' } } })],
      'because no resource-based policy allows the ecr:BatchGetImage action',
    ],
    [
      'a Deny in the resource policy wins',
      { account: CACHE },
      [identityAllows],
      [{ Statement: [{ Effect: 'Deny', Principal: '*', Action: 'ecr:*' }] }],
      'with an explicit deny in a resource-based policy',
    ],
  ])('%s', (_name, where, identity, resource, refusal) => {
    const iam = new IamDirectory(CACHE, 'eu-west-1');
    const role = iam.addRole('ci', identity, 'job', where);
    expect(iam.refusalFor(role.accessKeyId, PULL, resource)).toBe(refusal);
    expect(iam.allows(role.accessKeyId, PULL, resource)).toBe(refusal === undefined);
  });

  it('names a role of another account by its own account in a denial', () => {
    const iam = new IamDirectory(CACHE, 'eu-west-1');
    const role = iam.addRole('ci', [identityAllows], 'job', { account: CI });
    expect(() => iam.authorize(role.accessKeyId, PULL)).toThrow(
      `User: arn:aws:sts::${CI}:assumed-role/ci/job is not authorized to perform: ecr:BatchGetImage on resource: ${REPO} because no resource-based policy allows the ecr:BatchGetImage action`,
    );
  });
});

describe('permissions boundaries in the sandbox IAM', () => {
  const boundary = (statements: PolicyDocument['Statement']): PolicyDocument => ({ Statement: statements });
  it.each<[string, PolicyDocument[], PolicyDocument[], PolicyDocument, string | undefined]>([
    [
      'identity and boundary allow',
      [identityAllows],
      [],
      boundary([{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }]),
      undefined,
    ],
    [
      'identity allows, the boundary does not',
      [identityAllows],
      [],
      boundary([{ Effect: 'Allow', Action: 'ecr:DescribeImages', Resource: '*' }]),
      'because no permissions boundary allows the ecr:BatchGetImage action',
    ],
    [
      'the boundary allows what no identity policy does: nothing is granted',
      [],
      [],
      boundary([{ Effect: 'Allow', Action: '*', Resource: '*' }]),
      'because no identity-based policy allows the ecr:BatchGetImage action',
    ],
    [
      'a Deny in the boundary wins',
      [identityAllows],
      [],
      boundary([
        { Effect: 'Allow', Action: '*', Resource: '*' },
        { Effect: 'Deny', Action: 'ecr:BatchGetImage', Resource: '*' },
      ]),
      'with an explicit deny in a permissions boundary',
    ],
    [
      'a resource policy naming the role is held to the boundary as well (the stricter reading)',
      [],
      [statement({ AWS: `arn:aws:iam::${CACHE}:role/fn` })],
      boundary([{ Effect: 'Allow', Action: 'ecr:DescribeImages', Resource: '*' }]),
      'because no permissions boundary allows the ecr:BatchGetImage action',
    ],
  ])('%s', (_name, identity, resource, permissionsBoundary, refusal) => {
    const iam = new IamDirectory(CACHE, 'eu-west-1');
    const role = iam.addRole('fn', identity, 'fn', { permissionsBoundary });
    expect(iam.refusalFor(role.accessKeyId, PULL, resource)).toBe(refusal);
  });
});
