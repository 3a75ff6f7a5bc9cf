import { describe, expect, it } from 'vitest';
import { PrewarmLiveView } from '../../../cli/live/prewarm-view.js';
import type { ImageResult } from '../../../lib/prewarm/report.js';

const finished = (image: string, upstreamPulls: number): ImageResult => ({
  image,
  cacheReference: `r/docker-hub/library/${image}`,
  status: 'warmed',
  platforms: ['linux/amd64'],
  upstreamPulls,
  durationMs: 10,
});

describe('pre-warm live view', () => {
  it('shows each image in flight with its step, bytes and time, then the totals', () => {
    const view = new PrewarmLiveView(3, 0);
    view.progress({ kind: 'step', image: 'node:22', step: 'upstream-check' }, 0);
    view.progress({ kind: 'quota', upstream: 'docker-hub', remaining: 180, limit: 200 }, 100);
    view.progress({ kind: 'step', image: 'node:22', step: 'pull-blobs' }, 200);
    view.progress({ kind: 'bytes', image: 'node:22', bytes: 3 * 1024 * 1024 }, 300);
    view.progress({ kind: 'step', image: 'redis:7', step: 'pull-manifest' }, 400);
    expect(view.render(1500)).toEqual([
      '  ⋯ node:22                      pull-blobs        3.0 MiB  1.5 s',
      '  ⋯ redis:7                      pull-manifest         0 B  1.1 s',
      '[0/3] 2 in flight, 3.0 MiB moved, Docker Hub pulls: 0 spent, 180 of 200 left, 1.5 s elapsed',
    ]);
    view.imageDone(finished('node:22', 2));
    expect(view.render(2000, 1)).toEqual([
      '  ⋯ redis:7                      pull-manifest         0 B  1.6 s',
      '[1/3] 1 in flight, 3.0 MiB moved, Docker Hub pulls: 2 spent, 180 of 200 left, 2.0 s elapsed',
    ]);
  });

  it('caps the lines in flight and says how many more', () => {
    const view = new PrewarmLiveView(5, 0);
    for (const image of ['a:1', 'b:1', 'c:1'])
      view.progress({ kind: 'step', image, step: 'upstream-check' }, 0);
    expect(view.render(0, 2)).toEqual([
      expect.stringContaining('a:1'),
      expect.stringContaining('b:1'),
      '  … and 1 more in flight',
      '[0/5] 3 in flight, 0 B moved, Docker Hub pulls: 0 spent, 0.0 s elapsed',
    ]);
  });
});
