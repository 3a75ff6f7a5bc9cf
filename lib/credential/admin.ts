/** The admin credential managed rotation uses: a Docker Hub username and password, in its own secret. */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { HubApi } from '../dockerhub/hub-api.js';
import { type Endpoints, REAL_ENDPOINTS } from '../registry/upstreams.js';
import { awsErrorName, awsFailure, parseSecretJson } from '../runtime/errors.js';
import { registerSecret } from '../runtime/redact.js';
import { CredentialSecretError } from './secret.js';

export async function readJsonSecret(
  client: SecretsManagerClient,
  secretId: string,
  fields: string[],
): Promise<Record<string, string>> {
  let text: string | undefined;
  try {
    text = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (error) {
    const missing = awsErrorName(error) === 'ResourceNotFoundException';
    // AWS's own words say why (scheduled for deletion, a policy's denial…); they carry no secret.
    throw new CredentialSecretError(
      secretId,
      missing ? 'missing' : 'unreadable',
      `cannot be read (${missing ? 'ResourceNotFoundException' : awsFailure(error)})`,
      { cause: error },
    );
  }
  registerSecret(text);
  let value: Record<string, unknown>;
  try {
    value = parseSecretJson(text ?? '') as Record<string, unknown>;
  } catch (cause) {
    // The cause names the position only: a parser's own message would quote the secret.
    throw new CredentialSecretError(secretId, 'not-json', 'value is not JSON', { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CredentialSecretError(secretId, 'not-json', 'value is not a JSON object');
  const missing = fields.filter((f) => typeof value[f] !== 'string' || value[f] === '');
  if (missing.length)
    throw new CredentialSecretError(
      secretId,
      'missing-fields',
      `value lacks string ${missing.map((f) => `"${f}"`).join(' and ')}`,
    );
  // Usernames are not secret (they show in quota headers and reports); the rest is.
  for (const f of fields) if (f !== 'username') registerSecret(value[f] as string);
  return value as Record<string, string>;
}

/** A Hub API session logged in with the admin credential. */
export async function adminHubSession(
  client: SecretsManagerClient,
  adminSecret: string,
  deps: { fetch?: typeof fetch; endpoints?: Endpoints } = {},
  organization?: string,
): Promise<HubApi> {
  const admin = await readJsonSecret(client, adminSecret, ['username', 'password']);
  const hub = new HubApi((deps.endpoints ?? REAL_ENDPOINTS).dockerHubApi, deps.fetch);
  await hub.login(admin.username!, admin.password!);
  // With credential.rotation.organization, the tokens are the organization's, managed by an owner.
  return organization ? hub.actFor(organization) : hub;
}

/** What the keeper calls the tokens it manages, in what it says: the organization's or personal ones. */
export const tokenNoun = (config: { credential: { rotation: { organization?: string } } }): string =>
  config.credential.rotation.organization ? 'organization access token' : 'PAT';

/** Two Docker Hub usernames naming one account (Docker Hub usernames are case-insensitive). */
export const sameAccount = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * Why managed rotation cannot renew a credential: it logs in as another account than the admin
 * credential (an organization access token, whose username is the organization), and a rotation
 * would replace it with a token of the admin's own account. Undefined when they are the same.
 */
export function otherAccountThanAdmin(
  credential: { secretName: string; username: string },
  admin: { secretName: string; username: string; organization?: boolean },
): string | undefined {
  if (sameAccount(credential.username, admin.username)) return undefined;
  // Rotation mints the organization's tokens, and the secret holds another account's.
  if (admin.organization)
    return `${credential.secretName} logs in as ${credential.username}, and managed rotation mints tokens of the organization ${admin.username} (credential.rotation.organization): a managed rotation would replace ${credential.username}'s token with one of ${admin.username}'s. Store a token of ${admin.username} (with ${admin.username} as username) and record it with credential record, or unset credential.rotation.organization`;
  return `${credential.secretName} logs in as ${credential.username}, and managed rotation mints tokens of ${admin.username} (with the admin credential ${admin.secretName}): a managed rotation would replace ${credential.username}'s token with one of ${admin.username}'s. For an organization access token of ${credential.username}, set credential.rotation.organization: ${credential.username.toLowerCase()} (with an owner's password as the admin credential) or credential.rotation.mode: staged and stage the next one; otherwise store ${credential.username}'s password in ${admin.secretName}`;
}
