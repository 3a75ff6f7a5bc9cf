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
 *
 * The images that run itself pulled in are whole too, and are most of what the cache received while
 * it ran (all of it, the night after a cold one). The run records when it ended and a fingerprint of
 * the digests it pulled in (`prewarm-layers-received`); the next run leaves out the images received
 * between the mark and that end when they are exactly those digests. Anything else received then (a
 * client pulling one platform of a tag that moved mid-run), or a digest gone since, changes the set,
 * and the images of its part of the fingerprint (a sixteenth, by name) are all checked.
 */
import { createHash } from 'node:crypto';
import type { ImageResult } from './report.js';

export const LAYERS_VERIFIED_TAG = 'prewarm-layers-verified';
export const LAYERS_RECEIVED_TAG = 'prewarm-layers-received';
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
  /** Received between the mark and that run's end, and exactly what it pulled in (see above). */
  pulledInByThatRun?: boolean;
}): string | undefined {
  const { pushedAt, verifiedUntil, reference, now } = facts;
  if (pushedAt === undefined || verifiedUntil === undefined) return undefined;
  const run = new Date(verifiedUntil).toISOString();
  if (pushedAt >= verifiedUntil - CLOCK_SKEW_MS) {
    if (!facts.pulledInByThatRun || auditNight(reference, now)) return undefined;
    return `layers verified by the run of ${run}, which pulled this digest in`;
  }
  if (auditNight(reference, now)) return undefined;
  return `layers verified by the run of ${run}`;
}

/** What a whole run recorded about the images it pulled in: when it ended, and their fingerprint. */
export interface ReceivedMark {
  until: number;
  fingerprint: string;
}

const BUCKETS = 16;
const BUCKET_HEX = 8;
const FINGERPRINT = new RegExp(`^[0-9a-f]{${BUCKETS * BUCKET_HEX}}$`);

/** Which of the fingerprint's buckets an image reference falls in. */
export const bucketOf = (reference: string) => createHash('sha256').update(reference).digest()[0]! % BUCKETS;

/**
 * Pure: the fingerprint of a set of `reference@digest` (order and repeats do not matter), one short
 * hash per bucket of references, so that a digest the cache received from elsewhere spoils only its
 * bucket's images, not the whole night's.
 */
export function receivedFingerprint(keys: Iterable<string>): string {
  const buckets = Array.from({ length: BUCKETS }, () => [] as string[]);
  for (const key of new Set(keys)) buckets[bucketOf(key.slice(0, key.lastIndexOf('@')))]!.push(key);
  return buckets
    .map((bucket) => createHash('sha256').update(bucket.sort().join('\n')).digest('hex').slice(0, BUCKET_HEX))
    .join('');
}

/** Pure: does `reference`'s bucket read the same in both fingerprints? */
export function sameBucket(reference: string, a: string | undefined, b: string | undefined): boolean {
  const at = bucketOf(reference) * BUCKET_HEX;
  return a !== undefined && b !== undefined && a.slice(at, at + BUCKET_HEX) === b.slice(at, at + BUCKET_HEX);
}

/** The tag's value: `<end, ISO 8601> <fingerprint>` (characters a Secrets Manager tag allows). */
export const formatReceivedMark = (mark: ReceivedMark) =>
  `${new Date(mark.until).toISOString()} ${mark.fingerprint}`;

export function parseReceivedMark(value: string | undefined): ReceivedMark | undefined {
  const [at, fingerprint] = (value ?? '').split(' ');
  const until = Date.parse(at ?? '');
  return Number.isNaN(until) || !FINGERPRINT.test(fingerprint ?? '')
    ? undefined
    : { until, fingerprint: fingerprint! };
}

/** Pure: did the cache receive this copy between the mark and the end of the run that set it? */
export function receivedDuringMarkedRun(
  pushedAt: number | undefined,
  verifiedUntil: number | undefined,
  received: ReceivedMark | undefined,
): boolean {
  return (
    pushedAt !== undefined &&
    verifiedUntil !== undefined &&
    received !== undefined &&
    pushedAt >= verifiedUntil - CLOCK_SKEW_MS &&
    pushedAt <= received.until + CLOCK_SKEW_MS
  );
}

/**
 * Pure: the `reference@digest` of every image a run pulled into the cache and left whole (warmed,
 * with a Docker Hub pull spent: the cache fetched it from upstream during the run).
 */
export function pulledIn(
  lines: Array<{
    reference: string;
    status: ImageResult['status'];
    upstreamPulls: number;
    cachedDigest?: string;
  }>,
): string[] {
  return lines
    .filter((l) => l.status === 'warmed' && l.upstreamPulls > 0 && l.cachedDigest)
    .map((l) => `${l.reference}@${l.cachedDigest}`);
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
      // Archived: not pullable, nothing to fill; its layers come back with it when it is restored.
      i.status === 'archived' ||
      (i.step !== 'pull-manifest' && i.step !== 'pull-blobs' && i.cachedSinceMark === false),
  );
}

/**
 * Pure: did the run look at every configured image? Only such a run can say the cache is whole: a
 * run of a few images by hand knows nothing of the others' layers, so it moves no mark.
 */
export function coversNight(configured: string[], run: string[]): boolean {
  const seen = new Set(run);
  return configured.every((reference) => seen.has(reference));
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
