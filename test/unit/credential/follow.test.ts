/** Following a rotation that RotateSecret started: the version's labels say how it ended. */
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { followRotation, rotationOutcome } from '../../../lib/credential/follow.js';

const sm = mockClient(SecretsManagerClient);
const secrets = new SecretsManagerClient({ region: 'us-east-1' });
const V = 'rotation-version';
const described = (stages?: string[]) => ({
  VersionIdsToStages: { old: ['AWSCURRENT'], ...(stages ? { [V]: stages } : {}) },
});

beforeEach(() => sm.reset());

describe('rotationOutcome', () => {
  it.each([
    [['AWSPENDING'], 'in-progress'],
    [['AWSCURRENT', 'AWSPENDING'], 'succeeded'],
    [['AWSCURRENT'], 'succeeded'],
    [['AWSPREVIOUS'], 'failed'],
    [[], 'failed'],
    [undefined, 'failed'],
  ])('%j → %s', (stages, outcome) => {
    expect(rotationOutcome(stages as string[] | undefined)).toBe(outcome);
  });
});

describe('followRotation', () => {
  const clock = () => {
    let t = 0;
    return {
      now: () => t,
      sleep: async (ms: number) => {
        t += ms;
      },
    };
  };

  it('waits while the version is pending and reports success once it is current', async () => {
    sm.on(DescribeSecretCommand)
      .resolvesOnce(described(['AWSPENDING']))
      .resolvesOnce(described(['AWSPENDING']))
      .resolves(described(['AWSCURRENT']));
    const result = await followRotation(secrets, 's', V, { ...clock(), pollMs: 1000 });
    expect(result).toEqual({ outcome: 'succeeded', waitedMs: 2000 });
  });

  it('reports failure when the version lost AWSPENDING without becoming current', async () => {
    sm.on(DescribeSecretCommand)
      .resolvesOnce(described(['AWSPENDING']))
      .resolves(described([]));
    expect((await followRotation(secrets, 's', V, clock())).outcome).toBe('failed');
  });

  it('says "in progress" when the time is up', async () => {
    sm.on(DescribeSecretCommand).resolves(described(['AWSPENDING']));
    expect(await followRotation(secrets, 's', V, { ...clock(), timeoutMs: 5000, pollMs: 1000 })).toEqual({
      outcome: 'in-progress',
      waitedMs: 5000,
    });
  });
});
