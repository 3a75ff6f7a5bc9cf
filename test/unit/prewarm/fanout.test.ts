/** The fanned-out night put back together, where the next night starts, and the steps' payloads: tables. */
import { describe, expect, it } from 'vitest';
import {
  assembleNight,
  executionOutput,
  fitPayload,
  type NightPlan,
  PAYLOAD_BUDGET_BYTES,
  type PlanItem,
  type WarmCrash,
  type WarmItem,
  withPlanPull,
} from '../../../lib/prewarm/fanout.js';
import { parsePlanEvent, parseReportEvent, parseWarmItem } from '../../../lib/prewarm/fanout-events.js';
import { nightPayload, planFromPayload } from '../../../lib/prewarm/night-payload.js';
import { nextResume, resumeKey, resumeOrder } from '../../../lib/prewarm/order.js';
import { countStatuses, formatPrewarm, type ImageResult } from '../../../lib/prewarm/report.js';
import { PULLED_BY_PLAN } from '../../../lib/prewarm/run.js';

const ref = (name: string) => `docker-hub/library/${name}:1`;
const line = (
  name: string,
  status: ImageResult['status'],
  extra: Partial<ImageResult> = {},
): ImageResult => ({
  image: `${name}:1`,
  cacheReference: `127.0.0.1:5000/docker-hub/library/${name}:1`,
  status,
  platforms: ['linux/amd64'],
  upstreamPulls: 0,
  durationMs: 5,
  ...extra,
});
const planItem = (name: string): PlanItem => ({
  reference: ref(name),
  image: `${name}:1`,
  platforms: ['linux/amd64'],
  planned: 'pull',
});
const item = (name: string): WarmItem => ({ ...planItem(name), runId: 'run-1', layersVerifiedUntil: null });

const plan: NightPlan = {
  runId: 'run-1',
  startedAt: '2026-11-29T03:00:00.000Z',
  mode: 'fan-out',
  order: ['a', 'b', 'c', 'd'].map(ref),
  settled: [
    { reference: ref('a'), result: line('a', 'skipped', { reason: 'unchanged' }) },
    { reference: ref('c'), result: line('c', 'failed', { step: 'upstream-check', cause: 'not-found' }) },
  ],
  items: [planItem('b'), planItem('d')],
  layersVerifiedUntil: null,
  indexWidths: {},
  dockerHub: { limit: 200, remaining: 150 } as NightPlan['dockerHub'],
  leaseHeld: true,
};
const NOW = Date.parse('2026-11-29T03:10:00.000Z');

describe('assembleNight', () => {
  it('puts every line in the night’s order, counts and pulls as a single run does', () => {
    const report = assembleNight(
      plan,
      [
        {
          result: line('b', 'warmed', { upstreamPulls: 2 }),
          dockerHub: { limit: 200, remaining: 140 } as NightPlan['dockerHub'],
        },
        {
          result: line('d', 'warmed', { upstreamPulls: 1 }),
          dockerHub: { limit: 200, remaining: 145 } as NightPlan['dockerHub'],
        },
      ],
      'full',
      NOW,
    );
    expect(report.images.map((l) => [l.image, l.status])).toEqual([
      ['a:1', 'skipped'],
      ['b:1', 'warmed'],
      ['c:1', 'failed'],
      ['d:1', 'warmed'],
    ]);
    expect(report.counts).toMatchObject({ warmed: 2, skipped: 1, failed: 1 });
    expect(report.upstreamPulls).toEqual({ estimated: 3 });
    expect(report.dockerHub?.remaining).toBe(140); // the lowest any worker saw: the latest
    expect(report.durationMs).toBe(600_000);
    expect(report.fanOut).toEqual({ mode: 'fan-out', invocations: 2 });
  });

  it.each<[string, WarmCrash['error'], RegExp]>([
    [
      'Lambda’s JSON cause',
      {
        Error: 'Runtime.ExitError',
        Cause: '{"errorType":"Runtime.ExitError","errorMessage":"signal: killed"}',
      },
      /warmImage did not return \(Runtime\.ExitError: signal: killed\); the other images are unaffected/,
    ],
    [
      'Step Functions’ timeout',
      { Error: 'States.Timeout', Cause: '' },
      /warmImage did not return \(States\.Timeout\)/,
    ],
    [
      'a plain-text cause',
      { Error: 'Lambda.Unknown', Cause: 'out of memory' },
      /\(Lambda\.Unknown: out of memory\)/,
    ],
  ])(
    'an iteration that failed as a whole (%s) is a failed line naming it; the others keep theirs',
    (_, error, reason) => {
      const report = assembleNight(
        plan,
        [{ ...item('b'), error }, { result: line('d', 'warmed', { upstreamPulls: 1 }) }],
        'full',
        NOW,
      );
      expect(report.images[1]).toMatchObject({
        image: 'b:1',
        status: 'failed',
        cause: 'other',
        reason: expect.stringMatching(reason),
      });
      expect(report.images[3]).toMatchObject({ image: 'd:1', status: 'warmed' });
      expect(report.upstreamPulls.estimated).toBe(1);
    },
  );

  it('an item the Map answered nothing for is failed, never dropped', () => {
    const report = assembleNight(plan, [{ result: line('b', 'warmed') }], 'full', NOW);
    expect(report.images).toHaveLength(4);
    expect(report.images[3]).toMatchObject({
      image: 'd:1',
      status: 'failed',
      reason: 'warmImage returned nothing for this image',
    });
  });
});

