/** What a pre-warm run returns: one line per image, counts, and the upstream pulls it spent. */
import type { RateLimit } from '../registry/rate-limit.js';

/**
 * `unverified`: the image could not be checked tonight, and nothing is known to be wrong with what
 * the cache holds, so no alarm should fire: ECR kept throttling its own API or registry (not
 * Docker Hub's limit), or upstream failed (5xx, no answer) for a tag the cache holds.
 */
export type ImageStatus =
  | 'warmed'
  | 'skipped'
  | 'deferred'
  | 'failed'
  | 'stale-pending'
  | 'unverified'
  /** The cache holds it in the archive storage class (or is restoring it): not warmed, not failed. */
  | 'archived'
  /** Dry run only: the image would be pulled through the cache, spending `upstreamPulls`. */
  | 'would-pull';
export type PrewarmStep = 'cache-lookup' | 'upstream-check' | 'pull-manifest' | 'pull-blobs';
export type FailureCause =
  | 'auth'
  | 'not-found'
  | 'upstream-429'
  | 'upstream-5xx'
  | 'ecr-error'
  | 'network'
  | 'digest-mismatch'
  | 'ecr-throttled'
  /** Cut short at the run's deadline, so that the report is returned in time. */
  | 'deadline'
  | 'other';

export interface ImageResult {
  /** As written in the config (`node:22-alpine`). */
  image: string;
  /** What CI pulls instead. */
  cacheReference: string;
  status: ImageStatus;
  /** Why it was skipped, deferred, failed or is stale. */
  reason?: string;
  step?: PrewarmStep;
  cause?: FailureCause;
  upstreamDigest?: string;
  cachedDigest?: string;
  platforms: string[];
  /**
   * Upstream pulls this image cost, as counted: one per platform manifest it has upstream (all of
   * an index's, which ECR may fetch), never fewer than configured; 0 when nothing was pulled upstream.
   */
  upstreamPulls: number;
  /** Dry run: a multi-platform image not cached yet, whose platforms upstream are unknown: upstreamPulls is the least it costs. */
  upstreamPullsAtLeast?: true;
  blobs?: { count: number; bytes: number };
  durationMs: number;
  /** Dry run only: what a run would do with the image (pull it, or check and fill its layers). */
  planned?: 'pull' | 'fill-layers';
}

export interface PrewarmReport {
  mode: 'full' | 'manifest-only';
  startedAt: string;
  durationMs: number;
  images: ImageResult[];
  counts: Record<ImageStatus, number>;
  upstreamPulls: {
    /** The images' own counts (upstreamPulls), summed. */
    estimated: number;
    /** Measured from Docker Hub's ratelimit-remaining before and after, when it reports one. */
    measured?: number;
  };
  /** Docker Hub quota as last seen (absent for unlimited accounts). */
  dockerHub?: RateLimit;
  /** Why work at an upstream registry stopped early, if it did (each registry's reason, `; `-joined). */
  stoppedUpstream?: string;
  /** Entries that name the same cache reference as an earlier one: warmed once, under the first. */
  merged?: Array<{ image: string; sameAs: string }>;
  /**
   * prewarm.discover: the images added tonight because something pulled them, or why none could be;
   * and the repositories whose policies refused the reads (left out).
   */
  discovered?: { images: string[]; error?: string; unreadable?: string[] };
  /** A dry run: nothing was pulled; `would-pull` images say what a run would spend. */
  dryRun?: boolean;
  /** Set when another run held the lease (`by`), or it could not be read (`unreadable`): this one warmed nothing. */
  lease?: { held: false; by?: string; unreadable?: string };
  /** A night run by the state machine: warmed in the plan step (`inline`) or one warmImage per image. */
  fanOut?: { mode: 'inline' | 'fan-out'; invocations: number };
  /** Whether the metrics reached CloudWatch (set by the handler; a failure never loses the report). */
  metrics?: { published: boolean; error?: string };
  /**
   * Lines left out of `images` (a fanned-out night's output carries at most 256 KiB; `counts` still
   * counts every image, and each image's line is in its step's log), and why.
   */
  unlisted?: { count: number; reason: string };
}

/** The line of an image a run deferred before it asked anything about it. */
export const notStartedLine = (
  image: { original: string; platforms: string[] },
  cacheReference: string,
  reason: string,
): ImageResult => ({
  image: image.original,
  cacheReference,
  status: 'deferred',
  reason,
  platforms: image.platforms,
  upstreamPulls: 0,
  durationMs: 0,
});

