import type { ImageDetail } from '@aws-sdk/client-ecr';
import { describe, expect, it } from 'vitest';
import { monthlyCost, summarizeImages } from '../../../lib/metrics/cache-size.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 27);
const INDEX = 'application/vnd.oci.image.index.v1+json';
const IMAGE = 'application/vnd.oci.image.manifest.v1+json';
const img = (over: Partial<ImageDetail>): ImageDetail => ({
  imageManifestMediaType: IMAGE,
  imagePushedAt: new Date(NOW - DAY),
  imageStatus: 'ACTIVE',
  ...over,
});

describe('summarizeImages', () => {
  it('does not add a manifest list on top of its children', () => {
    const f = summarizeImages(
      [
        img({ imageTags: ['22'], imageManifestMediaType: INDEX, imageSizeInBytes: 300 }),
        img({ imageSizeInBytes: 300 }),
        img({ imageSizeInBytes: 200 }),
      ],
      NOW,
      30,
    );
    expect(f).toMatchObject({ images: 3, tagged: 1, untagged: 2, bytes: 500 });
  });

  it('counts untagged children and untagged leftovers as untagged images', () => {
    const f = summarizeImages(
      [img({ imageTags: ['a'], imageSizeInBytes: 10 }), img({ imageSizeInBytes: 20 })],
      NOW,
      30,
    );
    expect(f).toMatchObject({ tagged: 1, untagged: 1, bytes: 30 });
  });

  it('falls back to push time for never-pulled images, and uses the last pull when there is one', () => {
    const f = summarizeImages(
      [
        img({ imageSizeInBytes: 1, imagePushedAt: new Date(NOW - 40 * DAY) }),
        img({
          imageSizeInBytes: 2,
          imagePushedAt: new Date(NOW - 40 * DAY),
          lastRecordedPullTime: new Date(NOW - 2 * DAY),
        }),
        img({
          imageSizeInBytes: 4,
          imagePushedAt: new Date(NOW - 90 * DAY),
          lastRecordedPullTime: new Date(NOW - 31 * DAY),
        }),
      ],
      NOW,
      30,
    );
    expect(f).toMatchObject({ staleImages: 2, staleBytes: 5 });
  });

  it('splits bytes by storage class', () => {
    const f = summarizeImages(
      [img({ imageSizeInBytes: 7, imageStatus: 'ARCHIVED' }), img({ imageSizeInBytes: 3 })],
      NOW,
      30,
    );
    expect(f).toMatchObject({ bytes: 10, bytesArchive: 7, bytesStandard: 3 });
  });

  it('prices storage per GiB-month', () => {
    expect(monthlyCost(10 * 1024 ** 3, 0.1)).toBe(1);
    expect(monthlyCost(0, 0.1)).toBe(0);
  });
});
