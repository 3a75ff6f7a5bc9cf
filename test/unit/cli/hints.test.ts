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
