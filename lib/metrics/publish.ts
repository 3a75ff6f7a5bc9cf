/**
 * The one way metrics reach CloudWatch: PutMetricData in as few calls as the limits allow
 * (1000 datums a call), dropping non-finite values with a warning instead of failing the batch.
 */
import { type CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { Metric } from '../runtime/metric.js';

export const MAX_DATUMS_PER_CALL = 1000;

export type { Metric };

export function toDatum(metric: Metric, timestamp: Date): MetricDatum {
  return {
    MetricName: metric.name,
    Value: metric.value,
    Unit: metric.unit ?? 'Count',
    Timestamp: timestamp,
    ...(metric.dimensions && Object.keys(metric.dimensions).length
      ? { Dimensions: Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })) }
      : {}),
  };
}

/** Splits datums into PutMetricData-sized batches. */
export function batchDatums<T>(datums: T[], size = MAX_DATUMS_PER_CALL): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < datums.length; i += size) batches.push(datums.slice(i, i + size));
  return batches;
}

export interface PublishResult {
  calls: number;
  datums: number;
  dropped: string[];
}

export async function publishMetrics(
  cloudwatch: CloudWatchClient,
  namespace: string,
  metrics: Metric[],
  /** The caller's clock (`deps.now()`), so every datum of a run is stamped by the time its checks used. */
  timestamp: Date,
  options: { abortSignal?: AbortSignal } = {},
): Promise<PublishResult> {
  const dropped = metrics.filter((m) => !Number.isFinite(m.value)).map((m) => m.name);
  const datums = metrics.filter((m) => Number.isFinite(m.value)).map((m) => toDatum(m, timestamp));
  const batches = batchDatums(datums);
  for (const batch of batches)
    await cloudwatch.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: batch }), options);
  return { calls: batches.length, datums: datums.length, dropped };
}
