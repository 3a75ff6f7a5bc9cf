/**
 * When an unchanged image's layers need checking (BatchCheckLayerAvailability, one ECR call each).
 * Layers of an image in the cache only go missing when something stopped between the manifest and
 * the last blob: a run cut short or crashed, a manifest-only run, or a client that pulled one
 * platform of a new digest. Each of those leaves the image pushed into the cache after the start of
 * the last run that verified everything. So a full run that leaves nothing half-warmed records when
 * it started (a tag on the credential secret, beside the lease), and the next runs check only images
 * the cache received after that: tonight's new digests are checked once more tomorrow, and a quiet
 * night checks none. Every image is also checked one night in `AUDIT_EVERY_NIGHTS`, spread by name,
 * as a backstop for anything that mark cannot see.
 */
import { createHash } from 'node:crypto';
import type { ImageResult } from './report.js';

export const LAYERS_VERIFIED_TAG = 'prewarm-layers-verified';
export const AUDIT_EVERY_NIGHTS = 7;
/** Pushes this close before the mark are still checked: the keeper's clock and ECR's may differ a little. */
export const CLOCK_SKEW_MS = 2_000;
const DAY_MS = 86_400_000;

/** Pure: why the layer check can be left out for this unchanged image, or undefined when it is due. */
export function layerCheckWaived(facts: {
  /** When the cache received the image's current digest (DescribeImages' imagePushedAt). */
  pushedAt?: number;
  /** The last mark: every image the cache held before it had all its layers. */
  verifiedUntil?: number;
  /** The cache reference, to spread the weekly audit over the nights. */
  reference: string;
  now: number;
}): string | undefined {
  const { pushedAt, verifiedUntil, reference, now } = facts;
  if (pushedAt === undefined || verifiedUntil === undefined) return undefined;
  if (pushedAt >= verifiedUntil - CLOCK_SKEW_MS) return undefined;
  if (auditNight(reference, now)) return undefined;
  return `layers verified by the run of ${new Date(verifiedUntil).toISOString()}`;
}

/** Pure: is tonight this image's night for the backstop audit? */
export function auditNight(reference: string, now: number): boolean {
  const slot = createHash('sha256').update(reference).digest().readUInt32BE(0) % AUDIT_EVERY_NIGHTS;
  return Math.floor(now / DAY_MS) % AUDIT_EVERY_NIGHTS === slot;
}

/**
 * Pure: may the run record that every image in the cache now has all its layers? Each image must
 * have been warmed or checked (or waived by the previous mark), or have stopped before anything
 * reached the cache while the cache held nothing of it newer than the previous mark. An image left
 * between manifest and blobs, or one whose cache lookup never answered, keeps the mark where it is.
 */
export function everyImageWhole(
  images: Array<{
    status: ImageResult['status'];
    step?: ImageResult['step'];
    /** What the cache lookup found: absent or older than the previous mark (false), newer (true), or not known (undefined). */
    cachedSinceMark?: boolean;
  }>,
): boolean {
  return images.every(
    (i) =>
      i.status === 'warmed' ||
      i.status === 'skipped' ||
      (i.step !== 'pull-manifest' && i.step !== 'pull-blobs' && i.cachedSinceMark === false),
  );
}

/** Pure: is the cached copy (if any) newer than the mark, as far as the lookup says? */
export function cachedSinceMark(
  lookup: { digest?: string; pushedAt?: number } | undefined,
  verifiedUntil: number | undefined,
): boolean | undefined {
  if (!lookup) return undefined;
  if (!lookup.digest) return false;
  if (lookup.pushedAt === undefined || verifiedUntil === undefined) return true;
  return lookup.pushedAt >= verifiedUntil - CLOCK_SKEW_MS;
}

export function parseVerifiedMark(value: string | undefined): number | undefined {
  const at = Date.parse(value ?? '');
  return Number.isNaN(at) ? undefined : at;
}
