/**
 * ECR's `ECR Pull Through Cache Action` events (EventBridge, best effort). A failed sync becomes
 * an `UpstreamPullFailures` datum per prefix and failure code, plus one without dimensions that
 * the alarm watches.
 */
import { InvalidEventError } from '../runtime/errors.js';
import type { Metric } from '../runtime/metric.js';

/** CloudWatch's limit on a dimension value (API model: DimensionValue, 1–1024). */
const MAX_DIMENSION_VALUE = 1024;

export interface PullThroughEvent {
  prefix: string;
  repository: string;
  tag?: string;
  digest?: string;
  status: string;
  failureCode?: string;
  failureReason?: string;
}

export function parsePullThroughEvent(event: unknown): PullThroughEvent {
  const e = event as Record<string, unknown> | null;
  if (!e || typeof e !== 'object')
    throw new InvalidEventError('pullEvents: the event must be an EventBridge event object');
  if (e.source !== 'aws.ecr' || e['detail-type'] !== 'ECR Pull Through Cache Action') {
    throw new InvalidEventError(
      `pullEvents: expected source aws.ecr and detail-type "ECR Pull Through Cache Action", got ${String(e.source)} / ${String(e['detail-type'])}`,
    );
  }
  const d = e.detail as Record<string, unknown> | undefined;
  const str = (k: string) => (typeof d?.[k] === 'string' ? (d[k] as string) : undefined);
  const status = str('sync-status');
  const repository = str('repository-name');
  if (!d || !status || !repository)
    throw new InvalidEventError('pullEvents: detail needs sync-status and repository-name');
  const prefix = str('ecr-repository-prefix') ?? repository.split('/')[0]!;
  // The prefix becomes a CloudWatch dimension value: 1 to 1,024 characters, or every publish fails.
  if (prefix.length < 1 || prefix.length > MAX_DIMENSION_VALUE)
    throw new InvalidEventError(
      `pullEvents: detail.ecr-repository-prefix must be 1 to ${MAX_DIMENSION_VALUE} characters (got ${prefix.length}); it becomes the Prefix dimension`,
    );
  return {
    prefix,
    repository,
    tag: str('image-tag'),
    digest: str('image-digest'),
    status,
    failureCode: str('failure-code'),
    failureReason: str('failure-reason'),
  };
}

export function pullEventMetrics(event: PullThroughEvent): Metric[] {
  if (event.status !== 'FAILED')
    return [{ name: 'UpstreamPullSyncs', value: 1, dimensions: { Prefix: event.prefix } }];
  return [
    {
      name: 'UpstreamPullFailures',
      value: 1,
      dimensions: { Prefix: event.prefix, FailureCode: event.failureCode ?? 'Unknown' },
    },
    { name: 'UpstreamPullFailures', value: 1 },
  ];
}
