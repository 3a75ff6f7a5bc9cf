/**
 * The live view of `cache-keeper prewarm` on a terminal: the images in flight (step, bytes moved,
 * time), done/total, Docker Hub pulls spent and left, elapsed. State and rendering are plain
 * functions of the events; cli/commands/prewarm.ts draws the block and redraws it in place.
 */
import { humanBytes } from '../../lib/metrics/format.js';
import type { ImageResult, PrewarmStep } from '../../lib/prewarm/report.js';
import type { PrewarmProgress } from '../../lib/prewarm/run.js';

interface InFlight {
  step: PrewarmStep;
  bytes: number;
  since: number;
}

export class PrewarmLiveView {
  private readonly inFlight = new Map<string, InFlight>();
  private finished = 0;
  private pullsSpent = 0;
  private bytesMoved = 0;
  private readonly quotas = new Map<string, { remaining: number; limit: number }>();

  constructor(
    private readonly total: number,
    private readonly startedAt: number,
  ) {}

  progress(event: PrewarmProgress, now: number): void {
    if (event.kind === 'quota') {
      this.quotas.set(event.upstream, { remaining: event.remaining, limit: event.limit });
      return;
    }
    const current = this.inFlight.get(event.image) ?? { step: 'upstream-check', bytes: 0, since: now };
    if (event.kind === 'step') current.step = event.step;
    else {
      current.bytes += event.bytes;
      this.bytesMoved += event.bytes;
    }
    this.inFlight.set(event.image, current);
  }

  imageDone(result: ImageResult): void {
    this.inFlight.delete(result.image);
    this.finished++;
    this.pullsSpent += result.upstreamPulls;
  }

  /** The block under the finished images' lines: one line per image in flight, then the totals. */
  render(now: number, maxInFlightLines = 10): string[] {
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const flying = [...this.inFlight.entries()];
    const lines = flying
      .slice(0, maxInFlightLines)
      .map(
        ([image, f]) =>
          `  ⋯ ${image.padEnd(28)} ${f.step.padEnd(14)} ${humanBytes(f.bytes).padStart(10)}  ${seconds(now - f.since)}`,
      );
    if (flying.length > maxInFlightLines)
      lines.push(`  … and ${flying.length - maxInFlightLines} more in flight`);
    const quota = [...this.quotas.values()][0];
    const left = quota ? `, ${quota.remaining} of ${quota.limit} left` : '';
    lines.push(
      `[${this.finished}/${this.total}] ${flying.length} in flight, ${humanBytes(this.bytesMoved)} moved, ` +
        `Docker Hub pulls: ${this.pullsSpent} spent${left}, ${seconds(now - this.startedAt)} elapsed`,
    );
    return lines;
  }
}
