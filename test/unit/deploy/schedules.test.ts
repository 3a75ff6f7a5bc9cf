/**
 * The stage's schedules, checked at package time: a pre-warm before reconcile, or either inside the
 * token's rotation window (00:00-01:00 UTC, in the rotation stage), is said as a warning.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const { scheduleWarnings } = createRequire(import.meta.url)('../../../deploy/stack.cjs') as {
  scheduleWarnings: (schedules: { reconcile: string; prewarm: string; rotates: boolean }) => string[];
};

describe('scheduleWarnings', () => {
  it.each<[string, string, string, boolean, RegExp[]]>([
    ['the shipped prod schedules', 'cron(30 1 * * ? *)', 'cron(30 2 * * ? *)', true, []],
    ['the shipped dev schedules', 'cron(0 2 * * ? *)', 'cron(0 3 * * ? *)', false, []],
    [
      'a pre-warm before reconcile',
      'cron(0 4 * * ? *)',
      'cron(0 3 * * ? *)',
      false,
      [
        /^the pre-warm \(03:00 UTC\) starts before reconcile \(04:00 UTC\): a rule reconcile has not made yet fails that night's images/,
      ],
    ],
    [
      'a pre-warm inside the rotation window',
      'cron(0 0 * * ? *)',
      'cron(30 0 * * ? *)',
      true,
      [
        /^the pre-warm \(00:30 UTC\) starts inside the token's rotation window \(00:00-01:00 UTC\)/,
        /^reconcile \(00:00 UTC\) starts inside/,
      ],
    ],
    ['the same window outside the rotation stage', 'cron(0 0 * * ? *)', 'cron(30 0 * * ? *)', false, []],
    [
      'schedules that are not one time a day are not judged',
      'rate(12 hours)',
      'cron(0 */6 * * ? *)',
      true,
      [],
    ],
  ])('%s', (_case, reconcile, prewarm, rotates, expected) => {
    expect(scheduleWarnings({ reconcile, prewarm, rotates })).toEqual(
      expected.map((e) => expect.stringMatching(e)),
    );
  });
});
