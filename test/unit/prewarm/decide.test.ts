/** The pre-warm's decisions as tables: facts in, action and reason out. */
import { describe, expect, it } from 'vitest';
import {
  decideBeforeLookup,
  decidePullFailure,
  decideWarm,
  failureCause,
  pullOutcome,
  pullsSpent,
  quotaRefusal,
  tagIsImmutable,
  UPSTREAM_DOWN_AFTER,
  upstreamDownAfter,
  type WarmFacts,
} from '../../../lib/prewarm/decide.js';
import { UpstreamPullGate } from '../../../lib/prewarm/quota.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

const base: WarmFacts = {
  label: 'library/node:22',
  mode: 'full',
  platformCount: 2,
  timeLeftMs: 600_000,
  marginMs: 30_000,
  cachedDigest: A,
  upstream: { digest: A, mediaType: INDEX },
  gate: { budget: 50, budgetLeft: 50, remaining: 100, reserve: 20 },
};
const upstreamError = (
  kind: 'auth' | 'not-found' | 'rate-limited' | 'server' | 'network',
  credentialsRejected = false,
) => ({
  error: { kind, message: `${kind} answer`, credentialsRejected },
});

describe('decideWarm', () => {
  it.each<[string, Partial<WarmFacts>, Record<string, unknown>]>([
    ['unchanged, full mode: fill in missing layers', {}, { action: 'fill-layers', digest: A }],
    ['unchanged, manifest-only: skip', { mode: 'manifest-only' }, { action: 'skip', reason: 'unchanged' }],
    [
      'unchanged, full mode, layers verified by an earlier run: skip',
      { layersVerified: 'layers verified by the run of 2026-11-20T03:00:00.000Z' },
      { action: 'skip', reason: 'unchanged; layers verified by the run of 2026-11-20T03:00:00.000Z' },
    ],
    [
      'not cached, index: pull, one pull per platform',
      { cachedDigest: undefined },
      { action: 'pull', cost: 2, reason: 'new' },
    ],
    ['moved upstream, index: pull', { cachedDigest: B }, { action: 'pull', cost: 2, reason: 'moved' }],
    [
      'moved upstream, single manifest: one pull',
      { cachedDigest: B, upstream: { digest: A, mediaType: MANIFEST } },
      { action: 'pull', cost: 1, reason: 'moved' },
    ],
    [
      'moved, index, the cached one has 6 platforms: reserved as 6 (ECR may fetch every child)',
      { cachedDigest: B, expectedPlatforms: 6 },
      { action: 'pull', cost: 6, reason: 'moved' },
    ],
    [
      'moved, index, the cached one has fewer platforms than configured: the configured count',
      { cachedDigest: B, expectedPlatforms: 1 },
      { action: 'pull', cost: 2 },
    ],
    [
      'moved from an index to a single manifest: one pull',
      { cachedDigest: B, expectedPlatforms: 6, upstream: { digest: A, mediaType: MANIFEST } },
      { action: 'pull', cost: 1 },
    ],
    [
      'three platforms configured, index: three pulls',
      { cachedDigest: undefined, platformCount: 3 },
      { action: 'pull', cost: 3 },
    ],
    [
      'pulling would dig into the reserve: defer',
      { cachedDigest: undefined, gate: { budget: 50, budgetLeft: 50, remaining: 21, reserve: 20 } },
      { action: 'defer', reason: expect.stringMatching(/21 pulls left.*needs 2.*20 are kept in reserve/) },
    ],
    [
      'exactly the reserve left after the pull: allowed',
      { cachedDigest: undefined, gate: { budget: 50, budgetLeft: 50, remaining: 22, reserve: 20 } },
      { action: 'pull', cost: 2 },
    ],
    [
      'run budget spent: defer',
      { cachedDigest: undefined, gate: { budget: 5, budgetLeft: 1, remaining: 100, reserve: 20 } },
      { action: 'defer', reason: expect.stringMatching(/run budget of 5 upstream pulls reached/) },
    ],
    [
      'unlimited account (no quota headers): only the budget applies',
      { cachedDigest: undefined, gate: { budget: 50, budgetLeft: 50, reserve: 20 } },
      { action: 'pull', cost: 2 },
    ],
    [
      'unchanged needs no pull, even with no quota left',
      { gate: { budget: 50, budgetLeft: 0, remaining: 0, reserve: 20 } },
      { action: 'fill-layers' },
    ],
    [
      'the credential refused: fail, upstream marked unusable',
      { upstream: upstreamError('auth', true) },
      { action: 'fail', step: 'upstream-check', cause: 'auth', credentialRefused: true },
    ],
    [
      'Docker Hub 401 for one repository (credentials fine): not found',
      { upstream: upstreamError('auth', false) },
      {
        action: 'fail',
        cause: 'not-found',
        reason: 'library/node:22 does not exist upstream (or is not accessible)',
      },
    ],
    [
      'upstream 404: not found',
      { upstream: upstreamError('not-found') },
      { action: 'fail', step: 'upstream-check', cause: 'not-found' },
    ],
    [
      'upstream 429: defer and stop upstream work',
      { upstream: upstreamError('rate-limited') },
      { action: 'defer', cause: 'upstream-429', stopUpstream: true },
    ],
    [
      'upstream 5xx after retries, cached: unverified (the cache serves what it holds; no alarm)',
      { upstream: upstreamError('server') },
      {
        action: 'unverified',
        step: 'upstream-check',
        cause: 'upstream-5xx',
        reason: 'server answer; the cache still serves aaaaaaaaaaaa, checked again next night',
      },
    ],
    [
      'upstream 5xx after retries, not cached: fail that image (CI cannot get it either)',
      { upstream: upstreamError('server'), cachedDigest: undefined },
      { action: 'fail', step: 'upstream-check', cause: 'upstream-5xx' },
    ],
    [
      'no answer from upstream, cached: unverified',
      { upstream: upstreamError('network') },
      { action: 'unverified', cause: 'network' },
    ],
    [
      'no answer from upstream, not cached: fail that image',
      { upstream: upstreamError('network'), cachedDigest: undefined },
      { action: 'fail', cause: 'network' },
    ],
    [
      'no answer from upstream, and the cache lookup failed too (nothing known to serve): fail',
      {
        upstream: upstreamError('network'),
        cachedDigest: undefined,
        cacheLookupError: 'DescribeImages: ServerException: boom',
      },
      { action: 'fail', step: 'upstream-check', cause: 'network' },
    ],
    [
      'upstream 404, cached: still a failure (the tag is gone upstream)',
      { upstream: upstreamError('not-found') },
      { action: 'fail', cause: 'not-found' },
    ],
    [
      'DescribeImages refused (AccessDenied): fail at the cache lookup, no pull',
      { cacheLookupError: 'DescribeImages: AccessDeniedException: not allowed' },
      { action: 'fail', step: 'cache-lookup', cause: 'ecr-error' },
    ],
    [
      'DescribeImages failing for the moment (a 5xx past the retries): unverified, no pull, no alarm',
      { cacheLookupError: 'DescribeImages: ServerException: boom', cacheLookupForNow: true },
      { action: 'unverified', step: 'cache-lookup', cause: 'ecr-error' },
    ],
    [
      'less time left than the margin: defer before anything',
      { timeLeftMs: 10_000 },
      { action: 'defer', reason: 'less than 30 s of Lambda time left' },
    ],
    [
      'this upstream stopped by an earlier 429: defer',
      { stoppedUpstream: 'registry-1.docker.io: upstream answered 429 TOOMANYREQUESTS' },
      { action: 'defer', reason: 'not checked: registry-1.docker.io: upstream answered 429 TOOMANYREQUESTS' },
    ],
    [
      'this upstream failed check after check tonight: defer, not asked',
      {
        stoppedUpstream: 'registry-1.docker.io failed 5 checks in a row (HTTP 503): not asked again tonight',
      },
      {
        action: 'defer',
        reason:
          'not checked: registry-1.docker.io failed 5 checks in a row (HTTP 503): not asked again tonight',
      },
    ],
    [
      'credential unusable for this rule: fail',
      { upstreamUnusable: 'credential secret unusable' },
      { action: 'fail', step: 'upstream-check', cause: 'auth' },
    ],
    [
      'archived in the cache, unchanged upstream: archived, nothing pulled',
      { cachedStatus: 'ARCHIVED' },
      {
        action: 'archived',
        reason: expect.stringMatching(/^the cache holds it in the archive storage class/),
      },
    ],
    [
      'archived in the cache, moved upstream: archived all the same (a pull of it is not documented)',
      { cachedStatus: 'ARCHIVED', cachedDigest: B },
      { action: 'archived' },
    ],
    [
      'being restored from the archive: archived, warmed once active',
      { cachedStatus: 'ACTIVATING' },
      {
        action: 'archived',
        reason: 'being restored from the archive storage class; warmed once it is active',
      },
    ],
    [
      'archived, but upstream does not have it: the upstream failure says more',
      { cachedStatus: 'ARCHIVED', upstream: { error: { kind: 'not-found', message: 'nope' } } },
      { action: 'fail', step: 'upstream-check', cause: 'not-found' },
    ],
    [
      'moved upstream, tags immutable in the repository: nothing to pull (ECR keeps the cached one)',
      { cachedDigest: B, immutableTag: true },
      { action: 'skip', reason: expect.stringMatching(/tags are immutable in this repository/) },
    ],
    [
      'not cached yet, tags immutable: the first pull as usual',
      { cachedDigest: undefined, immutableTag: true },
      { action: 'pull', reason: 'new' },
    ],
    ['unchanged, tags immutable: as any unchanged image', { immutableTag: true }, { action: 'fill-layers' }],
    [
      'the deadline wins over a stopped upstream',
      { timeLeftMs: 0, stoppedUpstream: 'x' },
      { action: 'defer', reason: expect.stringMatching(/Lambda time left/) },
    ],
  ])('%s', (_name, patch, expected) => {
    expect(decideWarm({ ...base, ...patch })).toMatchObject(expected);
  });
});

