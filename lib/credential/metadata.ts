/**
 * What the keeper knows about the PAT in a credential secret lives in the secret's tags, never in
 * its value (ECR expects exactly username and accessToken there). A PAT cannot learn its own
 * expiry, so the keeper records it when it mints or accepts a token.
 */
import {
  type SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';

export const TAGS = {
  uuid: 'pat-uuid',
  expiresAt: 'pat-expires-at',
  pendingUuid: 'pending-pat-uuid',
  pendingExpiresAt: 'pending-pat-expires-at',
  pendingVersion: 'pending-version',
  previousUuid: 'previous-pat-uuid',
  previousDeactivatedAt: 'previous-pat-deactivated-at',
  stagedUuid: 'staged-pat-uuid',
  stagedExpiresAt: 'staged-pat-expires-at',
} as const;

export async function setTags(
  client: SecretsManagerClient,
  secretId: string,
  tags: Record<string, string | undefined>,
): Promise<void> {
  const set = Object.entries(tags).filter((e): e is [string, string] => e[1] !== undefined);
  const unset = Object.entries(tags)
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
  if (set.length)
    await client.send(
      new TagResourceCommand({ SecretId: secretId, Tags: set.map(([Key, Value]) => ({ Key, Value })) }),
    );
  if (unset.length) await client.send(new UntagResourceCommand({ SecretId: secretId, TagKeys: unset }));
}
