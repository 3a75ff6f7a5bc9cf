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
import { awsErrorName, KeeperError } from '../runtime/errors.js';
import { registerSecret } from '../runtime/redact.js';
import { setTags, TAGS } from './metadata.js';
import {
  type CredentialSecret,
  CredentialSecretError,
  describeCredentialSecret,
  pendingValueStored,
  readCredentialValue,
  unfinishedRotation,
} from './secret.js';

/** The version label under which the operator's token waits for the next rotation. */
export const STAGED_LABEL = 'KEEPER_STAGED';

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
  /** The version holding the staged token (label KEEPER_STAGED). */
  stagedVersionId: string;
  /** The rotation started to take it into use. */
  rotationVersionId: string;
  /** The rotation was an unfinished one (its empty AWSPENDING version), taken up with the staged token. */
  takenUp?: true;
  expiresAt: string;
}

/**
 * RotateSecret needs a rotation function, attached to the secret (the stack attaches rotateCredential
 * in one stage) or named in the call. Checked before anything is written: a refused stage leaves no
 * staged version behind.
 */
export function requireRotationFunction(secret: CredentialSecret, rotationLambdaArn?: string): void {
  if (rotationLambdaArn || secret.rotationLambdaArn) return;
  throw new KeeperError(
    `secret ${secret.name} has no rotation function: deploy the stack in the stage that attaches it (its rotationStage parameter, prod by default), or name the function with --rotation-lambda-arn ARN`,
  );
}

/**
 * Stages the operator's token with documented calls only: a new version labelled KEEPER_STAGED
 * (not AWSPENDING: whether RotateSecret would reuse a version staged before it is not documented),
 * its expiry and uuid in the secret's tags; then starts a rotation, whose createSecret copies it
 * into AWSPENDING and which then tests and promotes it exactly as a managed rotation does.
 * RotateSecret is asynchronous: the caller follows the rotation (see follow.ts).
 */
export async function stageToken(secrets: SecretsManagerClient, request: StageRequest): Promise<StageReport> {
  const token = request.token.trim();
  registerSecret(token);
  if (!token) throw new KeeperError('pipe the new access token on standard input');
  const secret = await describeCredentialSecret(secrets, request.secretId);
  requireRotationFunction(secret, request.rotationLambdaArn);
  // AWS refuses a new rotation while one is unfinished. One that stored nothing is taken up with the
  // staged token; one that holds a token of its own is finished first, by `cache-keeper rotate`.
  const unfinished = unfinishedRotation(secret);
  if (unfinished && (await holdsValue(secrets, secret.arn, unfinished)))
    throw new KeeperError(
      `rotation ${unfinished} of ${secret.name} has not finished and holds a token of its own; AWS refuses any other rotation until it ends: run \`cache-keeper rotate\` to finish it, then stage again (nothing was staged)`,
    );
  // Only the username is kept: a token pasted with a newline is what staging a new one repairs.
  const current = await readCredentialValue(secrets, secret.arn, { replacingToken: true });
  const stagedVersionId = randomUUID();
  await secrets.send(
    new PutSecretValueCommand({
      SecretId: secret.arn,
      ClientRequestToken: stagedVersionId,
      SecretString: JSON.stringify({ username: current.username, accessToken: token }),
      VersionStages: [STAGED_LABEL],
    }),
  );
  await setTags(secrets, secret.arn, {
    [TAGS.stagedExpiresAt]: request.expiresAt,
    [TAGS.stagedUuid]: request.uuid,
  });
  const rotation = await secrets.send(
    new RotateSecretCommand({
      SecretId: secret.arn,
      ...(unfinished ? { ClientRequestToken: unfinished } : {}),
      ...(request.rotationLambdaArn ? { RotationLambdaARN: request.rotationLambdaArn } : {}),
    }),
  );
  return {
    secretName: secret.name,
    stagedVersionId,
    rotationVersionId: String(rotation.VersionId),
    ...(unfinished ? { takenUp: true } : {}),
    expiresAt: request.expiresAt,
  };
}

/** Whether an unfinished rotation holds a value (its token stored), or is still empty. */
function holdsValue(secrets: SecretsManagerClient, secretArn: string, versionId: string): Promise<boolean> {
  return pendingValueStored(secrets, secretArn, versionId).catch((error: unknown) => {
    // Unreadable for the moment says nothing; a malformed value is a value all the same.
    if (error instanceof CredentialSecretError && error.problem !== 'unreadable') return true;
    throw error;
  });
}

/** Records the expiry (and uuid) of the PAT already in the secret, for the daily check. */
export async function recordTokenExpiry(
  secrets: SecretsManagerClient,
  request: { secretId: string; expiresAt: string; uuid?: string },
): Promise<void> {
  try {
    await setTags(secrets, request.secretId, {
      [TAGS.expiresAt]: request.expiresAt,
      ...(request.uuid ? { [TAGS.uuid]: request.uuid } : {}),
    });
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException')
      throw new CredentialSecretError(request.secretId, 'missing', 'does not exist: nothing recorded', {
        cause: error,
      });
    throw error;
  }
}