describe('decideBeforeLookup', () => {
  it.each<[string, Parameters<typeof decideBeforeLookup>[0], unknown]>([
    ['time enough, upstream usable: go on', { timeLeftMs: 60_000, marginMs: 30_000 }, undefined],
    ['exactly the margin left: go on', { timeLeftMs: 30_000, marginMs: 30_000 }, undefined],
    [
      'below the margin: defer',
      { timeLeftMs: 29_999, marginMs: 30_000 },
      expect.objectContaining({ action: 'defer' }),
    ],
  ])('%s', (_name, facts, expected) => {
    expect(decideBeforeLookup(facts)).toEqual(expected);
  });
});

describe('quotaRefusal', () => {
  it.each<[string, Parameters<typeof quotaRefusal>, RegExp | undefined]>([
    [
      'within budget and above the reserve',
      [{ budget: 10, budgetLeft: 10, remaining: 50, reserve: 20 }, 2],
      undefined,
    ],
    [
      'budget has exactly the cost left',
      [{ budget: 10, budgetLeft: 2, remaining: 50, reserve: 20 }, 2],
      undefined,
    ],
    ['budget one short', [{ budget: 10, budgetLeft: 1, remaining: 50, reserve: 20 }, 2], /run budget of 10/],
    ['reserve one short', [{ budget: 10, budgetLeft: 10, remaining: 21, reserve: 20 }, 2], /kept in reserve/],
  ])('%s', (_name, args, expected) => {
    const refusal = quotaRefusal(...args);
    if (expected) expect(refusal).toMatch(expected);
    else expect(refusal).toBeUndefined();
  });
});

