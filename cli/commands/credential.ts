/**
 * cache-keeper check | rotate | credential stage | credential record
 * Token values are read from standard input, never from arguments (they would land in the shell history).
 */
import { randomUUID } from 'node:crypto';
import { PutSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { createAwsClients } from '../../lib/aws/clients.js';
import type { KeeperConfig } from '../../lib/config/load.js';
import { checkCredentials, formatChecks } from '../../lib/credential/check.js';
import { setTags, TAGS } from '../../lib/credential/metadata.js';
import { describeCredentialSecret, readCredentialValue } from '../../lib/credential/secret.js';
import { registerSecret } from '../../lib/runtime/redact.js';
import type { CliIo } from '../io.js';

export interface CredentialOptions {
  json: boolean;
  secret?: string;
  expiresAt?: string;
  uuid?: string;
  rotationLambdaArn?: string;
  readStdin: () => Promise<string>;
}

function defaultSecret(config: KeeperConfig, secret?: string): string {
  const chosen =
    secret ??
    config.rules.find((r) => r.upstream === 'docker-hub')?.credentialSecret ??
    config.rules.find((r) => r.credentialSecret)?.credentialSecret;
  if (!chosen) throw new Error('no credential secret: pass --secret or declare a rule with credentialSecret');
  return chosen;
}

function parseDate(text: string | undefined, flag: string): string {
  const time = Date.parse(text ?? '');
  if (!text || Number.isNaN(time)) throw new Error(`${flag} must be a date, e.g. 2027-03-01`);
  return new Date(time).toISOString();
}

/** The clients, the secret and the --expires-at date that stage and record work on. */
function datedTarget(config: KeeperConfig, options: CredentialOptions) {
  return {
    clients: createAwsClients(),
    secretId: defaultSecret(config, options.secret),
    expiresAt: parseDate(options.expiresAt, '--expires-at'),
  };
}

export async function checkCommand(
  config: KeeperConfig,
  io: CliIo,
  options: CredentialOptions,
): Promise<number> {
  const clients = createAwsClients();
  const checks = await checkCredentials({ ecr: clients.ecr, secrets: clients.secrets, config });
  io.out(options.json ? JSON.stringify(checks, null, 2) : formatChecks(checks));
  return checks.every((c) => c.valid) ? 0 : 1;
}

/** Starts a rotation (Secrets Manager calls the rotateCredential function), then shows the check. */
export async function rotateCommand(
  config: KeeperConfig,
  io: CliIo,
  options: CredentialOptions,
): Promise<number> {
  const clients = createAwsClients();
  const secret = defaultSecret(config, options.secret);
  const out = await clients.secrets.send(
    new RotateSecretCommand({
      SecretId: secret,
      RotateImmediately: true,
      ...(options.rotationLambdaArn ? { RotationLambdaARN: options.rotationLambdaArn } : {}),
    }),
  );
  io.out(`rotation of ${secret} started (version ${out.VersionId})`);
  return checkCommand(config, io, options);
}

/**
 * Staged rotation, for accounts whose PATs cannot be minted through the API (2FA, SSO): the new
 * token (from stdin) becomes AWSPENDING with its expiry in the tags, then RotateSecret tests and
 * promotes it exactly as a managed rotation does.
 */
export async function stageCommand(
  config: KeeperConfig,
  io: CliIo,
  options: CredentialOptions,
): Promise<number> {
  const { clients, secretId, expiresAt } = datedTarget(config, options);
  const token = (await options.readStdin()).trim();
  registerSecret(token);
  if (!token) throw new Error('pipe the new access token on standard input');
  const secret = await describeCredentialSecret(clients.secrets, secretId);
  const current = await readCredentialValue(clients.secrets, secret.arn);
  const versionId = randomUUID();
  await setTags(clients.secrets, secret.arn, {
    [TAGS.pendingVersion]: versionId,
    [TAGS.pendingExpiresAt]: expiresAt,
    [TAGS.pendingUuid]: options.uuid,
  });
  await clients.secrets.send(
    new PutSecretValueCommand({
      SecretId: secret.arn,
      ClientRequestToken: versionId,
      SecretString: JSON.stringify({ username: current.username, accessToken: token }),
      VersionStages: ['AWSPENDING'],
    }),
  );
  io.out(
    `staged a new token for ${secret.name} as AWSPENDING (version ${versionId}, expires ${expiresAt.slice(0, 10)}); rotating`,
  );
  await clients.secrets.send(
    new RotateSecretCommand({
      SecretId: secret.arn,
      ClientRequestToken: versionId,
      ...(options.rotationLambdaArn ? { RotationLambdaARN: options.rotationLambdaArn } : {}),
    }),
  );
  return checkCommand(config, io, { ...options, secret: secretId });
}

/** Records the expiry (and uuid) of the PAT already in the secret, for the daily check. */
export async function recordCommand(
  config: KeeperConfig,
  io: CliIo,
  options: CredentialOptions,
): Promise<number> {
  const { clients, secretId, expiresAt } = datedTarget(config, options);
  await setTags(clients.secrets, secretId, {
    [TAGS.expiresAt]: expiresAt,
    ...(options.uuid ? { [TAGS.uuid]: options.uuid } : {}),
  });
  io.out(
    `recorded for ${secretId}: expires ${expiresAt.slice(0, 10)}${options.uuid ? `, PAT uuid ${options.uuid}` : ''}`,
  );
  return 0;
}
