/**
 * Content-addressed storage shared by the sandbox's two registries (Docker Hub and the ECR
 * endpoint). Layers are recipes, not bytes: their content is generated deterministically from a
 * seed when served, so a 200 MB layer costs no memory and the same seed always has the same digest.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const INDEX_TYPES: ReadonlySet<string> = new Set([MEDIA.ociIndex, MEDIA.dockerList]);

export interface BlobRecipe {
  digest: string;
  size: number;
  /** Either literal bytes (configs) or a seed the bytes are generated from (layers). */
  bytes?: Buffer;
  seed?: string;
}

export interface StoredManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

const BLOCK = 64 * 1024;
const blockCache = new Map<string, Buffer>();

function seedBlock(seed: string): Buffer {
  let block = blockCache.get(seed);
  if (!block) {
    // One extendable-output hash gives the whole block: 20× cheaper than a sha256 per 32 bytes, which
    // made the sandbox's one thread, not the clients, the limit of a benchmark serving 500 images.
    block = createHash('shake256', { outputLength: BLOCK }).update(seed).digest();
    if (blockCache.size > 256) blockCache.clear();
    blockCache.set(seed, block);
  }
  return block;
}

export const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** A generated blob: `size` bytes from `seed`, with its digest computed once by streaming. */
export function generatedBlob(seed: string, size: number): BlobRecipe {
  const hash = createHash('sha256');
  const block = seedBlock(seed);
  for (let offset = 0; offset < size; offset += BLOCK)
    hash.update(block.subarray(0, Math.min(BLOCK, size - offset)));
  return { digest: `sha256:${hash.digest('hex')}`, size, seed };
}

export function literalBlob(bytes: Buffer): BlobRecipe {
  return { digest: sha256(bytes), size: bytes.length, bytes };
}

export function blobStream(blob: BlobRecipe): Readable {
  if (blob.bytes) return Readable.from([blob.bytes]);
  const block = seedBlock(blob.seed!);
  const size = blob.size;
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= size) {
        this.push(null);
        return;
      }
      const n = Math.min(BLOCK, size - offset);
      offset += n;
      this.push(block.subarray(0, n));
    },
  });
}

export function storedManifest(value: unknown, mediaType: string): StoredManifest {
  const bytes = Buffer.from(JSON.stringify(value, null, 3));
  return { digest: sha256(bytes), mediaType, bytes };
}

/** Registry error body of the distribution spec. */
export function registryError(code: string, message: string, detail?: unknown) {
  return { errors: [{ code, message, ...(detail !== undefined ? { detail } : {}) }] };
}

/** Parses `/v2/<name>/(manifests|blobs|tags)/<ref>`. */
export function parseRegistryPath(
  path: string,
): { name: string; kind: 'manifests' | 'blobs' | 'tags'; ref: string } | undefined {
  const m = /^\/v2\/(.+)\/(manifests|blobs|tags)\/([^/]+)$/.exec(path);
  if (!m) return undefined;
  return { name: m[1]!, kind: m[2] as 'manifests' | 'blobs' | 'tags', ref: decodeURIComponent(m[3]!) };
}

/** Picks the manifest type to serve given an Accept header (an index only if the client accepts it). */
export function acceptable(mediaType: string, accept: string | undefined): boolean {
  if (!accept || accept.includes('*/*')) return true;
  return accept.split(',').some((a) => a.trim().split(';')[0] === mediaType);
}
