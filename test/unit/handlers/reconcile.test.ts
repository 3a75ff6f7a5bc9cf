import { describe, expect, it } from 'vitest';
import { parseReconcileEvent } from '../../../handlers/reconcile.js';
import { parseConfig } from '../../../lib/config/load.js';
import { exclusionPrincipals, prewarmRoleFromEnv } from '../../../lib/ecr/exclusion.js';

const config = parseConfig(
  'rules:\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\n',
);
const prewarmRoleArn = (lambda: { invokedFunctionArn?: string }, env: NodeJS.ProcessEnv) =>
  exclusionPrincipals(config, prewarmRoleFromEnv(env), lambda.invokedFunctionArn);

describe('the exclusion principals (the roles that warm the cache)', () => {
  const lambda = {
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:ecr-cache-keeper-prod-reconcile',
  };

  it('completes the role name with the partition and account of the function itself', () => {
    expect(
      prewarmRoleArn(lambda, { KEEPER_PREWARM_ROLE_NAME: 'ecr-cache-keeper-prod-prewarm-eu-west-1' }),
    ).toEqual(['arn:aws:iam::123456789012:role/ecr-cache-keeper-prod-prewarm-eu-west-1']);
  });

  it('takes every role the deployment names: prewarm and the state machine’s prewarmPlan and warmImage', () => {
    expect(
      prewarmRoleArn(lambda, {
        KEEPER_PREWARM_ROLE_NAME:
          'k-prod-prewarm-eu-west-1, k-prod-prewarmPlan-eu-west-1,k-prod-warmImage-eu-west-1',
      }),
    ).toEqual(
      ['prewarm', 'prewarmPlan', 'warmImage'].map(
        (fn) => `arn:aws:iam::123456789012:role/k-prod-${fn}-eu-west-1`,
      ),
    );
  });

  it('prefers an explicit ARN, and gives none without a name or a real function ARN', () => {
    expect(
      prewarmRoleArn(lambda, {
        KEEPER_PREWARM_ROLE_ARN: 'arn:aws:iam::1:role/x',
        KEEPER_PREWARM_ROLE_NAME: 'y',
      }),
    ).toEqual(['arn:aws:iam::1:role/x']);
    expect(prewarmRoleArn(lambda, {})).toEqual([]);
    expect(
      prewarmRoleArn(
        { invokedFunctionArn: 'arn:aws:lambda:local:offline:function:x' },
        { KEEPER_PREWARM_ROLE_NAME: 'y' },
      ),
    ).toEqual([]);
  });

  it('takes the config first: reconcile.pullTimeExclusionRoleArn wins over the deployment', () => {
    const pinned = parseConfig(
      'rules:\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\nreconcile: { pullTimeExclusionRoleArn: "arn:aws:iam::123456789012:role/pinned" }\n',
    );
    expect(exclusionPrincipals(pinned, { arns: ['arn:aws:iam::1:role/x'] })).toEqual([
      'arn:aws:iam::123456789012:role/pinned',
    ]);
  });
});

describe('parseReconcileEvent', () => {
  it('treats a scheduled event as an apply and accepts {"dryRun": true}', () => {
    expect(
      parseReconcileEvent({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} }),
    ).toEqual({ dryRun: false });
    expect(parseReconcileEvent({ dryRun: true })).toEqual({ dryRun: true });
    expect(() => parseReconcileEvent([])).toThrow(/must be a JSON object/);
  });
});
