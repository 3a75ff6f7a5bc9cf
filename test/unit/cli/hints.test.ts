import { describe, expect, it } from 'vitest';
import { failureLine, hintFor } from '../../../cli/hints.js';
import { RegionError } from '../../../lib/aws/region.js';
import { ConfigError } from '../../../lib/config/errors.js';
import { KeeperError, OPERATION } from '../../../lib/runtime/errors.js';

const named = (name: string, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { name, ...extra });

describe('hints under errors', () => {
  it.each<[string, unknown, RegExp | undefined]>([
    [
      'no credentials',
      named('CredentialsProviderError', 'Could not load credentials from any providers'),
      /no AWS credentials: set AWS_PROFILE/,
    ],
    [
      'endpoint refused',
      named('TypeError', 'fetch failed', {
        cause: named('Error', 'connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' }),
      }),
      /endpoint did not answer: check AWS_ENDPOINT_URL/,
    ],
    [
      'access denied, naming the action',
      named(
        'AccessDeniedException',
        'User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: ecr:CreatePullThroughCacheRule on resource: *',
      ),
      /access denied for ecr:CreatePullThroughCacheRule/,
    ],
    [
      "a resource's own policy denying: granting the action would not help",
      named(
        'AccessDeniedException',
        'User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: ecr:PutLifecyclePolicy on resource: arn:aws:ecr:us-east-1:1:repository/docker-hub/library/redis with an explicit deny in a resource-based policy',
      ),
      /^access denied for ecr:PutLifecyclePolicy by the resource's own policy \(an explicit Deny in the repository's or registry's policy\): exempt this identity there/,
    ],
    [
      "the identity's own policies denying",
      named(
        'AccessDeniedException',
        'User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: ecr:DescribeImages on resource: arn:aws:ecr:us-east-1:1:repository/x with an explicit deny in an identity-based policy',
      ),
      /^access denied for ecr:DescribeImages by an explicit Deny in this identity's own policies/,
    ],
    [
      'a permissions boundary denying',
      named(
        'AccessDeniedException',
        'User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: cloudwatch:PutMetricData on resource: * because no permissions boundary allows the cloudwatch:PutMetricData action',
      ),
      /^access denied for cloudwatch:PutMetricData by this identity's permissions boundary: the boundary must allow it/,
    ],
    [
      "an organization's service control policy denying",
      named(
        'AccessDeniedException',
        'User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: ecr:CreatePullThroughCacheRule on resource: * with an explicit deny in a service control policy',
      ),
      /^access denied for ecr:CreatePullThroughCacheRule by an AWS Organizations policy \(a service or resource control policy\): only the organization's administrators can change it/,
    ],
    [
      'no service control policy allowing',
      named(
        'AccessDeniedException',
        'User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: ecr:DescribeImages on resource: arn:aws:ecr:us-east-1:1:repository/x because no service control policy allows the ecr:DescribeImages action',
      ),
      /^access denied for ecr:DescribeImages by an AWS Organizations policy/,
    ],
    [
      "an organization's resource control policy denying",
      named(
        'AccessDeniedException',
        'User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:1:secret:ecr-pullthroughcache/docker-hub-AbCdEf with an explicit deny in a resource control policy',
      ),
      /^access denied for secretsmanager:GetSecretValue by an AWS Organizations policy/,
    ],
    [
      "the session's policy denying (a role assumed with a session policy, or an SSO permission set)",
      named(
        'AccessDeniedException',
        'User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: ecr:PutLifecyclePolicy on resource: arn:aws:ecr:us-east-1:1:repository/x because no session policy allows the ecr:PutLifecyclePolicy action',
      ),
      /^access denied for ecr:PutLifecyclePolicy by this session's policy: the credentials were issued with a session policy/,
    ],
    [
      'a VPC endpoint policy denying',
      named(
        'AccessDeniedException',
        'User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:1:repository/x with an explicit deny in a VPC endpoint policy',
      ),
      /^access denied for ecr:BatchGetImage by a VPC endpoint's policy: the interface endpoint this call went through/,
    ],
    [
      'a wrapped denial',
      new KeeperError('reconcile failed', { cause: named('AccessDeniedException', 'denied') }),
      /access denied/,
    ],
    ['no region: its own message is the hint', new RegionError('no AWS region: pass --region'), undefined],
    ['anything else: no hint', new Error('boom'), undefined],
  ])('%s', (_name, error, hint) => {
    const got = hintFor(error);
    if (hint) expect(got).toMatch(hint);
    else expect(got).toBeUndefined();
  });
});

describe('the line a failure prints', () => {
  it.each<[string, unknown, string]>([
    // The keeper's own errors say what and where: their class name adds nothing.
    [
      'own error',
      new KeeperError('keeper.config.yaml: rule x caches only library/…'),
      'keeper.config.yaml: rule x caches only library/…',
    ],
    ['own subclass', new RegionError('no region: pass --region'), 'no region: pass --region'],
    [
      'config error',
      new ConfigError('k.yaml', [{ path: 'rules', message: 'is empty' }]),
      new ConfigError('k.yaml', [{ path: 'rules', message: 'is empty' }]).message,
    ],
    // An AWS or library error: its name is the code a user searches for.
    [
      'AWS error',
      named('AccessDeniedException', 'User: x is not authorized'),
      'AccessDeniedException: User: x is not authorized',
    ],
    [
      'AWS error from a keeper-built client: the call that failed too',
      named('ThrottlingException', 'Rate exceeded', { [OPERATION]: 'ECR DescribeImages' }),
      'ThrottlingException (ECR DescribeImages): Rate exceeded',
    ],
    ['not an Error', 'boom', 'boom'],
  ])('%s', (_what, error, line) => expect(failureLine(error)).toBe(line));
});