describe('after the pull', () => {
  it.each<[string, string, number | undefined, number, number]>([
    ['one image manifest: one pull', MANIFEST, undefined, 2, 1],
    ['an index of 3 children, 1 platform configured: all 3 (ECR may fetch every child)', INDEX, 3, 1, 3],
    ['an index of 2 children, 2 configured', INDEX, 2, 2, 2],
    ['an index lacking a configured platform: never fewer than configured', INDEX, 1, 2, 2],
    ['an index with no children listed', INDEX, undefined, 2, 2],
  ])('pulls spent: %s', (_name, mediaType, children, configured, expected) => {
    expect(pullsSpent(mediaType, children, configured)).toBe(expected);
  });

  it('the gate counts what the pull spent against the budget, not the reservation', () => {
    const gate = new UpstreamPullGate(0, 10);
    expect(gate.tryReserve('hub', 2)).toBeUndefined();
    gate.settle('hub', 2, true, 8);
    expect(gate.spent).toBe(8);
    expect(gate.state('hub').budgetLeft).toBe(2);
    expect(gate.tryReserve('hub', 3)).toMatch(/budget/i);
    // A pull that did not happen spends nothing, whatever the manifest said.
    expect(gate.tryReserve('hub', 2)).toBeUndefined();
    gate.settle('hub', 2, false, 8);
    expect(gate.spent).toBe(8);
  });

  it.each([
    [
      'the cache served the upstream digest: warmed, a pull spent',
      A,
      A,
      { status: 'warmed', fetchedUpstream: true },
    ],
    [
      'the cache still serves its old copy: stale-pending, no pull',
      A,
      B,
      { status: 'stale-pending', fetchedUpstream: false },
    ],
  ])('%s', (_name, upstream, served, expected) => {
    expect(pullOutcome(upstream, served)).toEqual(expected);
  });

  it.each<[string, Parameters<typeof decidePullFailure>, Record<string, unknown>]>([
    [
      'the cache reports upstream 429: defer, stop upstream',
      ['upstream-429', 'x'],
      { action: 'defer', stopUpstream: true },
    ],
    [
      'the cache fails otherwise: fail at pull-manifest',
      ['ecr-error', 'boom'],
      { action: 'fail', step: 'pull-manifest', reason: 'boom' },
    ],
    [
      // Upstream has the image (its check came first), so ECR's "not found" is about the cache.
      'the cache says not found: fail, naming the missing rule or permission it means',
      ['not-found', 'GET /v2/docker-hub/library/node/manifests/22 [NAME_UNKNOWN]: not found', 'docker-hub'],
      {
        action: 'fail',
        step: 'pull-manifest',
        cause: 'not-found',
        reason:
          'GET /v2/docker-hub/library/node/manifests/22 [NAME_UNKNOWN]: not found; upstream has it, so the cache did not fetch it: no pull-through cache rule has the prefix "docker-hub" (cache-keeper plan shows it; reconcile creates it), or this role lacks ecr:BatchImportUpstreamImage (ECR answers "not found" for that, not "denied")',
      },
    ],
  ])('%s', (_name, args, expected) => {
    expect(decidePullFailure(...args)).toEqual(expect.objectContaining(expected));
  });

  it.each<[string, Parameters<typeof failureCause>, string]>([
    [
      'ECR 503 is the upstream being unavailable',
      [{ kind: 'server', details: { status: 503 } }, 'ecr'],
      'upstream-5xx',
    ],
    ['ECR 500 is ECR', [{ kind: 'server', details: { status: 500 } }, 'ecr'], 'ecr-error'],
    ['a 401 from the cache is auth', [{ kind: 'auth', details: {} }, 'ecr'], 'auth'],
    ['a bad digest', [{ kind: 'digest-mismatch' }, 'ecr'], 'digest-mismatch'],
    ['a protocol error', [{ kind: 'protocol' }, 'upstream'], 'other'],
  ])('%s', (_name, args, expected) => {
    expect(failureCause(...args)).toBe(expected);
  });
});

