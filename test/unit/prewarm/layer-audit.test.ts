/** When an unchanged image's layers are checked, and when a run may move the mark: tables. */
import { describe, expect, it } from 'vitest';
import {
  AUDIT_EVERY_NIGHTS,
  auditNight,
  bucketOf,
  CLOCK_SKEW_MS,
  cachedSinceMark,
  coversNight,
  everyImageWhole,
  formatReceivedMark,
  layerCheckWaived,
  parseReceivedMark,
  pulledIn,
  receivedDuringMarkedRun,
  receivedFingerprint,
  sameBucket,
} from '../../../lib/prewarm/layer-audit.js';

const DAY = 86_400_000;
const MARK = Date.parse('2026-11-20T03:00:00Z');
const ref = 'docker-hub/library/node:22';
/** A night on which `ref` is not audited. */
const quietNight = (() => {
  for (let n = MARK + DAY; ; n += DAY) if (!auditNight(ref, n)) return n;
})();

describe('layerCheckWaived', () => {
  it.each<[string, { pushedAt?: number; verifiedUntil?: number; now?: number }, boolean]>([
    ['cached before the mark, not its audit night: waived', { pushedAt: MARK - DAY }, true],
    ['cached after the mark: checked', { pushedAt: MARK + 1 }, false],
    [
      'cached within the clock-skew allowance before the mark: checked',
      { pushedAt: MARK - CLOCK_SKEW_MS + 1 },
      false,
    ],
    ['no mark yet: checked', { pushedAt: MARK - DAY, verifiedUntil: undefined }, false],
    ['push time unknown: checked', { pushedAt: undefined }, false],
  ])('%s', (_, facts, waived) => {
    const reason = layerCheckWaived({ verifiedUntil: MARK, now: quietNight, reference: ref, ...facts });
    expect(reason !== undefined).toBe(waived);
    if (waived) expect(reason).toBe('layers verified by the run of 2026-11-20T03:00:00.000Z');
  });

  it('on its audit night an image is checked whatever the mark says', () => {
    let audit = MARK + DAY;
    while (!auditNight(ref, audit)) audit += DAY;
    expect(layerCheckWaived({ pushedAt: MARK - DAY, verifiedUntil: MARK, now: audit, reference: ref })).toBe(
      undefined,
    );
  });

  it('the audit visits every image once a week, spread over the nights', () => {
    const refs = Array.from({ length: 700 }, (_, i) => `docker-hub/library/image${i}:1`);
    const perNight = Array.from({ length: AUDIT_EVERY_NIGHTS }, (_, d) =>
      refs.filter((r) => auditNight(r, MARK + d * DAY)),
    );
    expect(perNight.flat().sort()).toEqual([...refs].sort()); // each exactly once in 7 nights
    for (const night of perNight) expect(night.length).toBeGreaterThan(50); // none piled on one night
  });
});

describe('everyImageWhole', () => {
  it.each<[string, Parameters<typeof everyImageWhole>[0][number], boolean]>([
    ['warmed', { status: 'warmed' }, true],
    ['skipped (checked or waived)', { status: 'skipped' }, true],
    ['archived (not pullable: nothing to fill)', { status: 'archived' }, true],
    [
      'failed upstream, cache holds nothing newer than the mark',
      { status: 'failed', step: 'upstream-check', cachedSinceMark: false },
      true,
    ],
    [
      'failed upstream, cache holds a digest received since the mark',
      { status: 'failed', step: 'upstream-check', cachedSinceMark: true },
      false,
    ],
    ['deferred by the quota, nothing newer cached', { status: 'deferred', cachedSinceMark: false }, true],
    ['never started (no lookup)', { status: 'deferred' }, false],
    [
      'cut short between manifest and layers',
      { status: 'deferred', step: 'pull-blobs', cause: 'deadline', cachedSinceMark: false } as never,
      false,
    ],
    [
      'failed at the pull through the cache',
      { status: 'failed', step: 'pull-manifest', cachedSinceMark: false },
      false,
    ],
    [
      'stale-pending (its layers not fetched)',
      { status: 'stale-pending', step: 'pull-manifest', cachedSinceMark: false },
      false,
    ],
    ['ECR throttled the lookup', { status: 'unverified', step: 'cache-lookup' }, false],
  ])('%s → %s', (_, image, whole) => {
    expect(everyImageWhole([{ status: 'warmed' }, image])).toBe(whole);
  });
});

describe('cachedSinceMark', () => {
  it.each<[string, Parameters<typeof cachedSinceMark>[0], number | undefined, boolean | undefined]>([
    ['no lookup', undefined, MARK, undefined],
    ['not cached', { digest: undefined }, MARK, false],
    ['cached before the mark', { digest: 'sha256:a', pushedAt: MARK - DAY }, MARK, false],
    ['cached after the mark', { digest: 'sha256:a', pushedAt: MARK + 1 }, MARK, true],
    ['cached, no mark yet', { digest: 'sha256:a', pushedAt: MARK - DAY }, undefined, true],
    ['cached, push time unknown', { digest: 'sha256:a' }, MARK, true],
  ])('%s', (_, lookup, mark, expected) => {
    expect(cachedSinceMark(lookup, mark)).toBe(expected);
  });
});

