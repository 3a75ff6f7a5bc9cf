/**
 * CloudWatch stand-in: PutMetricData with AWS's limits (1000 datums a call, 30 dimensions, finite
 * values, no `AWS/` namespaces), and ListMetrics / GetMetricData to read back what was stored.
 */
import type { SandboxClock } from '../clock.js';
import { AwsError, type AwsService, epochSeconds } from './protocol.js';

export interface StoredDatum {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  values: number[];
  counts: number[];
  timestamp: number;
  unit?: string;
}

interface InputDatum {
  MetricName?: string;
  Dimensions?: Array<{ Name: string; Value: string }>;
  Value?: number | string;
  Values?: Array<number | string>;
  Counts?: number[];
  StatisticValues?: { SampleCount: number; Sum: number; Minimum: number; Maximum: number };
  Timestamp?: number;
  Unit?: string;
}

interface MetricQuery {
  Id: string;
  MetricStat?: {
    Metric: { Namespace: string; MetricName: string; Dimensions?: Array<{ Name: string; Value: string }> };
    Period: number;
    Stat: string;
  };
}

const dimensionKey = (dims: Record<string, string>) =>
  Object.entries(dims)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

const TIMESTAMP_PAST_MS = 14 * 86_400_000;
const TIMESTAMP_FUTURE_MS = 2 * 3_600_000;

export class CloudWatchSandbox {
  readonly datums: StoredDatum[] = [];
  /** PutMetricData calls received (tests count them). */
  putCalls = 0;

  constructor(private readonly clock: SandboxClock) {}

  /** Latest stored value of a metric with exactly these dimensions. */
  latest(namespace: string, metricName: string, dimensions: Record<string, string> = {}): number | undefined {
    const key = dimensionKey(dimensions);
    const match = this.datums.filter(
      (d) => d.namespace === namespace && d.metricName === metricName && dimensionKey(d.dimensions) === key,
    );
    const last = match.at(-1);
    return last ? last.values.reduce((s, v, i) => s + v * (last.counts[i] ?? 1), 0) : undefined;
  }