describe('withPlanPull', () => {
  it.each<[string, Partial<ImageResult>, number | undefined, Partial<ImageResult>]>([
    [
      'not pulled by the plan: as the worker said',
      { status: 'warmed', reason: 'new', upstreamPulls: 1 },
      undefined,
      { status: 'warmed', reason: 'new', upstreamPulls: 1 },
    ],
    [
      'layers filled by the worker',
      { status: 'warmed', reason: 'unchanged; 4 missing layer(s) filled in' },
      3,
      { status: 'warmed', reason: `${PULLED_BY_PLAN}; then 4 missing layer(s) filled in`, upstreamPulls: 3 },
    ],
    [
      'nothing left to fill is still the night’s pull',
      { status: 'skipped', reason: 'unchanged' },
      3,
      { status: 'warmed', reason: PULLED_BY_PLAN, upstreamPulls: 3 },
    ],
    [
      'the worker failed: its failure, and the plan’s pulls',
      { status: 'failed', reason: 'blob 503' },
      2,
      { status: 'failed', reason: `${PULLED_BY_PLAN}; then blob 503`, upstreamPulls: 2 },
    ],
    [
      'a worker platform fetch adds to the plan’s',
      {
        status: 'warmed',
        reason: 'unchanged; 1 platform manifest(s) fetched through the cache',
        upstreamPulls: 1,
      },
      3,
      { upstreamPulls: 4 },
    ],
  ])('%s', (_name, worker, pulledByPlan, expected) => {
    expect(withPlanPull(line('a', 'warmed', worker), pulledByPlan)).toMatchObject(expected);
  });
});

describe('fitPayload', () => {
  it('keeps a night that fits; past Step Functions’ 256 KiB, the rest overflows, in the night’s order', () => {
    expect(fitPayload(plan)).toBe(plan);
    const names = Array.from({ length: 600 }, (_, i) => `img${i}`);
    const big: NightPlan = { ...plan, order: names.map(ref), settled: [], items: names.map(planItem) };
    const fitted = fitPayload(big);
    expect(fitted.items.length).toBeLessThan(600);
    expect(fitted.items).toEqual(big.items.slice(0, fitted.items.length));
    expect(fitted.settled).toEqual([]);
    expect(fitted.overflow!.map((s) => s.reference)).toEqual(names.slice(fitted.items.length).map(ref));
    // Fitted again with more on board (what discovery found): more overflows, none is lost.
    const discovered = { images: names.map((n) => `docker.io/library/${n}:latest`) };
    const refitted = fitPayload({ ...fitted, discovered });
    expect(refitted.items.length).toBeLessThan(fitted.items.length);
    expect([...refitted.items, ...refitted.overflow!].map((i) => i.reference).sort()).toEqual(
      names.map(ref).sort(),
    );
  });
});