describe('what the marked run pulled in', () => {
  const END = MARK + 600_000;
  const received = { until: END, fingerprint: receivedFingerprint([`${ref}@sha256:a`]) };

  it.each<[string, number | undefined, boolean]>([
    ['received after the mark, before the run ended', MARK + 60_000, true],
    ['received within the skew allowance either side', MARK - CLOCK_SKEW_MS + 1, true],
    ['just after the end, within the allowance', END + CLOCK_SKEW_MS, true],
    ['received after the run ended', END + CLOCK_SKEW_MS + 1, false],
    ['received before the mark', MARK - DAY, false],
    ['push time unknown', undefined, false],
  ])('receivedDuringMarkedRun: %s', (_, pushedAt, inside) => {
    expect(receivedDuringMarkedRun(pushedAt, MARK, received)).toBe(inside);
  });

  it('no received mark, or no mark: never inside the window', () => {
    expect(receivedDuringMarkedRun(MARK + 1, MARK, undefined)).toBe(false);
    expect(receivedDuringMarkedRun(MARK + 1, undefined, received)).toBe(false);
  });

  it('the fingerprint is of the set: order and repeats do not change it, a digest does', () => {
    const a = receivedFingerprint(['x:1@sha256:a', 'y:1@sha256:b']);
    expect(receivedFingerprint(['y:1@sha256:b', 'x:1@sha256:a', 'x:1@sha256:a'])).toBe(a);
    expect(receivedFingerprint(['x:1@sha256:a', 'y:1@sha256:c'])).not.toBe(a);
    expect(receivedFingerprint(['x:1@sha256:a'])).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{128}$/);
  });

  it('a digest that differs spoils only the bucket of its reference', () => {
    const references = Array.from({ length: 100 }, (_, i) => `docker-hub/library/img${i}:1`);
    const recorded = receivedFingerprint(references.map((r) => `${r}@sha256:a`));
    // img7 was pulled in again from elsewhere: a new digest for it, the others as recorded.
    const now = receivedFingerprint(references.map((r, i) => `${r}@sha256:${i === 7 ? 'b' : 'a'}`));
    const spoiled = references.filter((r) => !sameBucket(r, now, recorded));
    expect(spoiled).toContain(references[7]);
    expect(spoiled.every((r) => bucketOf(r) === bucketOf(references[7]!))).toBe(true);
    expect(spoiled.length).toBeLessThan(20);
    expect(sameBucket(references[0]!, now, undefined)).toBe(false);
  });

  it('the tag round-trips, and anything else reads as no mark', () => {
    expect(parseReceivedMark(formatReceivedMark(received))).toEqual(received);
    for (const bad of [
      undefined,
      '',
      'garbage',
      `${new Date(END).toISOString()}`,
      `not-a-date ${received.fingerprint}`,
    ])
      expect(parseReceivedMark(bad)).toBeUndefined();
  });

  it.each<[string, Parameters<typeof pulledIn>[0][number], boolean]>([
    [
      'warmed with a pull spent',
      { reference: ref, status: 'warmed', upstreamPulls: 2, cachedDigest: 'sha256:a' },
      true,
    ],
    [
      'warmed from the cache (layers filled, no pull)',
      { reference: ref, status: 'warmed', upstreamPulls: 0, cachedDigest: 'sha256:a' },
      false,
    ],
    ['skipped', { reference: ref, status: 'skipped', upstreamPulls: 0, cachedDigest: 'sha256:a' }, false],
    [
      'pulled but left half-warmed',
      { reference: ref, status: 'deferred', upstreamPulls: 1, cachedDigest: 'sha256:a' },
      false,
    ],
  ])('pulledIn: %s', (_, line, counted) => {
    expect(pulledIn([line])).toEqual(counted ? [`${ref}@sha256:a`] : []);
  });

  it.each<[string, boolean | undefined, number, string | undefined]>([
    [
      'pulled in by the marked run, not its audit night: waived',
      true,
      quietNight,
      'which pulled this digest in',
    ],
    ['received in the window but not (only) from that run: checked', false, quietNight, undefined],
  ])('layerCheckWaived: %s', (_, pulledInByThatRun, now, reason) => {
    const why = layerCheckWaived({
      pushedAt: MARK + 60_000,
      verifiedUntil: MARK,
      reference: ref,
      now,
      pulledInByThatRun,
    });
    if (reason) expect(why).toMatch(reason);
    else expect(why).toBeUndefined();
  });

  it('pulled in by the marked run, on its audit night: checked', () => {
    let audit = MARK + DAY;
    while (!auditNight(ref, audit)) audit += DAY;
    expect(
      layerCheckWaived({
        pushedAt: MARK + 60_000,
        verifiedUntil: MARK,
        reference: ref,
        now: audit,
        pulledInByThatRun: true,
      }),
    ).toBeUndefined();
  });
});

describe('coversNight', () => {
  const configured = ['docker-hub/library/node:22', 'docker-hub/library/alpine:3.20'];
  it.each<[string, string[], boolean]>([
    ['the configured night', configured, true],
    ['the night plus discovered images', [...configured, 'docker-hub/library/redis:7'], true],
    ['a few images by hand', ['docker-hub/library/alpine:3.20'], false],
    ['nothing', [], false],
  ])('%s', (_, run, covers) => {
    expect(coversNight(configured, run)).toBe(covers);
  });
});
