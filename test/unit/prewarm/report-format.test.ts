/** The pre-warm report as a person reads it: its columns, and the lines about merged entries. */
import { describe, expect, it } from 'vitest';
import { formatPrewarm, type PrewarmReport } from '../../../lib/prewarm/report.js';

const report = (merged: PrewarmReport['merged'], images: PrewarmReport['images'] = []): PrewarmReport => ({
  mode: 'full',
  startedAt: '2026-11-29T00:00:00.000Z',
  durationMs: 100,
  images,
  counts: {
    warmed: 0,
    skipped: 0,
    'stale-pending': 0,
    deferred: 0,
    unverified: 0,
    archived: 0,
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

describe('image lines', () => {
  it('keep their status column aligned when a name is longer than the usual column', () => {
    const image = (name: string) => ({
      image: name,
      cacheReference: `r.example/${name}`,
      status: 'skipped' as const,
      reason: 'unchanged',
      platforms: ['linux/amd64'],
      upstreamPulls: 0,
      durationMs: 1,
    });
    const lines = formatPrewarm(
      report(undefined, [image('node:22'), image('quay.io/prometheus/node-exporter:v1.9.0')]),
    ).split('\n');
    expect(lines[0]!.indexOf('skipped')).toBe(lines[1]!.indexOf('skipped'));
    expect(lines[1]).toBe('= quay.io/prometheus/node-exporter:v1.9.0 skipped       unchanged');
  });
});
