/**
 * Optional persistence: with a state directory, the sandbox saves what it holds when it stops and
 * starts from it next time (instead of seeding), so a shell session, the CLI and
 * `serverless invoke local` can share one sandbox across restarts. Layer bytes are never stored:
 * images are rebuilt from their recipes (repository, tag, generation), which give the same digests.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Repository } from './aws/ecr.js';
import type { Secret } from './aws/secrets.js';
import type { HubUser } from './dockerhub/accounts.js';
import type { ImageSpec } from './dockerhub/images.js';
import type { Sandbox } from './index.js';

const FILE = 'sandbox-state.json';
const VERSION = 1;

interface SavedRepository extends Omit<Repository, 'images' | 'tagToDigest' | 'tagCheckedAt' | 'blobs'> {
  images: Array<{
    digest: string;
    mediaType: string;
    bytes: string;
    size: number;
    pushedAt: number;
    lastRecordedPullTime?: number;
    storageClass: 'STANDARD' | 'ARCHIVE';
  }>;
  tagToDigest: Array<[string, string]>;
  tagCheckedAt: Array<[string, number]>;
  blobs: string[];
}

interface SavedState {
  version: number;
  clockOffsetMs: number;
  ecr: {
    rules: unknown[];
    templates: unknown[];
    repositories: SavedRepository[];
    exclusions: string[];
    registryPolicy?: string;
  };
  secrets: Secret[];
  datums: Sandbox['cloudwatch']['datums'];
  hub: {
    users: HubUser[];
    images: Array<{ repository: string; tag: string; generation: number; spec: ImageSpec }>;
    pulls: Sandbox['hub']['pulls'];
    spent: Array<[string, number]>;
  };
}

export function hasSavedState(dir: string): boolean {
  return existsSync(join(dir, FILE));
}

export function saveState(sandbox: Sandbox, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const state: SavedState = {
    version: VERSION,
    clockOffsetMs: sandbox.clock.offsetMs,
    ecr: {
      rules: [...sandbox.ecr.rules.values()],
      templates: [...sandbox.ecr.templates.values()],
      repositories: [...sandbox.ecr.repositories.values()].map((r) => ({
        ...r,
        images: [...r.images.values()].map((i) => ({
          digest: i.digest,
          mediaType: i.manifest.mediaType,
          bytes: i.manifest.bytes.toString('base64'),
          size: i.size,
          pushedAt: i.pushedAt,
          lastRecordedPullTime: i.lastRecordedPullTime,
          storageClass: i.storageClass,
        })),
        tagToDigest: [...r.tagToDigest],
        tagCheckedAt: [...r.tagCheckedAt],
        blobs: [...r.blobs],
      })),
      exclusions: [...sandbox.ecr.exclusions],
      registryPolicy: sandbox.ecr.registryPolicy,
    },
    secrets: [...sandbox.secrets.secrets.values()],
    datums: sandbox.cloudwatch.datums,
    hub: {
      users: [...sandbox.hubAccounts.users.values()],
      images: [...sandbox.hub.repositories].flatMap(([repository, repo]) =>
        [...repo.tags].map(([tag, t]) => ({ repository, tag, generation: t.generation, spec: t.spec })),
      ),
      pulls: sandbox.hub.pulls,
      spent: [...sandbox.hub.spent],
    },
  };
  writeFileSync(join(dir, FILE), JSON.stringify(state));
}

export function loadState(sandbox: Sandbox, dir: string): void {
  const state = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as SavedState;
  if (state.version !== VERSION)
    throw new Error(
      `${join(dir, FILE)}: sandbox state version ${state.version}, expected ${VERSION}; delete it to start fresh`,
    );
  sandbox.clock.offsetMs = state.clockOffsetMs;
  for (const rule of state.ecr.rules as Array<{ ecrRepositoryPrefix: string }>)
    sandbox.ecr.rules.set(rule.ecrRepositoryPrefix, rule as never);
  for (const t of state.ecr.templates as Array<{ prefix: string }>)
    sandbox.ecr.templates.set(t.prefix, t as never);
  for (const saved of state.ecr.repositories) {
    const repo: Repository = {
      ...saved,
      images: new Map(
        saved.images.map((i) => [
          i.digest,
          {
            digest: i.digest,
            manifest: { digest: i.digest, mediaType: i.mediaType, bytes: Buffer.from(i.bytes, 'base64') },
            size: i.size,
            pushedAt: i.pushedAt,
            lastRecordedPullTime: i.lastRecordedPullTime,
            storageClass: i.storageClass,
          },
        ]),
      ),
      tagToDigest: new Map(saved.tagToDigest),
      tagCheckedAt: new Map(saved.tagCheckedAt),
      blobs: new Set(saved.blobs),
    };
    sandbox.ecr.repositories.set(repo.name, repo);
  }
  for (const arn of state.ecr.exclusions) sandbox.ecr.exclusions.add(arn);
  sandbox.ecr.registryPolicy = state.ecr.registryPolicy;
  for (const secret of state.secrets) sandbox.secrets.secrets.set(secret.arn, secret);
  sandbox.cloudwatch.datums.push(...state.datums);
  for (const user of state.hub.users) sandbox.hubAccounts.users.set(user.username, user);
  // Replaying every generation puts old digests' blobs back in storage too (the cache may hold them).
  for (const image of state.hub.images) {
    for (let g = 0; g <= image.generation; g++) sandbox.hub.publish(image.repository, image.tag, image.spec);
  }
  sandbox.hub.pulls.push(...state.hub.pulls);
  for (const [source, n] of state.hub.spent) sandbox.hub.spent.set(source, n);
}
