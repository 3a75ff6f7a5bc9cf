/**
 * Image references as people write them for `docker pull`, normalised the way Docker does:
 * `node` → docker.io/library/node:latest. Pre-warm works by tag only: ECR cannot pull an uncached
 * image through the cache by digest (a first pull by digest of an uncached image fails, as users report to AWS).
 */
import { KeeperError } from '../runtime/errors.js';

export interface ImageRef {
  /** Registry host as written, normalised (`docker.io` for Docker Hub). */
  registry: string;
  /** Repository path on that registry (`library/node`). */
  repository: string;
  tag: string;
  /** The reference as the user wrote it, for messages. */
  original: string;
}

export class ImageRefError extends KeeperError {
  override name = 'ImageRefError';
}

const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

export function parseImageRef(input: string): ImageRef {
  const original = input;
  const ref = input.trim();
  if (ref === '') throw new ImageRefError('image reference is empty');
  if (ref.includes('@')) {
    throw new ImageRefError(
      `"${original}" pins a digest; pre-warm pulls by tag because ECR cannot pull an uncached image through the cache by digest`,
    );
  }
  let rest = ref;
  let registry = 'docker.io';
  const slash = ref.indexOf('/');
  if (slash > 0) {
    const first = ref.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first.toLowerCase();
      rest = ref.slice(slash + 1);
    }
  }
  if (DOCKER_HUB_HOSTS.has(registry)) registry = 'docker.io';

  let tag = 'latest';
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (!TAG.test(tag)) throw new ImageRefError(`"${original}": tag "${tag}" is not a valid tag`);

  const parts = rest.split('/');
  for (const part of parts) {
    if (!COMPONENT.test(part)) {
      throw new ImageRefError(
        `"${original}": repository component "${part}" is not valid (lowercase letters, digits, . _ -)`,
      );
    }
  }
  let repository = rest;
  if (registry === 'docker.io' && parts.length === 1) repository = `library/${rest}`;
  if (repository.length > 255)
    throw new ImageRefError(`"${original}": repository name is longer than 255 characters`);
  return { registry, repository, tag, original };
}

/** Said of a reference pinned by digest (a first pull by digest of an uncached image fails). */
export const DIGEST_CAUTION =
  'pinned by digest: an image not yet in the cache cannot be pulled through it by digest; pre-warm its tag first';

/** The digests registries use (the OCI spec registers sha256 and sha512), held to their lengths. */
const DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/**
 * `node:22@sha256:…` → `{ name: 'node:22', digest: 'sha256:…', tagged: true }`: for commands that
 * print a reference rather than warm one, where a pinned digest is kept.
 */
export function splitDigest(text: string): { name: string; digest?: string; tagged: boolean } {
  const at = text.indexOf('@');
  const name = at >= 0 ? text.slice(0, at) : text;
  const tagged = name.lastIndexOf(':') > name.lastIndexOf('/');
  if (at < 0) return { name, tagged };
  const digest = text.slice(at + 1);
  if (!DIGEST.test(digest))
    throw new ImageRefError(`"${text}": "${digest}" is not a digest (e.g. sha256: and 64 hex digits)`);
  return { name, digest, tagged };
}
