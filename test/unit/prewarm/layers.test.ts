/** Which configured platforms' manifests the cache lacks, as a table: asking for them may spend pulls. */
import { describe, expect, it } from 'vitest';
import { uncachedPlatformManifests } from '../../../lib/prewarm/layers.js';
import type { ManifestDocument } from '../../../lib/registry/client.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const index: ManifestDocument = {
  schemaVersion: 2,
  manifests: [
    { mediaType: MANIFEST, digest: digest('a'), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
    { mediaType: MANIFEST, digest: digest('b'), size: 1, platform: { os: 'linux', architecture: 'arm64' } },
    { mediaType: MANIFEST, digest: digest('c'), size: 1, platform: { os: 'linux', architecture: 's390x' } },
  ],
};

describe('uncachedPlatformManifests', () => {
  it.each<[string, string, string[], string[], string[]]>([
    ['all configured platforms cached', INDEX, ['linux/amd64', 'linux/arm64'], ['a', 'b'], []],
    ['CI pulled amd64 only: arm64 missing', INDEX, ['linux/amd64', 'linux/arm64'], ['a'], ['b']],
    ['an unconfigured platform missing does not count', INDEX, ['linux/amd64'], ['a'], []],
    ['a platform upstream does not have is not fetched', INDEX, ['linux/riscv64'], [], []],
    ['nothing cached but the index', INDEX, ['linux/amd64', 'linux/s390x'], [], ['a', 'c']],
    ['a single manifest has no children', MANIFEST, ['linux/amd64'], [], []],
  ])('%s', (_name, mediaType, platforms, cached, expected) => {
    expect(uncachedPlatformManifests(index, mediaType, platforms, new Set(cached.map(digest)))).toEqual(
      expected.map(digest),
    );
  });
});
