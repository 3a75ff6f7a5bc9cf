/**
 * The ECR registry endpoint (`proxyEndpoint`) with pull-through cache behaviour:
 * - Basic auth with the token from GetAuthorizationToken (12 hours).
 * - A pull by tag under a rule's prefix checks upstream at most once per 24 hours per tag
 *   (injectable clock). On a miss it fetches the manifest (and, for a list, every child manifest, or
 *   with `indexChildren: 'requested'` each child when first asked for by digest) with the rule's
 *   secret (AWSCURRENT), creates the repository from the matching creation template, and emits an
 *   `ECR Pull Through Cache Action` event.
 * - Blobs are imported from upstream when first requested, then served through a redirect to
 *   storage, as ECR redirects to S3.
 * - A pull by digest of an uncached image fails (containers-roadmap #2837).
 * - When upstream fails, a cached copy is still served; an uncached image fails with the
 *   upstream's reason.
 * The upstream is reached with the sandbox's own client (upstream-client.ts), through `upstreams`
 * (URL → base): nothing of the product's registry code stands in for ECR's.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type AuthToken,
  type EcrState,
  policyDocument,
  type Repository,
  type Rule,
  SERVICE_LINKED_ROLES,
} from '../aws/ecr.js';
import type { SecretsManagerSandbox } from '../aws/secrets.js';
import type { SandboxClock } from '../clock.js';
import { sendJson } from '../http.js';
import {
  acceptable,
  blobStream,
  INDEX_TYPES,
  parseRegistryPath,
  registryError,
  type StoredManifest,
} from './content.js';
import type { BlobStore } from './store.js';
import { UpstreamError, UpstreamRegistryClient } from './upstream-client.js';

export const REVALIDATE_MS = 24 * 3_600_000;

export interface PullThroughEvent {
  version: '0';
  id: string;
  'detail-type': 'ECR Pull Through Cache Action';
  source: 'aws.ecr';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, string>;
}

class UpstreamFailure extends Error {
  constructor(
    readonly failureCode: string,
    readonly status: number,
    readonly registryCode: string,
    message: string,
  ) {
    super(message);
  }
}

export class EcrRegistry {
  readonly events: PullThroughEvent[] = [];
  /** Upstream fetches ECR made, for tests: manifests GET by the cache on the user's behalf. */
  readonly upstreamFetches: Array<{
    repository: string;
    reference: string;
    kind: 'manifest' | 'blob' | 'check';
  }> = [];
  url = '';
  /**
   * How ECR re-checks a cached tag upstream once its 24 hours are up; not documented, so both are
   * modelled: `head` (a free HEAD, GET only when the digest moved) or `get` (a GET, which Docker Hub
   * counts as a pull, whether or not the digest moved).
   */
  recheck: 'head' | 'get' = 'head';
  /**
   * What ECR fetches from upstream when it caches an index (a multi-platform image); not documented,
   * so both are modelled: `all` (every child manifest at once, each a Docker Hub pull) or `requested`
   * (each child when a client first asks for it by digest).
   */
  indexChildren: 'all' | 'requested' = 'all';
  pullTimeRefresh: 'daily' | 'every-pull' = 'daily';
  private readonly clients = new Map<string, UpstreamRegistryClient>();

  constructor(
    private readonly ecr: EcrState,
    private readonly secrets: SecretsManagerSandbox,
    private readonly store: BlobStore,
    private readonly clock: SandboxClock,
    private readonly upstreams: Map<string, string>,
  ) {
    ecr.validateUpstream = (rule) => this.validate(rule);
  }

  private emit(rule: Rule, repositoryName: string, tag: string, detail: Record<string, string>) {
    this.events.push({
      version: '0',
      id: randomUUID(),
      'detail-type': 'ECR Pull Through Cache Action',
      source: 'aws.ecr',
      account: this.ecr.account,
      time: this.clock.date().toISOString(),
      region: this.ecr.region,
      resources: [],
      detail: {
        'rule-version': '1',
        'ecr-repository-prefix': rule.ecrRepositoryPrefix,
        'repository-name': repositoryName,
        'upstream-registry-url': rule.upstreamRegistryUrl,
        'image-tag': tag,
        ...detail,
      },
    });
  }

  private upstreamPath(rule: Rule, repositoryName: string): string {
    const rest =
      rule.ecrRepositoryPrefix === 'ROOT'
        ? repositoryName
        : repositoryName.slice(rule.ecrRepositoryPrefix.length + 1);
    return rule.upstreamRepositoryPrefix === 'ROOT' ? rest : `${rule.upstreamRepositoryPrefix}/${rest}`;
  }

  /** A registry client for the rule's upstream, with the secret's AWSCURRENT credentials. */
  private upstreamClient(rule: Rule): UpstreamRegistryClient {
    const base = this.upstreams.get(rule.upstreamRegistryUrl);
    if (!base)
      throw new UpstreamFailure(
        'UpstreamUnavailable',
        503,
        'UNAVAILABLE',
        `the sandbox has no stand-in for ${rule.upstreamRegistryUrl}`,
      );
    let credentials: { username: string; password: string } | undefined;
    if (rule.credentialArn) {
      // ECR reads it as its pull-through service-linked role: the secret's own policy may refuse it.
      const refusal = this.serviceRoleReadRefusal(rule.credentialArn);
      if (refusal) throw new UpstreamFailure('UpstreamAccessDenied', 403, 'DENIED', refusal);
      let value: string | undefined;
      try {
        value = this.secrets.currentValue(rule.credentialArn);
      } catch {
        throw new UpstreamFailure(
          'UpstreamAccessDenied',
          403,
          'DENIED',
          'the credential secret does not exist',
        );
      }
      let parsed: { username?: unknown; accessToken?: unknown };
      try {
        parsed = JSON.parse(value ?? '');
      } catch {
        throw new UpstreamFailure(
          'UpstreamAccessDenied',
          403,
          'DENIED',
          'the credential secret is not valid JSON',
        );
      }
      if (typeof parsed.username !== 'string' || typeof parsed.accessToken !== 'string') {
        throw new UpstreamFailure(
          'UpstreamAccessDenied',
          403,
          'DENIED',
          'the credential secret lacks username or accessToken',
        );
      }
      credentials = { username: parsed.username, password: parsed.accessToken };
    }
    // ECR keeps its upstream session (and tokens) per rule and credential, as any registry client would.
    const key = `${rule.ecrRepositoryPrefix}|${base}|${credentials?.username ?? ''}|${credentials?.password ?? ''}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new UpstreamRegistryClient(base, credentials);
      this.clients.set(key, client);
    }
    return client;
  }

  /** Why the secret's own policy refuses ECR's reading of it, in AWS's words; undefined when it does not. */
  private serviceRoleReadRefusal(secretArn: string): string | undefined {
    let secret: ReturnType<SecretsManagerSandbox['findAny']>;
    try {
      secret = this.secrets.findAny(secretArn);
    } catch {
      return undefined; // missing: said below
    }
    if (secret.resourcePolicy === undefined) return undefined;
    return this.ecr.iam?.serviceRoleRefusal(
      SERVICE_LINKED_ROLES.pullThroughCache,
      { action: 'secretsmanager:GetSecretValue', resource: secret.arn },
      [policyDocument(secret.resourcePolicy)],
    );
  }

  private asFailure(error: unknown): UpstreamFailure {
    if (error instanceof UpstreamFailure) return error;
    if (error instanceof UpstreamError) {
      switch (error.kind) {
        case 'auth':
          return new UpstreamFailure(
            'UpstreamAccessDenied',
            403,
            'DENIED',
            `upstream denied access: ${error.message}`,
          );
        case 'rate-limited':
          return new UpstreamFailure(
            'UpstreamTooManyRequests',
            429,
            'TOOMANYREQUESTS',
            'upstream pull rate limit reached',
          );
        case 'not-found':
          return new UpstreamFailure(
            'UpstreamImageNotFound',
            404,
            'MANIFEST_UNKNOWN',
            'the image does not exist upstream',
          );
        default:
          return new UpstreamFailure(
            'UpstreamUnavailable',
            503,
            'UNAVAILABLE',
            `upstream unavailable: ${error.message}`,
          );
      }
    }
    return new UpstreamFailure('UpstreamUnavailable', 503, 'UNAVAILABLE', (error as Error).message);
  }

  async validate(rule: Rule): Promise<string | undefined> {
    try {
      const client = this.upstreamClient(rule);
      await client.login(this.upstreamPath(rule, `${rule.ecrRepositoryPrefix}/library/alpine`));
      return undefined;
    } catch (error) {
      return this.asFailure(error).message;
    }
  }

  /** Checks upstream for `tag` (HEAD, free) and imports it when it is new or has moved. */
  private async sync(rule: Rule, repositoryName: string, tag: string): Promise<void> {
    const existing = this.ecr.repositories.get(repositoryName);
    const cachedDigest = existing?.tagToDigest.get(tag);
    const upstreamRepo = this.upstreamPath(rule, repositoryName);
    try {
      const client = this.upstreamClient(rule);
      this.upstreamFetches.push({ repository: upstreamRepo, reference: tag, kind: 'check' });
      let prefetched: Awaited<ReturnType<UpstreamRegistryClient['getManifest']>> | undefined;
      let upstreamDigest: string;
      if (this.recheck === 'get' && cachedDigest) {
        this.upstreamFetches.push({ repository: upstreamRepo, reference: tag, kind: 'manifest' });
        prefetched = await client.getManifest(upstreamRepo, tag);
        upstreamDigest = prefetched.digest;
      } else upstreamDigest = await client.headDigest(upstreamRepo, tag);
      // Immutable tags stop ECR from refreshing a cached tag (the ECR guide): it stays where it is.
      if (cachedDigest === upstreamDigest || (cachedDigest && this.ecr.tagImmutable(existing!, tag))) {
        existing?.tagCheckedAt.set(tag, this.clock.now());
        return;
      }
      if (!prefetched)
        this.upstreamFetches.push({ repository: upstreamRepo, reference: tag, kind: 'manifest' });
      const top = prefetched ?? (await client.getManifest(upstreamRepo, tag));
      const manifests: StoredManifest[] = [
        { digest: top.digest, mediaType: top.mediaType, bytes: top.bytes },
      ];
      // A list or index brings every manifest it references (`requested`: each when first asked for).
      for (const child of top.children) {
        if (this.indexChildren === 'requested') continue;
        this.upstreamFetches.push({ repository: upstreamRepo, reference: child, kind: 'manifest' });
        const m = await client.getManifest(upstreamRepo, child);
        manifests.push({ digest: m.digest, mediaType: m.mediaType, bytes: m.bytes });
      }
      // Looked up again: another pull may have created the repository while this one waited upstream.
      const repo =
        this.ecr.repositories.get(repositoryName) ??
        this.ecr.createRepository(repositoryName, {
          createdByRule: rule.ecrRepositoryPrefix,
          fromTemplate: this.ecr.templateFor(repositoryName, 'PULL_THROUGH_CACHE'),
        });
      const now = this.clock.now();
      // Children first, so the list's size can be derived from them.
      for (const m of [...manifests].reverse()) if (!repo.images.has(m.digest)) this.keepImage(repo, m, now);
      repo.tagToDigest.set(tag, top.digest);
      repo.tagCheckedAt.set(tag, now);
      this.emit(rule, repositoryName, tag, { 'sync-status': 'SUCCESS', 'image-digest': top.digest });
    } catch (error) {
      const failure = this.asFailure(error);
      this.emit(rule, repositoryName, tag, {
        'sync-status': 'FAILED',
        'failure-code': failure.failureCode,
        'failure-reason': failure.message,
      });
      throw failure;
    }
  }

  private repositoryArn(name: string): string {
    return `arn:aws:ecr:${this.ecr.region}:${this.ecr.account}:repository/${name}`;
  }

  /**
   * Whether the token's caller may `action` on the repository (the sandbox's IAM, with the
   * repository's and the registry's policies; always, when off).
   */
  private allows(caller: AuthToken, action: string, repository: string): boolean {
    return (
      this.ecr.iam?.allows(
        caller.accessKeyId,
        { action, resource: this.repositoryArn(repository) },
        this.ecr.resourcePoliciesFor(repository, action),
      ) ?? true
    );
  }

  /** 403 with the message IAM gives, naming the caller, the action, the repository and why. */
  private denied(res: ServerResponse, caller: AuthToken, action: string, repository: string) {
    const who = this.ecr.iam?.principal(caller.accessKeyId)?.callerArn ?? caller.principalArn;
    const why =
      this.ecr.iam?.refusalFor(
        caller.accessKeyId,
        { action, resource: this.repositoryArn(repository) },
        this.ecr.resourcePoliciesFor(repository, action),
      ) ?? `because no identity-based policy allows the ${action} action`;
    return sendJson(
      res,
      403,
      registryError(
        'DENIED',
        `User: ${who} is not authorized to perform: ${action} on resource: ${this.repositoryArn(repository)} ${why}`,
      ),
    );
  }

  private authorize(req: IncomingMessage): AuthToken | undefined {
    const auth = req.headers.authorization;
    if (!auth?.startsWith('Basic ')) return undefined;
    const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    if (!decoded.startsWith('AWS:')) return undefined;
    const token = this.ecr.authTokens.get(decoded.slice(4));
    if (!token || token.expiresAt <= this.clock.now()) return undefined;
    return token;
  }

  handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', this.url);
    if (url.pathname.startsWith('/_storage/')) return this.serveStorage(req, res, url);
    const caller = this.authorize(req);
    if (!caller) {
      return sendJson(
        res,
        401,
        registryError(
          'DENIED',
          'Your authorization token has expired or is not valid. Reauthenticate and try again.',
        ),
        {
          'www-authenticate': `Basic realm="https://${this.ecr.registryHost}/",service="ecr.amazonaws.com"`,
        },
      );
    }
    if (url.pathname === '/v2/' || url.pathname === '/v2') return sendJson(res, 200, {});
    const target = parseRegistryPath(url.pathname);
    if (!target) return sendJson(res, 404, registryError('NOT_FOUND', 'no such route'));
    if (target.kind === 'manifests') return this.serveManifest(req, res, target.name, target.ref, caller);
    if (target.kind === 'blobs') return this.serveBlob(req, res, target.name, target.ref, caller);
    const repo = this.ecr.repositories.get(target.name);
    if (!repo)
      return sendJson(
        res,
        404,
        registryError('NAME_UNKNOWN', `The repository with name '${target.name}' does not exist`),
      );
    return sendJson(res, 200, { name: repo.name, tags: [...repo.tagToDigest.keys()] });
  };

  private async serveManifest(
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    ref: string,
    caller: AuthToken,
  ) {
    const principalArn = caller.principalArn;
    if (!this.allows(caller, 'ecr:BatchGetImage', name))
      return this.denied(res, caller, 'ecr:BatchGetImage', name);
    const rule = this.ecr.ruleFor(name);
    const byDigest = ref.startsWith('sha256:');
    if (!byDigest && rule) {
      const repo = this.ecr.repositories.get(name);
      const checkedAt = repo?.tagCheckedAt.get(ref);
      const due =
        !repo?.tagToDigest.has(ref) ||
        checkedAt === undefined ||
        this.clock.now() - checkedAt >= REVALIDATE_MS;
      // Importing from upstream is the caller's act: without BatchImportUpstreamImage ECR answers
      // "not found" (not "denied"), and a new repository needs CreateRepository too.
      const mayImport = this.allows(caller, 'ecr:BatchImportUpstreamImage', name);
      if (due && !mayImport && !repo?.tagToDigest.has(ref))
        return sendJson(
          res,
          404,
          registryError('MANIFEST_UNKNOWN', `Requested image not found: ${name}:${ref}`),
        );
      if (due && mayImport && !repo && !this.allows(caller, 'ecr:CreateRepository', name))
        return this.denied(res, caller, 'ecr:CreateRepository', name);
      if (due && mayImport) {
        try {
          await this.sync(rule, name, ref);
        } catch (error) {
          const failure = error as UpstreamFailure;
          // Already-cached images are still served when upstream fails.
          if (!repo?.tagToDigest.has(ref))
            return sendJson(res, failure.status, registryError(failure.registryCode, failure.message));
        }
      }
    }
    const repo = this.ecr.repositories.get(name);
    if (!repo)
      return sendJson(
        res,
        404,
        registryError('NAME_UNKNOWN', `The repository with name '${name}' does not exist in the registry`),
      );
    const digest = byDigest ? ref : repo.tagToDigest.get(ref);
    // `requested`: a child of a cached index is fetched from upstream when first asked for.
    const parent =
      byDigest && rule && this.indexChildren === 'requested' && !repo.images.has(ref)
        ? this.indexListing(repo, ref)
        : undefined;
    if (rule && parent) {
      if (!this.allows(caller, 'ecr:BatchImportUpstreamImage', name))
        return sendJson(
          res,
          404,
          registryError('MANIFEST_UNKNOWN', `Requested image not found: ${name}@${ref}`),
        );
      try {
        await this.fetchChild(rule, repo, ref, parent);
      } catch (error) {
        const failure = this.asFailure(error);
        return sendJson(res, failure.status, registryError(failure.registryCode, failure.message));
      }
    }
    const image = digest ? repo.images.get(digest) : undefined;
    if (!image)
      return sendJson(
        res,
        404,
        registryError('MANIFEST_UNKNOWN', `Requested image not found: ${name}:${ref}`),
      );
    if (image.storageClass === 'ARCHIVE')
      return sendJson(res, 404, registryError('MANIFEST_UNKNOWN', 'The image is archived'));
    if (!acceptable(image.manifest.mediaType, req.headers.accept)) {
      return sendJson(res, 404, registryError('MANIFEST_UNKNOWN', 'manifest media type not accepted'));
    }
    if (req.method === 'GET' && !this.ecr.exclusions.has(principalArn)) this.touch(repo, image.digest);
    res.writeHead(200, {
      'content-type': image.manifest.mediaType,
      'content-length': String(image.manifest.bytes.length),
      'docker-content-digest': image.digest,
    });
    res.end(req.method === 'HEAD' ? undefined : image.manifest.bytes);
  }

  /** Keeps a manifest fetched from upstream as an image of the repository (its size from its children). */
  private keepImage(repo: Repository, manifest: StoredManifest, pushedAt: number): void {
    repo.images.set(manifest.digest, {
      digest: manifest.digest,
      manifest,
      size: 0,
      pushedAt,
      storageClass: 'STANDARD',
    });
    repo.images.get(manifest.digest)!.size = this.ecr.imageSize(repo, manifest);
  }

  /** The cached index of the repository that lists `digest` as a child, if any. */
  private indexListing(repo: Repository, digest: string): string | undefined {
    for (const image of repo.images.values()) {
      if (!INDEX_TYPES.has(image.manifest.mediaType)) continue;
      const doc = JSON.parse(image.manifest.bytes.toString('utf8')) as {
        manifests?: Array<{ digest: string }>;
      };
      if (doc.manifests?.some((m) => m.digest === digest)) return image.digest;
    }
    return undefined;
  }

  /** `requested`: a child of a cached index, fetched from upstream when first asked for. */
  private async fetchChild(rule: Rule, repo: Repository, digest: string, index: string): Promise<void> {
    const upstreamRepo = this.upstreamPath(rule, repo.name);
    this.upstreamFetches.push({ repository: upstreamRepo, reference: digest, kind: 'manifest' });
    const m = await this.upstreamClient(rule).getManifest(upstreamRepo, digest);
    this.keepImage(repo, { digest: m.digest, mediaType: m.mediaType, bytes: m.bytes }, this.clock.now());
    // The index's size is its largest child's: known better now.
    const parent = repo.images.get(index);
    if (parent) parent.size = this.ecr.imageSize(repo, parent.manifest);
  }

  private touch(repo: Repository, digest: string) {
    const image = repo.images.get(digest);
    if (!image) return;
    const now = this.clock.now();
    const recorded = image.lastRecordedPullTime;
    if (this.pullTimeRefresh === 'every-pull' || recorded === undefined || now - recorded >= 86_400_000)
      image.lastRecordedPullTime = now;
  }

  private async serveBlob(
    _req: IncomingMessage,
    res: ServerResponse,
    name: string,
    digest: string,
    caller: AuthToken,
  ) {
    if (!this.allows(caller, 'ecr:GetDownloadUrlForLayer', name))
      return this.denied(res, caller, 'ecr:GetDownloadUrlForLayer', name);
    const repo = this.ecr.repositories.get(name);
    if (!repo)
      return sendJson(
        res,
        404,
        registryError('NAME_UNKNOWN', `The repository with name '${name}' does not exist`),
      );
    if (!repo.blobs.has(digest)) {
      const referenced = [...repo.images.values()].some((img) => img.manifest.bytes.includes(digest));
      const rule = repo.createdByRule ? this.ecr.rules.get(repo.createdByRule) : undefined;
      if (!referenced || !rule || !this.allows(caller, 'ecr:BatchImportUpstreamImage', name))
        return sendJson(res, 404, registryError('BLOB_UNKNOWN', `blob unknown: ${digest}`));
      try {
        this.upstreamFetches.push({
          repository: this.upstreamPath(rule, name),
          reference: digest,
          kind: 'blob',
        });
        // Stored as fetched, unless the storage holds it already (the stand-ins publish into it).
        const keep = !this.store.get(digest);
        const fetched = await this.upstreamClient(rule).fetchBlob(
          this.upstreamPath(rule, name),
          digest,
          keep,
        );
        if (fetched.bytes) this.store.put({ digest, size: fetched.size, bytes: fetched.bytes });
      } catch (error) {
        const failure = this.asFailure(error);
        return sendJson(
          res,
          failure.status === 404 ? 404 : failure.status,
          registryError(failure.status === 404 ? 'BLOB_UNKNOWN' : failure.registryCode, failure.message),
        );
      }
      repo.blobs.add(digest);
    }
    res.writeHead(307, {
      location: `${this.url}/_storage/${digest}`,
      'docker-content-digest': digest,
      'content-length': '0',
    });
    res.end();
  }

  /** Stand-in for the S3 URL ECR redirects blob downloads to. */
  private serveStorage(req: IncomingMessage, res: ServerResponse, url: URL) {
    const digest = url.pathname.slice('/_storage/'.length);
    const blob = this.store.get(digest);
    if (!blob) return sendJson(res, 404, { message: 'NoSuchKey' });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    blobStream(blob).pipe(res);
  }
}