export function countStatuses(images: ImageResult[]): Record<ImageStatus, number> {
  const counts: Record<ImageStatus, number> = {
    warmed: 0,
    skipped: 0,
    deferred: 0,
    failed: 0,
    'stale-pending': 0,
    unverified: 0,
    archived: 0,
    'would-pull': 0,
  };
  for (const i of images) counts[i.status]++;
  return counts;
}

const ICON: Record<ImageStatus, string> = {
  warmed: '✓',
  skipped: '=',
  deferred: '…',
  failed: '✗',
  'stale-pending': '~',
  unverified: '?',
  archived: '▣',
  'would-pull': '↓',
};

/** One image's line; `width` is the image column's (the report's widest name, for aligned columns). */
export function formatImageLine(r: ImageResult, width = 28): string {
  const detail = r.status === 'failed' ? `${r.step}: ${r.cause}: ${r.reason}` : r.reason;
  return `${ICON[r.status]} ${r.image.padEnd(width)} ${r.status.padEnd(13)}${detail ? ` ${detail}` : ''}`;
}

export function formatPrewarm(report: PrewarmReport): string {
  const c = report.counts;
  const width = Math.max(28, ...report.images.map((r) => r.image.length));
  const lines = report.images.map((r) => formatImageLine(r, width));
  if (report.dryRun) {
    const quota = report.dockerHub
      ? `Docker Hub has ${report.dockerHub.remaining} of ${report.dockerHub.limit} pulls left in its window`
      : 'Docker Hub reported no limit';
    lines.push(
      `Dry run (nothing pulled): ${c['would-pull']} image(s) would be pulled, spending ${report.images.some((i) => i.upstreamPullsAtLeast) ? 'at least ' : ''}${report.upstreamPulls.estimated} Docker Hub pull(s); ${c.skipped} unchanged, ${c.deferred} held back by the reserve or the budget, ${c.failed} failing the check. ${quota}.`,
    );
    return lines.join('\n');
  }
  if (report.unlisted) lines.push(`(${report.unlisted.count} more not listed: ${report.unlisted.reason})`);
  lines.push(
    `${report.images.length + (report.unlisted?.count ?? 0)} images: ${c.warmed} warmed, ${c.skipped} unchanged, ${c['stale-pending']} stale-pending, ${c.deferred} deferred, ${c.unverified} unverified, ${c.archived ? `${c.archived} archived, ` : ''}${c.failed} failed ` +
      `in ${(report.durationMs / 1000).toFixed(1)} s (${report.mode}).`,
  );
  const measured =
    report.upstreamPulls.measured !== undefined ? `, ${report.upstreamPulls.measured} measured` : '';
  const quota = report.dockerHub
    ? `; Docker Hub: ${report.dockerHub.remaining} of ${report.dockerHub.limit} pulls left in the window`
    : '';
  lines.push(`Upstream pulls: ${report.upstreamPulls.estimated} estimated${measured}${quota}.`);
  if (report.stoppedUpstream) lines.push(`Upstream work stopped early: ${report.stoppedUpstream}.`);
  // Every failure again at the end, with its step and cause: the one list to act on.
  const failures = report.images.filter((r) => r.status === 'failed');
  if (failures.length) {
    lines.push(`Failed (${failures.length}):`);
    for (const r of failures) lines.push(`  ${r.image}: ${r.step}: ${r.cause}: ${r.reason}`);
  }
  if (report.discovered?.error) lines.push(`Discovery skipped tonight: ${report.discovered.error}.`);
  else if (report.discovered?.images.length)
    lines.push(
      `Discovered ${report.discovered.images.length} image(s) pulled through the cache and not on the list: ${report.discovered.images.join(', ')}.`,
    );
  if (report.discovered?.unreadable?.length)
    lines.push(
      `Discovery could not read, left out: ${report.discovered.unreadable.join(', ')} (a policy on the repository denies the pre-warm role its reads).`,
    );
  for (const m of report.merged ?? [])
    lines.push(
      m.image === m.sameAs
        ? `${m.image}: listed more than once, warmed once.`
        : `${m.image}: the same cache reference as ${m.sameAs}, warmed once.`,
    );
  if (report.metrics && !report.metrics.published)
    lines.push(`Metrics were not published: ${report.metrics.error ?? 'unknown error'}.`);
  return lines.join('\n');
}
