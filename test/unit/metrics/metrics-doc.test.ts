/**
 * docs/operations.md, "The metrics", names every metric the functions publish and nothing else:
 * read from the table, compared with what each metrics function returns for a report that has
 * every part (so the doc cannot drift from the code).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AdminCredentialCheck, CredentialCheck } from '../../../lib/credential/check.js';
import { credentialMetrics } from '../../../lib/credential/metrics.js';
import { cacheMetrics } from '../../../lib/metrics/cache-metrics.js';
import { emptyFigures } from '../../../lib/metrics/cache-size.js';
import type { CacheReport } from '../../../lib/metrics/collect.js';
import { pullEventMetrics } from '../../../lib/metrics/pull-events.js';
import { prewarmMetrics } from '../../../lib/prewarm/metrics.js';
import type { PrewarmReport } from '../../../lib/prewarm/report.js';

function documentedMetrics(): string[] {
  const doc = readFileSync('docs/operations.md', 'utf8');
  const section = doc.slice(
    doc.indexOf('## The metrics'),
    doc.indexOf('\n## ', doc.indexOf('## The metrics') + 1),
  );
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]!));
}

function publishedMetrics(): string[] {
  const figures = { ...emptyFigures(), repositories: 1, monthlyCost: 0.1, dedupedBytes: 1 };
  const cache = cacheMetrics(
    {
      total: figures,
      byPrefix: [{ ...figures, prefix: 'docker-hub' }],
      repositories: [{ ...emptyFigures(), name: 'docker-hub/library/node', prefix: 'docker-hub' }],
      unreadable: [],
    } as unknown as CacheReport,
    20,
  );
  const prewarm = prewarmMetrics({
    counts: { warmed: 1 },
    upstreamPulls: { estimated: 1 },
    durationMs: 1,
    dockerHub: { limit: 200, remaining: 190, windowSeconds: 21_600 },
  } as unknown as PrewarmReport);
  const credential = credentialMetrics(
    [
      {
        secretName: 's',
        state: 'valid',
        valid: true,
        expiry: { source: 'secret-tags', daysLeft: 30 },
      } as CredentialCheck,
    ],
    { secretName: 'admin', state: 'ok' } as AdminCredentialCheck,
  );
  const event = { prefix: 'docker-hub', repository: 'docker-hub/library/node', tag: '22' };
  const pulls = [
    ...pullEventMetrics({ ...event, status: 'SUCCESS' } as never),
    ...pullEventMetrics({ ...event, status: 'FAILED', failureCode: 'UpstreamUnavailable' } as never),
  ];
  return [...cache, ...prewarm, ...credential, ...pulls].map((m) => m.name);
}

describe('the metrics reference', () => {
  it('lists every metric the functions publish, and only those', () => {
    expect(new Set(documentedMetrics())).toEqual(new Set(publishedMetrics()));
  });
});