describe('tagIsImmutable', () => {
  it.each<
    [
      string,
      { imageTagMutability: string; imageTagMutabilityExclusionFilters?: string[] } | undefined,
      string,
      boolean,
    ]
  >([
    ['no template', undefined, '22', false],
    ['MUTABLE', { imageTagMutability: 'MUTABLE' }, '22', false],
    ['IMMUTABLE', { imageTagMutability: 'IMMUTABLE' }, '22', true],
    [
      'IMMUTABLE_WITH_EXCLUSION, a tag a filter matches',
      {
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: ['latest', '*-alpine'],
      },
      '22-alpine',
      false,
    ],
    [
      'IMMUTABLE_WITH_EXCLUSION, another tag',
      { imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: ['latest'] },
      '22.1.0',
      true,
    ],
    [
      'MUTABLE_WITH_EXCLUSION, a tag a filter matches',
      { imageTagMutability: 'MUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: ['v*.*.*'] },
      'v1.2.3',
      true,
    ],
    [
      'MUTABLE_WITH_EXCLUSION, another tag',
      { imageTagMutability: 'MUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: ['v*.*.*'] },
      'latest',
      false,
    ],
    [
      'a filter is a whole-tag match with * wildcards, dots literal',
      { imageTagMutability: 'MUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: ['1.2'] },
      '1x2',
      false,
    ],
  ])('%s: %s', (_name, template, tag, immutable) => {
    expect(tagIsImmutable(template, tag)).toBe(immutable);
  });
});

describe('upstreamDownAfter', () => {
  const failed = (kind: 'server' | 'network' | 'auth' | 'not-found' | 'rate-limited', status?: number) => ({
    error: { kind, message: `${kind} answer`, status },
  });
  it.each<[string, number, Parameters<typeof upstreamDownAfter>[1], ReturnType<typeof upstreamDownAfter>]>([
    [
      'an answer with a digest starts the count again',
      3,
      { digest: A, mediaType: INDEX },
      { failuresInARow: 0 },
    ],
    ['a 404 is an answer too', 3, failed('not-found', 404), { failuresInARow: 0 }],
    ['a refused credential is not an outage', 3, failed('auth', 401), { failuresInARow: 0 }],
    [
      'a 429 is not an outage (it stops upstream work its own way)',
      3,
      failed('rate-limited', 429),
      { failuresInARow: 0 },
    ],
    ['a 5xx counts', 0, failed('server', 502), { failuresInARow: 1 }],
    [
      'the fifth 5xx in a row takes it for down',
      UPSTREAM_DOWN_AFTER - 1,
      failed('server', 503),
      {
        failuresInARow: 5,
        down: 'registry-1.docker.io failed 5 checks in a row (HTTP 503): not asked again tonight',
      },
    ],
    [
      'no answer counts the same',
      UPSTREAM_DOWN_AFTER - 1,
      failed('network'),
      {
        failuresInARow: 5,
        down: 'registry-1.docker.io failed 5 checks in a row (no answer): not asked again tonight',
      },
    ],
    [
      'said once: checks already under way only count',
      UPSTREAM_DOWN_AFTER,
      failed('server', 503),
      { failuresInARow: 6 },
    ],
  ])('%s', (_case, before, answer, expected) => {
    expect(upstreamDownAfter(before, answer, 'registry-1.docker.io')).toEqual(expected);
  });
});