  service(): AwsService {
    return {
      targetPrefix: 'GraniteServiceVersion20100801',
      name: 'cloudwatch',
      queryCompatible: true,
      operations: {
        PutMetricData: (input) => {
          this.putCalls++;
          const namespace = input.Namespace;
          if (typeof namespace !== 'string' || namespace.length === 0 || namespace.length > 255) {
            throw new AwsError('InvalidParameterValueException', 'Namespace must be 1 to 255 characters');
          }
          if (namespace.startsWith('AWS/'))
            throw new AwsError(
              'InvalidParameterValueException',
              'The value AWS/ for parameter Namespace is invalid.',
            );
          const data = (input.MetricData as InputDatum[] | undefined) ?? [];
          if (data.length === 0)
            throw new AwsError('MissingRequiredParameterException', 'MetricData is required');
          if (data.length > 1000) {
            throw new AwsError(
              'InvalidParameterValueException',
              'The collection MetricData must not have a size greater than 1000.',
            );
          }
          const stored: StoredDatum[] = data.map((d, i) => {
            if (!d.MetricName)
              throw new AwsError(
                'MissingRequiredParameterException',
                `MetricData.member.${i + 1}.MetricName is required`,
              );
            if ((d.Dimensions?.length ?? 0) > 30) {
              throw new AwsError(
                'InvalidParameterValueException',
                `MetricData.member.${i + 1}.Dimensions must not have more than 30 entries`,
              );
            }
            const numbers = (list: Array<number | string>) =>
              list.map((v) => {
                const n = typeof v === 'string' ? Number(v) : v;
                if (!Number.isFinite(n)) {
                  throw new AwsError(
                    'InvalidParameterValueException',
                    `The value ${v} for parameter MetricData.member.${i + 1}.Value is invalid.`,
                  );
                }
                return n;
              });
            // PutMetricData's reference: as much as two weeks before the current date, and as much
            // as 2 hours after the current time.
            if (d.Timestamp !== undefined) {
              const at = Number(d.Timestamp) * 1000;
              const now = this.clock.now();
              if (at < now - TIMESTAMP_PAST_MS || at > now + TIMESTAMP_FUTURE_MS)
                throw new AwsError(
                  'InvalidParameterValueException',
                  `The parameter MetricData.member.${i + 1}.Timestamp must specify a time no more than two weeks in the past or 2 hours in the future.`,
                );
            }
            let values: number[];
            let counts: number[];
            if (d.StatisticValues) {
              values = [d.StatisticValues.Sum];
              counts = [1];
            } else if (d.Values) {
              values = numbers(d.Values);
              counts = d.Counts ?? values.map(() => 1);
              if (values.length > 150 || counts.length !== values.length) {
                throw new AwsError(
                  'InvalidParameterValueException',
                  'Values holds at most 150 entries and Counts must match it',
                );
              }
            } else if (d.Value !== undefined) {
              values = numbers([d.Value]);
              counts = [1];
            } else {
              throw new AwsError(
                'InvalidParameterCombinationException',
                `MetricData.member.${i + 1} needs Value, Values or StatisticValues`,
              );
            }
            return {
              namespace,
              metricName: d.MetricName,
              dimensions: Object.fromEntries((d.Dimensions ?? []).map((x) => [x.Name, x.Value])),
              values,
              counts,
              timestamp: d.Timestamp !== undefined ? Number(d.Timestamp) * 1000 : this.clock.now(),
              unit: d.Unit,
            };
          });
          this.datums.push(...stored);
          return {};
        },
        ListMetrics: (input) => {
          const seen = new Map<
            string,
            { Namespace: string; MetricName: string; Dimensions: Array<{ Name: string; Value: string }> }
          >();
          for (const d of this.datums) {
            if (input.Namespace && d.namespace !== input.Namespace) continue;
            if (input.MetricName && d.metricName !== input.MetricName) continue;
            const filters = (input.Dimensions as Array<{ Name: string; Value?: string }>) ?? [];
            if (
              filters.some(
                (f) =>
                  !(f.Name in d.dimensions) || (f.Value !== undefined && d.dimensions[f.Name] !== f.Value),
              )
            )
              continue;
            const key = `${d.namespace}|${d.metricName}|${dimensionKey(d.dimensions)}`;
            seen.set(key, {
              Namespace: d.namespace,
              MetricName: d.metricName,
              Dimensions: Object.entries(d.dimensions).map(([Name, Value]) => ({ Name, Value })),
            });
          }
          return { Metrics: [...seen.values()] };
        },
        GetMetricData: (input) => {
          const start = Number(input.StartTime) * 1000;
          const end = Number(input.EndTime) * 1000;
          const queries = (input.MetricDataQueries as MetricQuery[] | undefined) ?? [];
          return {
            MetricDataResults: queries.map((q) => {
              const stat = q.MetricStat;
              if (!stat)
                throw new AwsError(
                  'InvalidParameterValueException',
                  'the sandbox supports MetricStat queries only',
                );
              const metric = stat.Metric;
              const want = dimensionKey(
                Object.fromEntries(
                  (metric.Dimensions ?? []).map((x: { Name: string; Value: string }) => [x.Name, x.Value]),
                ),
              );
              const points = this.datums.filter(
                (d) =>
                  d.namespace === metric.Namespace &&
                  d.metricName === metric.MetricName &&
                  dimensionKey(d.dimensions) === want &&
                  d.timestamp >= start &&
                  d.timestamp < end,
              );
              const period = Number(stat.Period) * 1000;
              const buckets = new Map<number, number[]>();
              for (const p of points) {
                const b = Math.floor(p.timestamp / period) * period;
                const list = buckets.get(b) ?? [];
                p.values.forEach((v, i) => {
                  for (let c = 0; c < (p.counts[i] ?? 1); c++) list.push(v);
                });
                buckets.set(b, list);
              }
              const reduce = (list: number[]) => {
                switch (stat.Stat) {
                  case 'Sum':
                    return list.reduce((a, b) => a + b, 0);
                  case 'Maximum':
                    return Math.max(...list);
                  case 'Minimum':
                    return Math.min(...list);
                  case 'SampleCount':
                    return list.length;
                  default:
                    return list.reduce((a, b) => a + b, 0) / list.length;
                }
              };
              const times = [...buckets.keys()].sort((a, b) => b - a);
              return {
                Id: q.Id,
                Label: metric.MetricName,
                Timestamps: times.map((t) => epochSeconds(t)),
                Values: times.map((t) => reduce(buckets.get(t)!)),
                StatusCode: 'Complete',
              };
            }),
          };
        },
      },
    };
  }
}

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** What this evaluator reads of an `AWS::CloudWatch::Alarm`'s properties, as CloudFormation spells them. */
export interface AlarmProperties {
  Statistic: string;
  Threshold: number;
  ComparisonOperator: string;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  TreatMissingData?: string;
}

