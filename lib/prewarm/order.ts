/**
 * Deferred work goes first the next night. Deferrals cut the tail of a night (the budget, the
 * reserve, a 429, the deadline), so the night records where its first deferred image stood (the
 * `prewarm-resume` tag on the credential secret, beside the lease) and the next night starts its
 * round there, wrapping around to the images before it. No image is deferred night after night
 * only because of where it sits in the list.
 */
import { createHash } from 'node:crypto';

export const RESUME_TAG = 'prewarm-resume';

/** A short, stable key for an image's cache reference (`docker-hub/library/node:22`): tag values are short. */
export const resumeKey = (reference: string) =>
  createHash('sha256').update(reference).digest('hex').slice(0, 16);

/** Pure: the images rotated to start at the one `key` names; unchanged when none does. */
export function resumeOrder<T>(
  images: readonly T[],
  key: string | undefined,
  referenceOf: (image: T) => string,
): T[] {
  const start = key ? images.findIndex((image) => resumeKey(referenceOf(image)) === key) : -1;
  return start <= 0 ? [...images] : [...images.slice(start), ...images.slice(0, start)];
}

/** Pure: where the next night starts: the first image this night deferred, in its order; none when nothing was. */
export function nextResume<T>(
  images: readonly T[],
  statuses: readonly string[],
  referenceOf: (image: T) => string,
): string | undefined {
  const first = statuses.indexOf('deferred');
  return first < 0 ? undefined : resumeKey(referenceOf(images[first]!));
}
