import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { cacheMetrics } from '../../../lib/metrics/cache-metrics.js';
import type { CacheReport } from '../../../lib/metrics/collect.js';
import { publishMetrics } from '../../../lib/metrics/publish.js';

const cw = mockClient(CloudWatchClient);
const client = new CloudWatchClient({ region: 'us-east-1' });
beforeEach(() => cw.reset());

describe('publishMetrics', () => {
  it('sends 1001 datums in 2 calls of at most 1000', async () => {
    const metrics = Array.from({ length: 1001 }, (_, i) => ({ name: 'M', value: i }));
    const result = await publishMetrics(client, 'NS', metrics, new Date());
    const calls = cw.commandCalls(PutMetricDataCommand);
    expect(calls.map((c) => c.args[0].input.MetricData!.length)).toEqual([1000, 1]);
    expect(calls[0]!.args[0].input.Namespace).toBe('NS');
    expect(result).toEqual({ calls: 2, datums: 1001, dropped: [] });
  });

  it('sends 1000 datums in exactly one call', async () => {
    await publishMetrics(
      client,
      'NS',
      Array.from({ length: 1000 }, () => ({ name: 'M', value: 1 })),
      new Date(),
    );
    expect(cw.commandCalls(PutMetricDataCommand)).toHaveLength(1);
  });

  it('drops non-finite values rather than failing the whole batch', async () => {
    const result = await publishMetrics(
      client,
      'NS',
      [
        { name: 'Good', value: 1 },
        { name: 'Bad', value: Number.NaN },
      ],
      new Date(),
    );
    expect(result.dropped).toEqual(['Bad']);
    expect(
      cw.commandCalls(PutMetricDataCommand)[0]!.args[0].input.MetricData!.map((d) => d.MetricName),
    ).toEqual(['Good']);
  });
});

describe('cacheMetrics', () => {
  it('publishes per-repository metrics only for the top N by size', () => {
    const figures = {
      images: 1,
      tagged: 1,
      untagged: 0,
      bytes: 1,
      bytesStandard: 1,
      bytesArchive: 0,
      staleImages: 0,
      staleBytes: 0,
    };
    const report = {
      total: { ...figures, repositories: 3, monthlyCost: 0 },
      byPrefix: [{ prefix: 'docker-hub', ...figures, repositories: 3, monthlyCost: 0 }],
      repositories: ['a', 'b', 'c'].map((name) => ({ name, prefix: 'docker-hub', ...figures })),
      unreadable: [],
    } as unknown as CacheReport;
    const repoMetrics = cacheMetrics(report, 2).filter((m) => m.dimensions?.Repository);
    expect(new Set(repoMetrics.map((m) => m.dimensions!.Repository))).toEqual(new Set(['a', 'b']));
  });
});
