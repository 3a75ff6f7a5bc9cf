/**
 * The pull-through credential secret as ECR requires it: named under
 * `ecr-pullthroughcache/`, encrypted with the default `aws/secretsmanager` key, holding JSON with
 * string `username` and `accessToken`. The keeper's own metadata lives in secret tags, never in
 * the value. Values read here are registered with the redactor at once.
 */
import {
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CREDENTIAL_SECRET_PREFIX } from '../config/names.js';
import {
  awsErrorName,
  awsFailure,
  isTransientAwsError,
  KeeperError,
  parseSecretJson,
} from '../runtime/errors.js';
import { registerSecret } from '../runtime/redact.js';

export type SecretProblem =
  | 'missing'
  | 'wrong-prefix'
  | 'customer-kms'
  | 'not-json'
  | 'missing-fields'
  | 'padded'
  | 'unreadable';

export class CredentialSecretError extends KeeperError {
  override name = 'CredentialSecretError';
  constructor(
    readonly secretId: string,
    readonly problem: SecretProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`secret ${secretId}: ${message}`, options);
  }
}

export interface DockerHubCredential {
  username: string;
  accessToken: string;
}

export interface CredentialSecret {
  arn: string;
  name: string;
  tags: Record<string, string>;
  versionIdsToStages: Record<string, string[]>;
  rotationEnabled: boolean;
  rotationLambdaArn?: string;
}

const awsName = awsErrorName;

/**
 * The version a rotation left AWSPENDING without finishing (stopped by a failure of the moment, or
 * still running): AWS refuses every other RotateSecret until it ends, and a RotateSecret naming it
 * (its ClientRequestToken) takes it up again.
 */
export function unfinishedRotation(secret: Pick<CredentialSecret, 'versionIdsToStages'>): string | undefined {
  return Object.entries(secret.versionIdsToStages).find(
    ([, stages]) => stages.includes('AWSPENDING') && !stages.includes('AWSCURRENT'),
  )?.[0];
}

/** A secret Secrets Manager could not read for a reason of the moment (throttled, a 5xx, no answer). */
export const unreadableForNow = (error: unknown): boolean =>
  error instanceof CredentialSecretError &&
  error.problem === 'unreadable' &&
  isTransientAwsError(error.cause);

/** Whether a rotation's AWSPENDING version holds its value yet (a missing one is `false`; other failures throw). */
export async function pendingValueStored(
  client: SecretsManagerClient,
  secretId: string,
  versionId: string,
): Promise<boolean> {
  try {
    await readCredentialValue(client, secretId, { versionId, stage: 'AWSPENDING' });
    return true;
  } catch (error) {
    if (error instanceof CredentialSecretError && error.problem === 'missing') return false;
    throw error;
  }
}

