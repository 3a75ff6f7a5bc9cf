/** The metrics a pre-warm run publishes (namespace from the config). */
import type { Metric } from '../runtime/metric.js';
import type { PrewarmReport } from './report.js';

export function prewarmMetrics(report: PrewarmReport): Metric[] {
  const metrics: Metric[] = [
    { name: 'PrewarmImagesWarmed', value: report.counts.warmed },
    { name: 'PrewarmImagesSkipped', value: report.counts.skipped },
    { name: 'PrewarmImagesDeferred', value: report.counts.deferred },
    { name: 'PrewarmImagesFailed', value: report.counts.failed },
    { name: 'PrewarmImagesStalePending', value: report.counts['stale-pending'] },
    { name: 'PrewarmImagesUnverified', value: report.counts.unverified },
    { name: 'PrewarmImagesArchived', value: report.counts.archived },
    { name: 'UpstreamPullsSpent', value: report.upstreamPulls.measured ?? report.upstreamPulls.estimated },
    { name: 'PrewarmDuration', value: report.durationMs / 1000, unit: 'Seconds' },
  ];
  // The images the run got an answer for, every status but deferred: none, night after night, is a
  // pre-warm that has stalled (its alarm). Not published for a run of no image.
  const total = Object.values(report.counts).reduce((sum, n) => sum + n, 0);
  if (total > 0) metrics.push({ name: 'PrewarmImagesChecked', value: total - report.counts.deferred });
  if (report.dockerHub) metrics.push({ name: 'DockerHubPullsRemaining', value: report.dockerHub.remaining });
  return metrics;
}
