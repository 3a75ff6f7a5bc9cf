/**
 * The Docker Hub tokens the keeper mints form a ledger it can always reconcile. Each is labelled
 * `ecr-cache-keeper <rotation version id>` (nothing else labels tokens that way), so a retry, a
 * crash or a racing duplicate can find what an earlier attempt made. The ledger holds when exactly
 * one keeper token is active (the one in AWSCURRENT), the one a rotation retired waits out its grace
 * period deactivated, and nothing else of the keeper's remains. Rotation reconciles it; the daily
 * check reports drift without changing anything; `cache-keeper credential cleanup` reconciles it
 * by hand.
 */
import type { HubApi, HubPat } from '../dockerhub/hub-api.js';

const LABEL_PREFIX = 'ecr-cache-keeper ';

/** The label of the token minted for a rotation version. */
export const patLabel = (versionId: string) => `${LABEL_PREFIX}${versionId}`;
export const isKeeperToken = (pat: Pick<HubPat, 'token_label'>) => pat.token_label.startsWith(LABEL_PREFIX);

export interface LedgerState {
  /** The token in AWSCURRENT (the secret's `pat-uuid` tag). */
  currentUuid?: string;
  /** The token the last rotation retired, and whether its grace period is over. */
  retired?: { uuid: string; due: boolean };
  /** A rotation in progress: its token is not a stray yet. */
  pendingVersion?: string;
}

export interface LedgerPlan {
  /** Keeper tokens that are neither current, retired nor pending: left by aborted attempts. */
  strays: Array<Pick<HubPat, 'uuid' | 'token_label' | 'is_active'>>;
  /** The retired token, when its grace period is over. */
  retiredDue?: string;
}

/** Pure: what is out of place in the ledger. */
export function ledgerDrift(pats: HubPat[], state: LedgerState): LedgerPlan {
  const keep = new Set([state.currentUuid, state.retired?.uuid].filter(Boolean));
  const pendingLabel = state.pendingVersion ? patLabel(state.pendingVersion) : undefined;
  const strays = pats
    .filter((p) => isKeeperToken(p) && !keep.has(p.uuid) && p.token_label !== pendingLabel)
    .map((p) => ({ uuid: p.uuid, token_label: p.token_label, is_active: p.is_active }));
  const retiredDue =
    state.retired?.due && pats.some((p) => p.uuid === state.retired!.uuid) ? state.retired.uuid : undefined;
  return { strays, ...(retiredDue ? { retiredDue } : {}) };
}

export interface LedgerReport {
  /** Stray keeper tokens deactivated and deleted: never in use by ECR, so no grace period. */
  removedStrays: string[];
  /** The retired token deleted after its grace period. */
  deletedRetired?: string;
}

/** Carries a drift plan out. Deactivating first means a failure halfway leaves nothing usable behind. */
export async function reconcileLedger(hub: HubApi, plan: LedgerPlan): Promise<LedgerReport> {
  const report: LedgerReport = { removedStrays: [] };
  for (const stray of plan.strays) {
    if (stray.is_active) await hub.setActive(stray.uuid, false);
    await hub.deletePat(stray.uuid);
    report.removedStrays.push(stray.uuid);
  }
  if (plan.retiredDue) {
    await hub.deletePat(plan.retiredDue);
    report.deletedRetired = plan.retiredDue;
  }
  return report;
}
