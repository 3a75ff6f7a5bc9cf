/** What `npm start` and the integration tests start from: a Docker Hub account, its PAT, the secret, images. */
import type { ImageSpec } from './dockerhub/images.js';

export interface SeedImage extends ImageSpec {
  repository: string;
  tag: string;
}

const MULTI = ['linux/amd64', 'linux/arm64'];

/** A dozen public-style base images; the first five are multi-platform. */
export const SEED_IMAGES: SeedImage[] = [
  { repository: 'library/node', tag: '22-alpine', platforms: MULTI },
  { repository: 'library/node', tag: '24-alpine', platforms: MULTI },
  { repository: 'library/python', tag: '3.13-slim', platforms: MULTI },
  { repository: 'library/golang', tag: '1.24', platforms: MULTI },
  { repository: 'library/alpine', tag: '3.20', platforms: MULTI },
  { repository: 'library/debian', tag: 'bookworm-slim' },
  { repository: 'library/ubuntu', tag: '24.04' },
  { repository: 'library/nginx', tag: '1.27' },
  { repository: 'library/redis', tag: '7' },
  { repository: 'library/postgres', tag: '17' },
  { repository: 'library/amazoncorretto', tag: '21' },
  { repository: 'library/busybox', tag: '1.36' },
];

export interface SeedOptions {
  username?: string;
  /** Days until the seeded PAT expires. */
  patExpiresInDays?: number;
  pullLimit?: number;
  images?: SeedImage[];
  /** Record the PAT's uuid and expiry in the secret's tags, as `cache-keeper credential record` does. */
  recordPatMetadata?: boolean;
  /** Also create the admin secret (username + password) managed rotation uses. */
  adminSecret?: boolean;
}

export const CREDENTIAL_SECRET = 'ecr-pullthroughcache/docker-hub';
export const ADMIN_SECRET = 'ecr-cache-keeper/dockerhub-admin';
