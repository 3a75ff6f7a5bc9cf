/** A metric as the domains produce it; lib/metrics/publish.ts sends it to CloudWatch. */
export interface Metric {
  name: string;
  value: number;
  /** A CloudWatch unit (`Count` when absent). */
  unit?: 'Count' | 'Seconds' | 'Bytes' | 'None';
  dimensions?: Record<string, string>;
}
