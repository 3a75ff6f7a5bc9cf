/**
 * The Docker Hub stand-in: a token-auth registry (the challenge names the realm and service),
 * the token realm, pull accounting with `ratelimit-*` headers, and 429 TOOMANYREQUESTS when a
 * source has no pulls left. HEAD is free; a GET of an image manifest counts one pull, so a
 * multi-platform pull costs one pull per platform.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxClock } from '../clock.js';
import { sendJson } from '../http.js';
import {
  acceptable,
  blobStream,
  INDEX_TYPES,
  parseRegistryPath,
  registryError,
  type StoredManifest,
} from '../registry/content.js';
import type { BlobStore } from '../registry/store.js';
import type { HubAccounts } from './accounts.js';
import { buildImage, type ImageSpec } from './images.js';

export const RATE_WINDOW_SECONDS = 21_600;
const ANONYMOUS_LIMIT = 100;
const TOKEN_TTL_SECONDS = 300;

interface IssuedToken {
  source: string;
  username?: string;
  repositories: Set<string>;
  expiresAt: number;
}

interface HubRepository {
  tags: Map<string, { digest: string; generation: number; spec: ImageSpec }>;
  manifests: Map<string, StoredManifest>;
}

export interface PullRecord {
  source: string;
  repository: string;
  reference: string;
  at: number;
}

export class DockerHubRegistry {
  readonly repositories = new Map<string, HubRepository>();
  private tokens = new Map<string, IssuedToken>();
  /** Every counted pull, newest last: tests assert on this. */
  readonly pulls: PullRecord[] = [];
  /** Every manifest request (HEAD and GET), for tests that count upstream traffic. */
  readonly manifestRequests: Array<{
    method: string;
    repository: string;
    reference: string;
    source: string;
  }> = [];
  /** Pulls already spent per source outside the sandbox's view (to start near a limit). */
  readonly spent = new Map<string, number>();
  service = 'registry.docker.io';
  url = '';

  constructor(
    private readonly accounts: HubAccounts,
    private readonly clock: SandboxClock,
    private readonly store: BlobStore,
  ) {}

  /** Publishes (or moves) a tag: a new generation gives a new digest. */
  publish(repository: string, tag: string, spec: ImageSpec = {}): string {
    let repo = this.repositories.get(repository);
    if (!repo) {
      repo = { tags: new Map(), manifests: new Map() };
      this.repositories.set(repository, repo);
    }
    const generation = (repo.tags.get(tag)?.generation ?? -1) + 1;
    const image = buildImage(repository, tag, generation, spec);
    for (const m of image.manifests) repo.manifests.set(m.digest, m);
    for (const b of image.blobs) this.store.put(b);
    repo.tags.set(tag, { digest: image.top.digest, generation, spec });
    return image.top.digest;
  }

  /** Simulates an upstream release: the tag moves to a new digest with the same shape. */
  release(repository: string, tag: string): string {
    const current = this.repositories.get(repository)?.tags.get(tag);
    if (!current) throw new Error(`sandbox: ${repository}:${tag} is not published`);
    return this.publish(repository, tag, current.spec);
  }

  digestOf(repository: string, tag: string): string | undefined {
    return this.repositories.get(repository)?.tags.get(tag)?.digest;
  }

  /** Makes a source (username or IP) start with only `remaining` pulls left in the window. */
  setRemaining(source: string, remaining: number): void {
    const limit = this.limitOf(source);
    this.spent.set(source, Math.max(0, (limit ?? 0) - remaining - this.windowPulls(source)));
  }

  private limitOf(source: string): number | undefined {
    const user = [...this.accounts.users.values()].find((u) => u.username === source);
    return user ? user.pullLimit : ANONYMOUS_LIMIT;
  }

  private windowPulls(source: string): number {
    const since = this.clock.now() - RATE_WINDOW_SECONDS * 1000;
    return this.pulls.filter((p) => p.source === source && p.at > since).length;
  }

  remaining(source: string): number | undefined {
    const limit = this.limitOf(source);
    if (limit === undefined) return undefined;
    return Math.max(0, limit - this.windowPulls(source) - (this.spent.get(source) ?? 0));
  }

  private rateHeaders(source: string): Record<string, string> {
    const limit = this.limitOf(source);
    if (limit === undefined) return {};
    return {
      'ratelimit-limit': `${limit};w=${RATE_WINDOW_SECONDS}`,
      'ratelimit-remaining': `${this.remaining(source)};w=${RATE_WINDOW_SECONDS}`,
      'docker-ratelimit-source': source,
    };
  }

  private challenge(res: ServerResponse, scope?: string, error?: string) {
    const parts = [`realm="${this.url}/token"`, `service="${this.service}"`];
    if (scope) parts.push(`scope="${scope}"`);
    if (error) parts.push(`error="${error}"`);
    sendJson(res, 401, registryError('UNAUTHORIZED', 'authentication required'), {
      'www-authenticate': `Bearer ${parts.join(',')}`,
    });
  }

  /** GET /token: the realm of the challenge. */
  private issueToken(req: IncomingMessage, res: ServerResponse, url: URL) {
    const scopes = url.searchParams.getAll('scope');
    let source = req.socket.remoteAddress ?? '127.0.0.1';
    let username: string | undefined;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Basic ')) {
      const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const result = this.accounts.login(decoded.slice(0, colon), decoded.slice(colon + 1));
      if (!result.ok) {
        sendJson(res, result.status, { details: result.details });
        return;
      }
      source = result.user.username;
      username = result.user.username;
    }
    const repositories = new Set(
      scopes.map((s) => /^repository:([^:]+):/.exec(s)?.[1]).filter((r): r is string => r !== undefined),
    );
    const token = `hubtok_${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, {
      source,
      username,
      repositories,
      expiresAt: this.clock.now() + TOKEN_TTL_SECONDS * 1000,
    });
    const issuedAt = this.clock.date().toISOString();
    sendJson(res, 200, { token, access_token: token, expires_in: TOKEN_TTL_SECONDS, issued_at: issuedAt });
  }

  handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', this.url);
    if (url.pathname === '/token') return this.issueToken(req, res, url);
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      const token = this.bearer(req);
      if (!token) return this.challenge(res);
      return sendJson(res, 200, {});
    }
    const target = parseRegistryPath(url.pathname);
    if (!target) return sendJson(res, 404, registryError('NOT_FOUND', 'no such route'));
    const scope = `repository:${target.name}:pull`;
    const bearerValue = req.headers.authorization?.startsWith('Bearer ')
      ? req.headers.authorization.slice(7)
      : undefined;
    const token = this.bearer(req);
    if (!token) return this.challenge(res, scope, bearerValue ? 'invalid_token' : undefined);
    if (!token.repositories.has(target.name)) return this.challenge(res, scope, 'insufficient_scope');
    const repo = this.repositories.get(target.name);
    // Docker Hub answers 401 for a repository that does not exist (it cannot tell it from a private one).
    if (!repo) return this.challenge(res, scope, 'insufficient_scope');

    if (target.kind === 'manifests')
      return this.serveManifest(req, res, repo, target.name, target.ref, token);
    if (target.kind === 'blobs') return this.serveBlob(req, res, target.ref);
    return sendJson(res, 200, { name: target.name, tags: [...repo.tags.keys()] });
  };

  private bearer(req: IncomingMessage): IssuedToken | undefined {
    const auth = req.headers.authorization;
    if (!auth?.startsWith('Bearer ')) return undefined;
    const token = this.tokens.get(auth.slice(7));
    if (!token || token.expiresAt <= this.clock.now()) return undefined;
    return token;
  }

  private serveManifest(
    req: IncomingMessage,
    res: ServerResponse,
    repo: HubRepository,
    name: string,
    ref: string,
    token: IssuedToken,
  ) {
    const rate = this.rateHeaders(token.source);
    this.manifestRequests.push({
      method: req.method ?? 'GET',
      repository: name,
      reference: ref,
      source: token.source,
    });
    const digest = ref.startsWith('sha256:') ? ref : repo.tags.get(ref)?.digest;
    const manifest = digest ? repo.manifests.get(digest) : undefined;
    if (!manifest)
      return sendJson(res, 404, registryError('MANIFEST_UNKNOWN', `manifest unknown: ${name}:${ref}`), rate);
    if (!acceptable(manifest.mediaType, req.headers.accept)) {
      return sendJson(
        res,
        404,
        registryError('MANIFEST_UNKNOWN', 'manifest type not accepted by the client'),
        rate,
      );
    }
    const counts = req.method === 'GET' && !INDEX_TYPES.has(manifest.mediaType);
    if (req.method === 'GET' && this.remaining(token.source) === 0) {
      return sendJson(
        res,
        429,
        registryError(
          'TOOMANYREQUESTS',
          'You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit',
        ),
        rate,
      );
    }
    if (counts) {
      this.pulls.push({ source: token.source, repository: name, reference: ref, at: this.clock.now() });
    }
    const headers = {
      'content-type': manifest.mediaType,
      'content-length': String(manifest.bytes.length),
      'docker-content-digest': manifest.digest,
      etag: `"${manifest.digest}"`,
      ...this.rateHeaders(token.source),
    };
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : manifest.bytes);
  }

  private serveBlob(req: IncomingMessage, res: ServerResponse, digest: string) {
    const blob = this.store.get(digest);
    if (!blob) return sendJson(res, 404, registryError('BLOB_UNKNOWN', `blob unknown: ${digest}`));
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(blob.size),
      'docker-content-digest': blob.digest,
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    blobStream(blob).pipe(res);
  }
}