/** Metadata of the secret, checked for what ECR needs except the value. */
export async function describeCredentialSecret(
  client: SecretsManagerClient,
  secretId: string,
): Promise<CredentialSecret> {
  let described: DescribeSecretCommandOutput;
  try {
    described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  } catch (error) {
    if (awsName(error) === 'ResourceNotFoundException') {
      throw new CredentialSecretError(
        secretId,
        'missing',
        'does not exist: create it (see the runbook) before the rule can use it',
        { cause: error },
      );
    }
    // Not a problem of the secret: no credentials or no network is the caller's to fix, said as such.
    if (awsName(error) === 'CredentialsProviderError' || !(error as { $metadata?: unknown })?.$metadata)
      throw error;
    if (awsName(error) === 'AccessDeniedException') {
      // A policy scoped to the secret (`name-??????`) cannot match a secret that does not exist, so
      // AWS answers AccessDenied rather than ResourceNotFound for a deleted or never-created one.
      throw new CredentialSecretError(
        secretId,
        'missing',
        'does not exist, or this role may not describe it (AccessDeniedException); create it (see the runbook) or check the role',
        { cause: error },
      );
    }
    throw new CredentialSecretError(secretId, 'unreadable', `cannot be described (${awsName(error)})`, {
      cause: error,
    });
  }
  const name = String(described.Name ?? secretId);
  // Scheduled for deletion: described, but its value refused to everyone, ECR included.
  if (described.DeletedDate)
    throw new CredentialSecretError(
      secretId,
      'missing',
      `is scheduled for deletion on ${described.DeletedDate.toISOString().slice(0, 10)}, and neither ECR nor the keeper can read it meanwhile: restore it (aws secretsmanager restore-secret --secret-id ${name})`,
    );
  if (!name.startsWith(CREDENTIAL_SECRET_PREFIX)) {
    throw new CredentialSecretError(
      secretId,
      'wrong-prefix',
      `name must start with "${CREDENTIAL_SECRET_PREFIX}" for ECR to read it`,
    );
  }
  const kms = described.KmsKeyId;
  if (kms && !/alias\/aws\/secretsmanager$/.test(kms)) {
    throw new CredentialSecretError(
      secretId,
      'customer-kms',
      'is encrypted with a customer-managed KMS key; ECR can only read secrets under the default aws/secretsmanager key',
    );
  }
  return {
    arn: String(described.ARN),
    name,
    tags: Object.fromEntries((described.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    versionIdsToStages: described.VersionIdsToStages ?? {},
    rotationEnabled: Boolean(described.RotationEnabled),
    rotationLambdaArn: described.RotationLambdaARN,
  };
}

/**
 * Parses a credential secret value; the message never contains the value. `replacingToken`: the
 * caller is about to replace the token (`credential stage`), so only the username's form is judged.
 */
export function parseCredentialValue(
  secretId: string,
  text: string | undefined,
  replacingToken = false,
): DockerHubCredential {
  let value: unknown;
  try {
    value = parseSecretJson(text ?? '');
  } catch (cause) {
    // The cause names the position only: a parser's own message would quote the secret.
    throw new CredentialSecretError(
      secretId,
      'not-json',
      'value is not JSON; ECR expects {"username": …, "accessToken": …}',
      { cause },
    );
  }
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const missing = ['username', 'accessToken'].filter(
    (k) => typeof record[k] !== 'string' || record[k] === '',
  );
  if (missing.length > 0) {
    throw new CredentialSecretError(
      secretId,
      'missing-fields',
      `value lacks string ${missing.map((k) => `"${k}"`).join(' and ')}`,
    );
  }
  registerSecret(record.accessToken as string);
  // Docker Hub compares both as written: a pasted newline would be a refused login, said only as
  // "incorrect username or password".
  const judged = replacingToken ? ['username'] : ['username', 'accessToken'];
  const padded = judged.find((k) => (record[k] as string).trim() !== record[k]);
  if (padded) {
    throw new CredentialSecretError(
      secretId,
      'padded',
      `"${padded}" has white space before or after it (a pasted newline?); Docker Hub takes it as written and refuses the login`,
    );
  }
  return { username: record.username as string, accessToken: record.accessToken as string };
}

/** Reads and checks one version (AWSCURRENT by default) of the credential. */
export async function readCredentialValue(
  client: SecretsManagerClient,
  secretId: string,
  version: { stage?: string; versionId?: string; replacingToken?: boolean } = {},
): Promise<DockerHubCredential> {
  let text: string | undefined;
  try {
    const out = await client.send(
      new GetSecretValueCommand({
        SecretId: secretId,
        VersionStage: version.stage ?? (version.versionId ? undefined : 'AWSCURRENT'),
        VersionId: version.versionId,
      }),
    );
    text = out.SecretString;
  } catch (error) {
    if (awsName(error) === 'ResourceNotFoundException') {
      throw new CredentialSecretError(
        secretId,
        'missing',
        `has no ${version.versionId ?? version.stage ?? 'AWSCURRENT'} value`,
        { cause: error },
      );
    }
    // AWS's own words say why (scheduled for deletion, a policy's denial…); they carry no secret.
    throw new CredentialSecretError(secretId, 'unreadable', `cannot be read (${awsFailure(error)})`, {
      cause: error,
    });
  }
  registerSecret(text);
  return parseCredentialValue(secretId, text, version.replacingToken);
}
