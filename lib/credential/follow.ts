/**
 * RotateSecret starts a rotation and returns; the rotation function's four steps run afterwards.
 * Following it means watching the version it created: AWSCURRENT on it is success; the version
 * losing AWSPENDING without becoming current is a failure (the keeper's rotation function removes
 * it when a step refuses the token); still AWSPENDING when the time is up is "in progress".
 */
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { sleep as realSleep } from '../runtime/retry.js';

export type RotationOutcome = 'succeeded' | 'failed' | 'in-progress';

/** Pure: what the version's labels say about the rotation that created it. */
export function rotationOutcome(stages: string[] | undefined): RotationOutcome {
  if (stages?.includes('AWSCURRENT')) return 'succeeded';
  if (stages?.includes('AWSPENDING')) return 'in-progress';
  return 'failed';
}

export async function followRotation(
  secrets: SecretsManagerClient,
  secretId: string,
  versionId: string,
  options: {
    timeoutMs?: number;
    pollMs?: number;
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
  } = {},
): Promise<{ outcome: RotationOutcome; waitedMs: number }> {
  const now = options.now ?? (() => Date.now());
  const sleep = options.sleep ?? realSleep;
  const started = now();
  const until = started + (options.timeoutMs ?? 120_000);
  for (;;) {
    const described = await secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
    const outcome = rotationOutcome(described.VersionIdsToStages?.[versionId]);
    if (outcome !== 'in-progress' || now() >= until) return { outcome, waitedMs: now() - started };
    await sleep(Math.min(options.pollMs ?? 1000, Math.max(0, until - now())));
  }
}
