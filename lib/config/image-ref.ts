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
