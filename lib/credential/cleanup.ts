/**
 * Deleting the Docker Hub tokens that rotations retired: a deactivated PAT is kept for
 * `credential.rotation.deleteOldAfterDays` (so a mistaken rotation can be undone by re-activating
 * it), then deleted. The daily check only reports what is due (`retiredTokensDue`); deleting is this
 * module's, run by rotation's finishSecret and by `cache-keeper credential cleanup`.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KeeperConfig } from '../config/load.js';
import type { HubApi } from '../dockerhub/hub-api.js';
import { setTags, TAGS } from './metadata.js';
import type { CredentialSecret } from './secret.js';

const DAY_MS = 86_400_000;

export interface RetiredToken {
  uuid: string;
  deactivatedAt: string;
  /** When it may be deleted. */
  deleteAfter: string;
}

/** Pure: the retired token the secret's tags record, and whether its grace period is over. */
export function retiredToken(
  secret: Pick<CredentialSecret, 'tags'>,
  config: KeeperConfig,
  now: number,
): (RetiredToken & { due: boolean }) | undefined {
  const uuid = secret.tags[TAGS.previousUuid];
  const since = Date.parse(secret.tags[TAGS.previousDeactivatedAt] ?? '');
  if (!uuid || Number.isNaN(since)) return undefined;
  const deleteAfter = since + config.credential.rotation.deleteOldAfterDays * DAY_MS;
  return {
    uuid,
    deactivatedAt: new Date(since).toISOString(),
    deleteAfter: new Date(deleteAfter).toISOString(),
    due: now >= deleteAfter,
  };
}

export interface CleanupReport {
  secretName: string;
  deleted: string[];
  /** Retired tokens still inside their grace period. */
  kept: RetiredToken[];
}

/** Deletes the retired token of one credential secret when its grace period is over. */
export async function cleanupRetiredTokens(
  secret: CredentialSecret,
  deps: { secrets: SecretsManagerClient; config: KeeperConfig; now: () => number; hub: HubApi },
): Promise<CleanupReport> {
  const report: CleanupReport = { secretName: secret.name, deleted: [], kept: [] };
  const retired = retiredToken(secret, deps.config, deps.now());
  if (!retired) return report;
  if (!retired.due) {
    const { due: _due, ...kept } = retired;
    report.kept.push(kept);
    return report;
  }
  await deps.hub.deletePat(retired.uuid);
  await setTags(deps.secrets, secret.arn, {
    [TAGS.previousUuid]: undefined,
    [TAGS.previousDeactivatedAt]: undefined,
  });
  report.deleted.push(retired.uuid);
  return report;
}
