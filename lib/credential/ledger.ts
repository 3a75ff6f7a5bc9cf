/**
 * The Docker Hub tokens the keeper mints form a ledger it can always reconcile. Each is labelled
 * `ecr-cache-keeper <secret mark> <rotation version id>`: the mark names the credential secret it
 * serves, so deployments that share one Docker Hub account (other regions, accounts or stages) each
 * reconcile only their own tokens, and a retry, a crash or a racing duplicate can find what an
 * earlier attempt made. The ledger holds when exactly one of the secret's tokens is active (the one
 * in AWSCURRENT), the one a rotation retired waits out its grace period deactivated, and nothing
 * else of the secret's remains. Rotation reconciles it; the daily check reports drift without
 * changing anything; `cache-keeper credential cleanup` reconciles it by hand.
 */
import { createHash } from 'node:crypto';
import type { HubApi, HubPat } from '../dockerhub/hub-api.js';

const LABEL_PREFIX = 'ecr-cache-keeper ';

/** Eight hex digits of the secret's ARN: a label stays well under Docker Hub's 100 characters. */
export const secretMark = (secretArn: string) =>
  createHash('sha256').update(secretArn).digest('hex').slice(0, 8);

/** The label of the token minted for a rotation version of a secret. */
export const patLabel = (secretArn: string, versionId: string) =>
  `${LABEL_PREFIX}${secretMark(secretArn)} ${versionId}`;

/**
 * Whether the token was minted for this rotation version: by its label, or by the label keepers
 * wrote before labels carried the secret's mark (a version id is unique, so either is exact).
 */
export const mintedFor = (pat: Pick<HubPat, 'token_label'>, secretArn: string, versionId: string) =>
  pat.token_label === patLabel(secretArn, versionId) || pat.token_label === `${LABEL_PREFIX}${versionId}`;

const isSecretsToken = (pat: Pick<HubPat, 'token_label'>, secretArn: string) =>
  pat.token_label.startsWith(`${LABEL_PREFIX}${secretMark(secretArn)} `);

/** Labelled by a keeper before labels carried the secret's mark: which deployment's, none can tell. */
const isUnmarked = (pat: Pick<HubPat, 'token_label'>) => /^ecr-cache-keeper [^ ]+$/.test(pat.token_label);

export interface LedgerState {
  /** The credential secret whose tokens these are. */
  secretArn: string;
  /** The token in AWSCURRENT (the secret's `pat-uuid` tag). */
  currentUuid?: string;
  /** The token the last rotation retired, and whether its grace period is over. */
  retired?: { uuid: string; due: boolean };
  /** A rotation in progress: its token is not a stray yet. */
  pendingVersion?: string;
}

export interface LedgerPlan {
  /** The secret's tokens that are neither current, retired nor pending: left by aborted attempts. */
  strays: Array<Pick<HubPat, 'uuid' | 'token_label' | 'is_active'>>;
  /**
   * Keeper tokens labelled before labels carried the secret's mark, neither current nor retired:
   * perhaps strays, perhaps another deployment's. Never removed; reported for a person to decide.
   */
  unmarked: string[];
  /** The retired token, when its grace period is over. */
  retiredDue?: string;
}

/** Pure: what is out of place in the ledger. */
export function ledgerDrift(pats: HubPat[], state: LedgerState): LedgerPlan {
  const keep = new Set([state.currentUuid, state.retired?.uuid].filter(Boolean));
  const pending = (p: HubPat) =>
    state.pendingVersion !== undefined && mintedFor(p, state.secretArn, state.pendingVersion);
  const strays = pats
    .filter((p) => isSecretsToken(p, state.secretArn) && !keep.has(p.uuid) && !pending(p))
    .map((p) => ({ uuid: p.uuid, token_label: p.token_label, is_active: p.is_active }));
  const unmarked = pats.filter((p) => isUnmarked(p) && !keep.has(p.uuid) && !pending(p)).map((p) => p.uuid);
  const retiredDue =
    state.retired?.due && pats.some((p) => p.uuid === state.retired!.uuid) ? state.retired.uuid : undefined;
  return { strays, unmarked, ...(retiredDue ? { retiredDue } : {}) };
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
