/**
 * Synthetic images for the Docker Hub stand-in, generated deterministically from
 * (repository, tag, generation): single-platform images use Docker v2 manifests, multi-platform
 * ones an OCI index of OCI manifests. Moving a tag bumps its generation: a new digest, as when
 * upstream publishes a release.
 */
import {
  type BlobRecipe,
  generatedBlob,
  literalBlob,
  MEDIA,
  type StoredManifest,
  storedManifest,
} from '../registry/content.js';

export interface ImageSpec {
  platforms?: string[];
  /** Layer sizes in bytes; small by default so tests stay fast. */
  layerSizes?: number[];
}

export interface BuiltImage {
  top: StoredManifest;
  manifests: StoredManifest[];
  blobs: BlobRecipe[];
}

function buildPlatformImage(seed: string, platform: string, layerSizes: number[], oci: boolean) {
  const [os, architecture, variant] = platform.split('/');
  const layers = layerSizes.map((size, i) => generatedBlob(`${seed}:${platform}:layer${i}`, size));
  const config = literalBlob(
    Buffer.from(
      JSON.stringify({
        architecture,
        os,
        ...(variant ? { variant } : {}),
        config: { Labels: { 'org.sandbox.seed': seed } },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      }),
    ),
  );
  const manifest = storedManifest(
    {
      schemaVersion: 2,
      mediaType: oci ? MEDIA.ociManifest : MEDIA.dockerManifest,
      config: {
        mediaType: oci ? MEDIA.ociConfig : MEDIA.dockerConfig,
        digest: config.digest,
        size: config.size,
      },
      layers: layers.map((l) => ({
        mediaType: oci ? MEDIA.ociLayer : MEDIA.dockerLayer,
        digest: l.digest,
        size: l.size,
      })),
    },
    oci ? MEDIA.ociManifest : MEDIA.dockerManifest,
  );
  return {
    manifest,
    blobs: [config, ...layers],
    platform: { os: os!, architecture: architecture!, ...(variant ? { variant } : {}) },
  };
}

export function buildImage(
  repository: string,
  tag: string,
  generation: number,
  spec: ImageSpec = {},
): BuiltImage {
  const platforms = spec.platforms ?? ['linux/amd64'];
  const layerSizes = spec.layerSizes ?? [2048, 1024];
  const seed = `${repository}:${tag}:${generation}`;
  if (platforms.length === 1) {
    const one = buildPlatformImage(seed, platforms[0]!, layerSizes, false);
    return { top: one.manifest, manifests: [one.manifest], blobs: one.blobs };
  }
  const children = platforms.map((p) => buildPlatformImage(seed, p, layerSizes, true));
  const index = storedManifest(
    {
      schemaVersion: 2,
      mediaType: MEDIA.ociIndex,
      manifests: children.map((c) => ({
        mediaType: MEDIA.ociManifest,
        digest: c.manifest.digest,
        size: c.manifest.bytes.length,
        platform: c.platform,
      })),
    },
    MEDIA.ociIndex,
  );
  return {
    top: index,
    manifests: [index, ...children.map((c) => c.manifest)],
    blobs: children.flatMap((c) => c.blobs),
  };
}
