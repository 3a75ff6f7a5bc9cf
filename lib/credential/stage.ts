/**
 * Staged rotation and recorded expiry, for accounts whose PATs cannot be minted through the Hub API
 * (2FA, SSO): the operator creates the token by hand, and the keeper stages it and records what a
 * PAT cannot tell about itself (its expiry and uuid) in the secret's tags.
 */
import { randomUUID } from 'node:crypto';
import {
  PutSecretValueCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { KeeperError } from '../runtime/errors.js';
import { registerSecret } from '../runtime/redact.js';
import { setTags, TAGS } from './metadata.js';
import { describeCredentialSecret, readCredentialValue } from './secret.js';

export interface StageRequest {
  secretId: string;
  /** The new access token (from standard input, never an argument). */
  token: string;
  expiresAt: string;
  uuid?: string;
  rotationLambdaArn?: string;
}

export interface StageReport {
  secretName: string;
  versionId: string;
  expiresAt: string;
}

/**
 * Stores the new token as AWSPENDING with its expiry in the tags, then starts the rotation, which
 * tests and promotes it exactly as a managed rotation does.
 */
export async function stageToken(secrets: SecretsManagerClient, request: StageRequest): Promise<StageReport> {
  const token = request.token.trim();
  registerSecret(token);
  if (!token) throw new KeeperError('pipe the new access token on standard input');
  const secret = await describeCredentialSecret(secrets, request.secretId);
  const current = await readCredentialValue(secrets, secret.arn);
  const versionId = randomUUID();
  await setTags(secrets, secret.arn, {
    [TAGS.pendingVersion]: versionId,
    [TAGS.pendingExpiresAt]: request.expiresAt,
    [TAGS.pendingUuid]: request.uuid,
  });
  await secrets.send(
    new PutSecretValueCommand({
      SecretId: secret.arn,
      ClientRequestToken: versionId,
      SecretString: JSON.stringify({ username: current.username, accessToken: token }),
      VersionStages: ['AWSPENDING'],
    }),
  );
  await secrets.send(
    new RotateSecretCommand({
      SecretId: secret.arn,
      ClientRequestToken: versionId,
      ...(request.rotationLambdaArn ? { RotationLambdaARN: request.rotationLambdaArn } : {}),
    }),
  );
  return { secretName: secret.name, versionId, expiresAt: request.expiresAt };
}

/** Records the expiry (and uuid) of the PAT already in the secret, for the daily check. */
export async function recordTokenExpiry(
  secrets: SecretsManagerClient,
  request: { secretId: string; expiresAt: string; uuid?: string },
): Promise<void> {
  await setTags(secrets, request.secretId, {
    [TAGS.expiresAt]: request.expiresAt,
    ...(request.uuid ? { [TAGS.uuid]: request.uuid } : {}),
  });
}
