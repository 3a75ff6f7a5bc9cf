/** The sandbox's ECR executing lifecycle policies, as the ECR guide describes them. */
import { describe, expect, it } from 'vitest';
import type { CachedImage, Repository } from '../../../sandbox/aws/ecr.js';
import { runLifecyclePolicy } from '../../../sandbox/aws/lifecycle.js';

const DAY = 86_400_000;
const NOW = 100 * DAY;
const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** A repository of images (`d…`), each pushed `ageDays` ago, an index listing its `children`. */
function repository(
  images: Array<{
    digest: string;
    ageDays: number;
    tags?: string[];
    children?: string[];
    pulledDaysAgo?: number;
  }>,
  rules: unknown[],
): Repository {
  const map = new Map<string, CachedImage>();
  const tagToDigest = new Map<string, string>();
  for (const i of images) {
    const doc = i.children ? { manifests: i.children.map((digest) => ({ digest })) } : { layers: [] };
    map.set(i.digest, {
      digest: i.digest,
      manifest: {
        digest: i.digest,
        mediaType: i.children ? INDEX : MANIFEST,
        bytes: Buffer.from(JSON.stringify(doc)),
      },
      size: 1,
      pushedAt: NOW - i.ageDays * DAY,
      ...(i.pulledDaysAgo !== undefined ? { lastRecordedPullTime: NOW - i.pulledDaysAgo * DAY } : {}),
      storageClass: 'STANDARD',
    });
    for (const t of i.tags ?? []) tagToDigest.set(t, i.digest);
  }
  return {
    name: 'docker-hub/library/node',
    arn: 'arn',
    createdAt: 0,
    imageTagMutability: 'MUTABLE',
    encryption: { encryptionType: 'AES256' },
    tags: [],
    lifecyclePolicy: JSON.stringify({ rules }),
    images: map,
    tagToDigest,
    tagCheckedAt: new Map(),
    blobs: new Set(),
  };
}

/** Two multi-platform tags, older first: an index and two platform manifests each. */
const twoTags = () => [
  { digest: 'a-index', ageDays: 3, tags: ['20'], children: ['a-amd64', 'a-arm64'] },
  { digest: 'a-amd64', ageDays: 3 },
  { digest: 'a-arm64', ageDays: 3 },
  { digest: 'b-index', ageDays: 2, tags: ['22'], children: ['b-amd64', 'b-arm64'] },
  { digest: 'b-amd64', ageDays: 2 },
  { digest: 'b-arm64', ageDays: 2 },
];
const keep = (tagStatus: string, n: number) => ({
  rulePriority: 1,
  selection: {
    tagStatus,
    ...(tagStatus === 'tagged' ? { tagPatternList: ['*'] } : {}),
    countType: 'imageCountMoreThan',
    countNumber: n,
  },
  action: { type: 'expire' },
});

describe('runLifecyclePolicy', () => {
  it('imageCountMoreThan on any image counts platform manifests: keeping 3 expires the older tag’s index, and its platforms go with it', () => {
    const repo = repository(twoTags(), [keep('any', 3)]);
    expect(runLifecyclePolicy(repo, NOW).expired.sort()).toEqual(['a-amd64', 'a-arm64', 'a-index']);
    expect([...repo.tagToDigest.keys()]).toEqual(['22']);
  });

  it('imageCountMoreThan on tagged images counts indexes: both tags stay', () => {
    const repo = repository(twoTags(), [keep('tagged', 4)]);
    expect(runLifecyclePolicy(repo, NOW)).toEqual({ expired: [], archived: [] });
    expect(repo.images.size).toBe(6);
  });

  it('never expires a platform manifest an index in the repository lists', () => {
    const repo = repository(twoTags(), [
      {
        rulePriority: 1,
        selection: {
          tagStatus: 'untagged',
          countType: 'sinceImagePushed',
          countUnit: 'days',
          countNumber: 1,
        },
        action: { type: 'expire' },
      },
    ]);
    expect(runLifecyclePolicy(repo, NOW).expired).toEqual([]);
  });

  it("a moved tag's previous index, untagged, expires after its days, with its platform manifests", () => {
    const images = twoTags().map((i) => (i.digest === 'a-index' ? { ...i, tags: [] } : i));
    const repo = repository(images, [
      {
        rulePriority: 1,
        selection: {
          tagStatus: 'untagged',
          countType: 'sinceImagePushed',
          countUnit: 'days',
          countNumber: 2,
        },
        action: { type: 'expire' },
      },
    ]);
    expect(runLifecyclePolicy(repo, NOW).expired.sort()).toEqual(['a-amd64', 'a-arm64', 'a-index']);
  });

  it('an image a rule of a lower number selects is not seen by a later rule', () => {
    const repo = repository(twoTags(), [
      { ...keep('tagged', 10), rulePriority: 1 },
      { ...keep('any', 1), rulePriority: 2 },
    ]);
    // The any rule sees the four platform manifests only, all of them listed by live indexes.
    expect(runLifecyclePolicy(repo, NOW).expired).toEqual([]);
  });

  it('sinceImagePulled transitions images nobody pulled to the archive class', () => {
    const repo = repository(
      [
        { digest: 'old', ageDays: 40, tags: ['1'], pulledDaysAgo: 31 },
        { digest: 'used', ageDays: 40, tags: ['2'], pulledDaysAgo: 1 },
      ],
      [
        {
          rulePriority: 1,
          selection: { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 30 },
          action: { type: 'transition', targetStorageClass: 'archive' },
        },
      ],
    );
    expect(runLifecyclePolicy(repo, NOW)).toEqual({ expired: [], archived: ['old'] });
    expect(repo.images.get('old')!.storageClass).toBe('ARCHIVE');
  });
});
