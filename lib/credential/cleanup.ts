/**
 * Deleting the Docker Hub tokens that rotations retired: a deactivated PAT is kept for
 * `credential.rotation.deleteOldAfterDays` (so a mistaken rotation can be undone by re-activating
 * it), then deleted. The daily check only reports what is due (`retiredTokensDue`); deleting is this
 * module's, run by rotation's finishSecret and by `cache-keeper credential cleanup`.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KeeperConfig } from '../config/load.js';
import type { HubApi } from '../dockerhub/hub-api.js';
import { type LedgerState, ledgerDrift, reconcileLedger } from './ledger.js';
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
  /** Tokens deleted: the retired one past its grace period, and strays left by aborted attempts. */
  deleted: string[];
  /** Retired tokens still inside their grace period. */
  kept: RetiredToken[];
  /**
   * Tokens labelled `ecr-cache-keeper <version>` by a keeper before labels named their secret:
   * strays, or another deployment's that shares the Docker Hub account. Left for a person.
   */
  unmarked: string[];
}

/** The ledger's state for one credential secret, from its tags (see ledger.ts). */
export function ledgerState(
  secret: Pick<CredentialSecret, 'tags' | 'arn'>,
  config: KeeperConfig,
  now: number,
): LedgerState {
  const retired = retiredToken(secret, config, now);
  return {
    secretArn: secret.arn,
    currentUuid: secret.tags[TAGS.uuid],
    ...(retired ? { retired: { uuid: retired.uuid, due: retired.due } } : {}),
    ...(secret.tags[TAGS.pendingVersion] ? { pendingVersion: secret.tags[TAGS.pendingVersion] } : {}),
  };
}

/**
 * Reconciles the ledger of one credential secret: deletes the retired token once its grace period
 * is over, and any stray keeper token an aborted attempt left behind. Says what it deleted.
 */
export async function cleanupRetiredTokens(
  secret: CredentialSecret,
  deps: { secrets: SecretsManagerClient; config: KeeperConfig; now: () => number; hub: HubApi },
): Promise<CleanupReport> {
  const report: CleanupReport = { secretName: secret.name, deleted: [], kept: [], unmarked: [] };
  const now = deps.now();
  const retired = retiredToken(secret, deps.config, now);
  const drift = ledgerDrift(await deps.hub.listPats(), ledgerState(secret, deps.config, now));
  const done = await reconcileLedger(deps.hub, drift);
  report.deleted.push(...done.removedStrays);
  report.unmarked.push(...drift.unmarked);
  if (retired && !retired.due) {
    const { due: _due, ...kept } = retired;
    report.kept.push(kept);
  }
  if (retired?.due) {
    if (done.deletedRetired === undefined) await deps.hub.deletePat(retired.uuid); // already gone is fine
    await setTags(deps.secrets, secret.arn, {
      [TAGS.previousUuid]: undefined,
      [TAGS.previousDeactivatedAt]: undefined,
    });
    report.deleted.push(retired.uuid);
  }
  return report;
}
