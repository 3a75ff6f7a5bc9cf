/** The pre-warm report as a person reads it: the lines about merged entries. */
import { describe, expect, it } from 'vitest';
import { formatPrewarm, type PrewarmReport } from '../../../lib/prewarm/report.js';

const report = (merged: PrewarmReport['merged']): PrewarmReport => ({
  mode: 'full',
  startedAt: '2026-11-29T00:00:00.000Z',
  durationMs: 100,
  images: [],
  counts: {
    warmed: 0,
    skipped: 0,
    'stale-pending': 0,
    deferred: 0,
    unverified: 0,
    failed: 0,
    'would-pull': 0,
  },
  upstreamPulls: { estimated: 0 },
  merged,
});

describe('merged entries', () => {
  it.each([
    [
      { image: 'docker.io/library/node:22', sameAs: 'node:22' },
      'docker.io/library/node:22: the same cache reference as node:22, warmed once.',
    ],
    [{ image: 'node:22', sameAs: 'node:22' }, 'node:22: listed more than once, warmed once.'],
  ])('%j', (entry, line) => {
    expect(formatPrewarm(report([entry])).split('\n')).toContain(line);
  });
});