describe('fitPayload, counting every byte the report step receives', () => {
  // The longest line a worker sends back, with Docker Hub's quota.
  const returned = (() => {
    const {
      image: _i,
      platforms: _p,
      cacheReference: _c,
      ...longest
    } = line('img999', 'warmed', {
      reason: 'moved from 0123456789ab; upstream has no linux/arm64',
      upstreamDigest: `sha256:${'f'.repeat(64)}`,
      blobs: { count: 9, bytes: 123456789 },
      durationMs: 123456,
    });
    return Buffer.byteLength(JSON.stringify({ result: longest, dockerHub: { limit: 200, remaining: 150 } }));
  })();

  it.each([600, 1000])(
    'a night of %i images to pull: what the report step receives stays under 256 KiB, and most still fan out',
    (count) => {
      const names = Array.from({ length: count }, (_, i) => `img${i}`);
      const big: NightPlan = { ...plan, order: names.map(ref), settled: [], items: names.map(planItem) };
      const fitted = fitPayload(big);
      // The plan as the Map passes it on, and one returned line per fanned-out image.
      expect(Buffer.byteLength(JSON.stringify(fitted)) + fitted.items.length * returned).toBeLessThan(
        256 * 1024,
      );
      expect(fitted.items.length).toBeGreaterThan(350);
      // Every image still has its line in the report: fanned out, or deferred to tomorrow.
      const outcomes = fitted.items.map(() => ({
        result: { status: 'warmed' as const, upstreamPulls: 1, durationMs: 1 },
      }));
      const report = assembleNight(fitted, outcomes, 'full', NOW);
      expect(report.images.map((l) => l.image)).toEqual(names.map((n) => `${n}:1`));
      expect(report.counts).toMatchObject({
        warmed: fitted.items.length,
        deferred: count - fitted.items.length,
      });
      expect(report.images.at(-1)!.reason).toMatch(/256 KiB.*first in line tomorrow/);
    },
  );
});

describe('the payload of an unchanged night', () => {
  it('1,000 unchanged images (the config allows 1,000) cross the state machine, and the report is the same', () => {
    const host = '123456789012.dkr.ecr.eu-central-1.amazonaws.com';
    const names = Array.from({ length: 1000 }, (_, i) => `team-${i % 7}/service-image-${i}`);
    const digest = (i: number) => `sha256:${i.toString(16).padStart(64, 'a')}`;
    const settled = names.map((n, i) => ({
      reference: ref(n),
      result: {
        image: `${n}:1`,
        cacheReference: `${host}/${ref(n)}`,
        status: 'skipped' as const,
        platforms: ['linux/amd64', 'linux/arm64'],
        upstreamPulls: 0,
        durationMs: 20 + (i % 50),
        cachedDigest: digest(i),
        upstreamDigest: digest(i),
        reason:
          'unchanged; layers verified by the run of 2026-11-28T02:30:12.345Z, which pulled this digest in',
      },
    }));
    const night: NightPlan = { ...plan, order: names.map(ref), settled, items: [], cacheHost: host };
    const payload = JSON.stringify(nightPayload(night));
    expect(Buffer.byteLength(payload)).toBeLessThan(PAYLOAD_BUDGET_BYTES);
    const across = planFromPayload(JSON.parse(payload));
    expect(assembleNight(across, [], 'full', NOW)).toEqual(assembleNight(night, [], 'full', NOW));
  });
});

