/** The cycle's result as a person reads it in ten seconds. */
import { humanBytes } from '../../lib/metrics/format.js';
import type { CycleResult } from './run.js';

export function formatCycle(r: CycleResult): string {
  const [first, second] = r.nights;
  const pulls = (n: typeof first) => n!.upstreamPulls.measured ?? n!.upstreamPulls.estimated;
  // How the state machine ran the night: one warmImage per image, or the plan step alone.
  const via = (n: typeof first) =>
    n?.fanOut?.mode === 'fan-out'
      ? ` (state machine: ${n.fanOut.invocations} warmImage invocations)`
      : n?.fanOut
        ? ' (state machine: warmed in the plan step, one invocation)'
        : '';
  const token = (c: typeof r.tokenBefore) =>
    `${c.state.toUpperCase()}${c.expiry.daysLeft !== undefined ? ` (${c.expiry.daysLeft} days left)` : ''}`;
  const rows: Array<[string, string]> = [
    [
      'Reconcile',
      r.reconcile.plan.length
        ? r.reconcile.plan.map((c) => c.target).join(', ') +
          ` created; ${r.reconcile.applied.validations.every((v) => v.isValid) ? 'rule validated upstream' : 'rule NOT valid'}`
        : 'no changes',
    ],
    [
      'Token',
      `${r.tokenBefore.secretName}: ${token(r.tokenBefore)} → rotated (managed, ${r.rotation.succeeded ? 'all 4 steps' : 'FAILED'}) → ${token(r.tokenAfter)}`,
    ],
    [
      'Pre-warm 1',
      `${first!.counts.warmed} warmed, ${first!.counts.failed} failed, ${first!.counts.deferred} deferred; ${pulls(first)} Docker Hub pulls${via(first)}`,
    ],
    [
      'Upstream',
      `released ${r.released.join(', ')}; a day passes (ECR re-checks tags after 24 h, runs the lifecycle policies)`,
    ],
    [
      'Pre-warm 2',
      `${second!.counts.warmed} warmed (${second!.images
        .filter((i) => i.status === 'warmed')
        .map((i) => i.image)
        .join(', ')}), ${second!.counts.skipped} unchanged; ${pulls(second)} Docker Hub pulls${via(second)}`,
    ],
    [
      'Docker Hub',
      second!.dockerHub
        ? `${second!.dockerHub.remaining} of ${second!.dockerHub.limit} pulls left in the 6 h window: it holds the second night's ${pulls(second)}; the first night's ${pulls(first)} were spent a day earlier, outside it`
        : 'no quota reported (unlimited account)',
    ],
    [
      'Cache',
      `${r.cache.total.repositories} repositories, ${r.cache.total.images} images, ${humanBytes(r.cache.total.bytes)}, ~$${r.cache.total.monthlyCost.toFixed(2)}/month, ${r.cache.total.staleImages} stale`,
    ],
    ['Pulls', `${r.pullEvents.total} pull-through events, ${r.pullEvents.failed} failed`],
    ['IAM', r.expectations.find((e) => e.step === 'iam')?.detail ?? 'not checked'],
    [
      'Alarms',
      `before rotation: ${r.alarms.beforeRotation.join(', ') || 'none'}; now: ${r.alarms.now.join(', ') || 'none would fire'}`,
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = [
    '',
    'ecr-cache-keeper: the nightly cycle against the local sandbox (no AWS, no Docker Hub)',
    '',
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    '',
  ];
  const failed = r.expectations.filter((e) => !e.ok);
  if (failed.length === 0) lines.push('OK: every step did what it should.');
  else {
    lines.push('NOT OK:');
    for (const e of failed) lines.push(`  ✗ ${e.step}: ${e.detail}`);
  }
  lines.push(`Handler logs: ${r.logFile}`);
  return lines.join('\n');
}
