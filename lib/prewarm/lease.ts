/**
 * One pre-warm at a time. The stack's reserved concurrency of 1 keeps Lambda runs apart; the lease
 * also keeps a run from the CLI and a scheduled run apart, which would each spend their own budget
 * of Docker Hub pulls. It is a tag on the rule's credential secret (which the stack already has):
 * `prewarm-lease = <run id> <expiry>`, written, then read back to see who won; it expires with the
 * run's deadline, so a crashed run never blocks the next night.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { setTags } from '../credential/metadata.js';
import { describeCredentialSecret } from '../credential/secret.js';
import { errorMessage } from '../runtime/errors.js';
import type { PrewarmReport } from './report.js';

export const LEASE_TAG = 'prewarm-lease';

export interface Lease {
  holder: string;
  expiresAt: number;
}

export function parseLease(value: string | undefined): Lease | undefined {
  const [holder, expires] = (value ?? '').split(' ');
  const expiresAt = Date.parse(expires ?? '');
  return holder && !Number.isNaN(expiresAt) ? { holder, expiresAt } : undefined;
}

/** Pure: may `runId` take the lease, given what the tag says now? */
export function leaseFree(existing: Lease | undefined, runId: string, now: number): boolean {
  return !existing || existing.holder === runId || existing.expiresAt <= now;
}

export type LeaseOutcome =
  /** `tags`: the secret's tags as read back, for the run's other marks (layer-audit.ts). */
  | { acquired: true; tags: Record<string, string> }
  | { acquired: false; holder: string; expiresAt: string }
  /** The lease could not be read or written: taken as held, with why. */
  | { acquired: false; unreadable: string };

export async function acquireLease(
  secrets: SecretsManagerClient,
  secretId: string,
  run: { id: string; until: number; now: () => number },
): Promise<LeaseOutcome> {
  let tags: Record<string, string> = {};
  const read = async () => {
    tags = (await describeCredentialSecret(secrets, secretId)).tags;
    return parseLease(tags[LEASE_TAG]);
  };
  const before = await read();
  if (!leaseFree(before, run.id, run.now()))
    return { acquired: false, holder: before!.holder, expiresAt: new Date(before!.expiresAt).toISOString() };
  await setTags(secrets, secretId, { [LEASE_TAG]: `${run.id} ${new Date(run.until).toISOString()}` });
  const after = await read();
  if (after?.holder !== run.id)
    return {
      acquired: false,
      holder: after?.holder ?? 'unknown',
      expiresAt: after ? new Date(after.expiresAt).toISOString() : '',
    };
  return { acquired: true, tags };
}

/** acquireLease, with a lease that cannot be read taken as held: never two runs at once. */
export function takeLease(
  secrets: SecretsManagerClient,
  secretId: string,
  run: { id: string; until: number; now: () => number },
): Promise<LeaseOutcome> {
  return acquireLease(secrets, secretId, run).catch(
    (error: unknown): LeaseOutcome => ({ acquired: false, unreadable: errorMessage(error) }),
  );
}

/** A lease not taken, as the report records it: who holds it, or why it could not be read. */
export const leaseNotHeld = (
  lease: Exclude<LeaseOutcome, { acquired: true }>,
): NonNullable<PrewarmReport['lease']> =>
  'unreadable' in lease ? { held: false, unreadable: lease.unreadable } : { held: false, by: lease.holder };

/** Why the lease was not taken: who holds it (until when, if known), or why it could not be read. */
export const leaseNotTaken = (lease: { by?: string; unreadable?: string; expiresAt?: string }) =>
  lease.unreadable !== undefined
    ? `the pre-warm lease could not be read (${lease.unreadable})`
    : `another pre-warm run holds the lease (${lease.by}${lease.expiresAt ? `, until ${lease.expiresAt}` : ''})`;

/** Why a run did not start: for every image's line. */
export const leaseRefusal = (lease: Exclude<LeaseOutcome, { acquired: true }>) =>
  `${leaseNotTaken({ ...leaseNotHeld(lease), ...('expiresAt' in lease ? { expiresAt: lease.expiresAt } : {}) })}; not started, so no pull is spent twice`;

/** Releases the lease if this run still holds it. */
export async function releaseLease(
  secrets: SecretsManagerClient,
  secretId: string,
  runId: string,
): Promise<void> {
  const current = parseLease((await describeCredentialSecret(secrets, secretId)).tags[LEASE_TAG]);
  if (current?.holder === runId) await setTags(secrets, secretId, { [LEASE_TAG]: undefined });
}