describe('executionOutput', () => {
  const report = (lines: ImageResult[]) => ({
    mode: 'full' as const,
    startedAt: '2026-11-29T03:00:00.000Z',
    durationMs: 1,
    images: lines,
    counts: countStatuses(lines),
    upstreamPulls: { estimated: 0 },
  });
  const digest = `sha256:${'d'.repeat(64)}`;
  const unchanged = (i: number) =>
    line(`team/service-${i}`, 'skipped', {
      reason: 'unchanged',
      upstreamDigest: digest,
      cachedDigest: digest,
    });

  it('is the report itself when it fits', () => {
    const small = report([unchanged(1), line('x', 'failed', { step: 'upstream-check', cause: 'not-found' })]);
    expect(executionOutput(small)).toBe(small);
  });

  it('past 256 KiB, leaves out the unchanged lines first and keeps the failures, counting every image', () => {
    const failed = line('broken', 'failed', { step: 'pull-manifest', cause: 'upstream-5xx', reason: '503' });
    const big = report([...Array.from({ length: 1500 }, (_, i) => unchanged(i)), failed]);
    const output = executionOutput(big);
    expect(Buffer.byteLength(JSON.stringify(output))).toBeLessThan(256 * 1024);
    expect(output.images).toEqual([failed]);
    expect(output.counts).toEqual(big.counts);
    expect(output.unlisted).toEqual({
      count: 1500,
      reason: expect.stringMatching(/skipped images are in the/),
    });
    const text = formatPrewarm(output);
    expect(text).toMatch(/^\(1500 more not listed: the night's output carries at most 256 KiB/m);
    expect(text).toMatch(/^1501 images: 0 warmed, 1500 unchanged, .* 1 failed/m);
  });
});

describe('resumeOrder and nextResume', () => {
  const names = ['a', 'b', 'c', 'd', 'e'];
  it.each<[string, string | undefined, string[]]>([
    ['no mark: the list as written', undefined, names],
    ['last night deferred from c on: c first, then around', resumeKey(ref('c')), ['c', 'd', 'e', 'a', 'b']],
    ['the mark names the first image: unchanged', resumeKey(ref('a')), names],
    ['the mark names an image no longer listed: unchanged', resumeKey(ref('zz')), names],
  ])('%s', (_, key, expected) => {
    expect(resumeOrder(names, key, ref)).toEqual(expected);
  });

  it.each<[string, string[], string | undefined]>([
    ['nothing deferred: no mark', ['warmed', 'skipped', 'failed'], undefined],
    [
      'the first deferred image in the night’s order',
      ['warmed', 'deferred', 'skipped', 'deferred'],
      resumeKey(ref('b')),
    ],
  ])('%s', (_, statuses, expected) => {
    expect(nextResume(names.slice(0, statuses.length), statuses, ref)).toBe(expected);
  });

  it('an image deferred tonight goes first tomorrow, and the night wraps around', () => {
    const tonight = ['a', 'b', 'c', 'd', 'e'];
    const statuses = ['warmed', 'warmed', 'deferred', 'deferred', 'deferred'];
    const tomorrow = resumeOrder(tonight, nextResume(tonight, statuses, ref), ref);
    expect(tomorrow.slice(0, 3)).toEqual(['c', 'd', 'e']);
  });
});

describe('the steps’ payloads', () => {
  it.each<[string, () => unknown, RegExp]>([
    [
      'plan: no execution name',
      () => parsePlanEvent({ startedAt: '2026-11-29T03:00:00Z', input: {}, timeoutSeconds: 60 }),
      /prewarmPlan: event\.execution/,
    ],
    [
      'plan: a start time that is no time',
      () => parsePlanEvent({ execution: 'x', startedAt: 'yesterday', input: {}, timeoutSeconds: 60 }),
      /event\.startedAt: an ISO 8601 time/,
    ],
    [
      'warmImage: an unknown planned action',
      () => parseWarmItem({ ...item('b'), planned: 'delete' }),
      /warmImage: event\.planned: must be one of "pull", "fill-layers"/,
    ],
    [
      'warmImage: an image without platforms',
      () => parseWarmItem({ ...item('b'), platforms: [] }),
      /event\.platforms: must have at least 1/,
    ],
    [
      'warmImage: an unknown key',
      () => parseWarmItem({ ...item('b'), extra: 1 }),
      /warmImage: the event: unknown key "extra"/,
    ],
    [
      'report: fewer outcomes than items',
      () => parseReportEvent({ ...plan, outcomes: [] }),
      /event\.outcomes has 0 entries for 2 items/,
    ],
    [
      'report: packed lines whose column does not fit its rows',
      () => {
        const payload = nightPayload(plan);
        payload.settled.columns.status!.values.pop();
        return parseReportEvent({ ...payload, outcomes: [] });
      },
      /prewarmReport: event\.settled: column status: 1 values for 2 rows/,
    ],
    [
      'report: packed lines that are not image lines once unpacked',
      () => {
        const payload = nightPayload(plan);
        delete payload.settled.columns.status;
        return parseReportEvent({ ...payload, outcomes: [] });
      },
      /prewarmReport: event\.settled\.0\.result\.status: must be one of/,
    ],
  ])('%s is refused with the path', (_, parse, message) => {
    expect(parse).toThrow(message);
  });

  it('a plan and its outcomes as the state machine passes them are accepted', () => {
    const event = JSON.parse(
      JSON.stringify({
        ...plan,
        outcomes: [{ result: line('b', 'warmed') }, { ...item('d'), error: { Error: 'States.Timeout' } }],
      }),
    );
    expect(parseReportEvent(event).outcomes).toHaveLength(2);
    expect(parseWarmItem(JSON.parse(JSON.stringify(item('b'))))).toEqual(item('b'));
    // As the plan step sends it (packed), and as a plan of an older version did (lines): the same plan.
    const outcomes = event.outcomes;
    const packed = JSON.parse(JSON.stringify({ ...nightPayload(plan), outcomes }));
    expect(packed.settled).not.toBeInstanceOf(Array);
    const { outcomes: _o, ...fromPacked } = parseReportEvent(packed);
    const { outcomes: _p, ...fromLines } = parseReportEvent(event);
    expect(fromPacked).toEqual(fromLines);
  });

  it("the night's discovery, with the repositories it could not read, reaches the report step", () => {
    const discovered = { images: ['redis:7'], unreadable: ['docker-hub/library/postgres'] };
    const outcomes = [{ result: line('b', 'warmed') }, { result: line('d', 'warmed') }];
    const event = JSON.parse(JSON.stringify({ ...nightPayload({ ...plan, discovered }), outcomes }));
    expect(parseReportEvent(event).discovered).toEqual(discovered);
  });
});