/**
 * The state an alarm is in after one evaluation, as CloudWatch documents alarm evaluation. `periods`
 * holds the values published in each of its latest evaluation periods, oldest first; an empty one
 * is missing data. A period breaches when its statistic compares true with the threshold; the alarm
 * is in ALARM when DatapointsToAlarm (default: EvaluationPeriods) of them breach. Missing periods
 * go by TreatMissingData: `breaching` counts them as breaching, `notBreaching` as within the
 * threshold; with every period missing, `ignore` keeps the current state and `missing` (the
 * default) goes to INSUFFICIENT_DATA.
 */
export function alarmStateAfter(
  alarm: AlarmProperties,
  periods: number[][],
  current: AlarmState,
): AlarmState {
  const window = periods.slice(-alarm.EvaluationPeriods);
  if (window.length < alarm.EvaluationPeriods)
    throw new Error(`alarmStateAfter: ${alarm.EvaluationPeriods} evaluation periods, ${window.length} given`);
  const statistic = (values: number[]): number => {
    switch (alarm.Statistic) {
      case 'Minimum':
        return Math.min(...values);
      case 'Maximum':
        return Math.max(...values);
      case 'Sum':
        return values.reduce((a, b) => a + b, 0);
      case 'SampleCount':
        return values.length;
      case 'Average':
        return values.reduce((a, b) => a + b, 0) / values.length;
      default:
        throw new Error(`alarmStateAfter: Statistic ${alarm.Statistic} is not one CloudWatch has`);
    }
  };
  const breaches = (value: number): boolean => {
    switch (alarm.ComparisonOperator) {
      case 'GreaterThanThreshold':
        return value > alarm.Threshold;
      case 'GreaterThanOrEqualToThreshold':
        return value >= alarm.Threshold;
      case 'LessThanThreshold':
        return value < alarm.Threshold;
      case 'LessThanOrEqualToThreshold':
        return value <= alarm.Threshold;
      default:
        throw new Error(
          `alarmStateAfter: ComparisonOperator ${alarm.ComparisonOperator} is not supported here`,
        );
    }
  };
  const treatMissing = alarm.TreatMissingData ?? 'missing';
  if (!['breaching', 'notBreaching', 'ignore', 'missing'].includes(treatMissing))
    throw new Error(`alarmStateAfter: TreatMissingData ${treatMissing} is not one CloudWatch has`);
  const present = window.filter((values) => values.length > 0);
  const missing = window.length - present.length;
  if (present.length === 0) {
    if (treatMissing === 'breaching') return 'ALARM';
    if (treatMissing === 'notBreaching') return 'OK';
    return treatMissing === 'ignore' ? current : 'INSUFFICIENT_DATA';
  }
  const breaching =
    present.filter((values) => breaches(statistic(values))).length +
    (treatMissing === 'breaching' ? missing : 0);
  return breaching >= (alarm.DatapointsToAlarm ?? alarm.EvaluationPeriods) ? 'ALARM' : 'OK';
}
