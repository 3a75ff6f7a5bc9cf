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
  /**
   * Build attestations beside each platform, as Docker Hub's official images carry them: an OCI
   * manifest of in-toto layers, listed in the index with platform `unknown/unknown` and the
   * annotations that name the platform manifest it attests (the image is then always an index).
   */
  attestations?: boolean;
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
  if (platforms.length === 1 && !spec.attestations) {
    const one = buildPlatformImage(seed, platforms[0]!, layerSizes, false);
    return { top: one.manifest, manifests: [one.manifest], blobs: one.blobs };
  }
  const children = platforms.map((p) => buildPlatformImage(seed, p, layerSizes, true));
  const attestations = spec.attestations
    ? children.map((c) => ({ of: c.manifest.digest, ...buildAttestation(seed, c.manifest.digest) }))
    : [];
  const index = storedManifest(
    {
      schemaVersion: 2,
      mediaType: MEDIA.ociIndex,
      manifests: [
        ...children.map((c) => ({
          mediaType: MEDIA.ociManifest,
          digest: c.manifest.digest,
          size: c.manifest.bytes.length,
          platform: c.platform,
        })),
        ...attestations.map((a) => ({
          mediaType: MEDIA.ociManifest,
          digest: a.manifest.digest,
          size: a.manifest.bytes.length,
          annotations: {
            'vnd.docker.reference.digest': a.of,
            'vnd.docker.reference.type': 'attestation-manifest',
          },
          platform: { architecture: 'unknown', os: 'unknown' },
        })),
      ],
    },
    MEDIA.ociIndex,
  );
  return {
    top: index,
    manifests: [index, ...children.map((c) => c.manifest), ...attestations.map((a) => a.manifest)],
    blobs: [...children.flatMap((c) => c.blobs), ...attestations.flatMap((a) => a.blobs)],
  };
}

/** A build attestation (SLSA provenance as in-toto JSON) of one platform manifest. */
function buildAttestation(seed: string, subject: string) {
  const statement = literalBlob(
    Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v0.1',
        predicateType: 'https://slsa.dev/provenance/v0.2',
        subject: [{ name: seed, digest: { sha256: subject.slice(7) } }],
        predicate: { builder: { id: 'sandbox' } },
      }),
    ),
  );
  const config = literalBlob(
    Buffer.from(
      JSON.stringify({
        architecture: 'unknown',
        os: 'unknown',
        config: {},
        rootfs: { type: 'layers', diff_ids: [statement.digest] },
      }),
    ),
  );
  const manifest = storedManifest(
    {
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: config.digest, size: config.size },
      layers: [
        {
          mediaType: 'application/vnd.in-toto+json',
          digest: statement.digest,
          size: statement.size,
          annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' },
        },
      ],
    },
    MEDIA.ociManifest,
  );
  return { manifest, blobs: [config, statement] };
}
