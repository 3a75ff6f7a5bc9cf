/**
 * The one HTTP client for registries (Docker Hub, the ECR registry endpoint, any distribution
 * registry): token auth from the challenge, HEAD/GET manifests with the full Accept list,
 * digests verified on the exact bytes, blobs streamed and hashed without buffering, quota headers
 * read on every manifest answer, and bounded retries for 5xx and network errors only.
 */
import { createHash } from 'node:crypto';
import { DeadlineError, describeJsonError } from '../runtime/errors.js';
import { redactText } from '../runtime/redact.js';
import { retry } from '../runtime/retry.js';
import { basicValue, type Challenge, parseChallenge, type RegistryCredentials } from './auth.js';
import { isRetryableRegistryError, RegistryError } from './errors.js';
import { MANIFEST_ACCEPT } from './media-types.js';
import { type RateLimit, readRateLimit } from './rate-limit.js';

export interface RegistryClientOptions {
  /** `https://registry-1.docker.io`, or the `proxyEndpoint` ECR returns. */
  baseUrl: string;
  credentials?: RegistryCredentials;
  fetch?: typeof fetch;
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Absolute time (ms) after which no retry starts. */
  deadline?: number;
  /** Aborts every request in flight (the run's deadline): the error is of kind `aborted`. */
  signal?: AbortSignal;
  /** The largest manifest accepted, in bytes (the OCI distribution spec suggests 4 MiB). */
  maxManifestBytes?: number;
  /** Called with the quota headers of every manifest answer that carries them. */
  onRateLimit?: (rateLimit: RateLimit) => void;
  userAgent?: string;
}

export interface ManifestHead {
  digest: string;
  mediaType: string;
  size: number;
  rateLimit?: RateLimit;
}

export interface Manifest extends ManifestHead {
  bytes: Buffer;
  /** The parsed document (never re-serialised: the digest is of `bytes`). */
  json: ManifestDocument;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
}

export interface ManifestDocument {
  schemaVersion: number;
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export class RegistryClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly tokens = new Map<string, CachedToken>();
  private basicAccepted = false;
  /** Token renewals, one at a time: each refused one is a failed login the registry may count. */
  private renewals: Promise<unknown> = Promise.resolve();
  /** The token endpoint's refusal of these credentials: final, so never asked again. */
  private refusal?: RegistryError;

  constructor(private readonly options: RegistryClientOptions) {
    // A ready-made Basic value is a registry's own token (ECR's GetAuthorizationToken), meant for
    // every request: sent from the first one, so concurrent first requests do not each meet a 401.
    this.basicAccepted = options.credentials !== undefined && 'basic' in options.credentials;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** HEAD a manifest: digest, type and quota for free on Docker Hub (HEAD is not counted as a pull). */
  async headManifest(repository: string, reference: string): Promise<ManifestHead> {
    const res = await this.send('HEAD', `/v2/${repository}/manifests/${reference}`, repository, {
      accept: MANIFEST_ACCEPT,
    });
    const rateLimit = this.noteRateLimit(res);
    const digest = res.headers.get('docker-content-digest');
    if (!digest || !DIGEST.test(digest)) {
      throw new RegistryError('protocol', `HEAD ${repository}:${reference} gave no Docker-Content-Digest`, {
        url: res.url,
      });
    }
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new RegistryError('digest-mismatch', `HEAD ${repository}@${reference} answered digest ${digest}`);
    }
    return {
      digest,
      mediaType: (res.headers.get('content-type') ?? '').split(';')[0]!.trim(),
      size: Number(res.headers.get('content-length') ?? 0),
      rateLimit,
    };
  }

  /** GET a manifest (a counted pull on Docker Hub) and verify its digest on the exact bytes. */
  async getManifest(repository: string, reference: string): Promise<Manifest> {
    return retry(async () => {
      const res = await this.send(
        'GET',
        `/v2/${repository}/manifests/${reference}`,
        repository,
        { accept: MANIFEST_ACCEPT },
        false,
      );
      const rateLimit = this.noteRateLimit(res);
      const bytes = await this.readBody(res);
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      const announced = res.headers.get('docker-content-digest');
      if (announced && announced !== digest) {
        throw new RegistryError(
          'digest-mismatch',
          `manifest ${repository}:${reference} hashes to ${digest}, registry announced ${announced}`,
        );
      }
      if (reference.startsWith('sha256:') && reference !== digest) {
        throw new RegistryError('digest-mismatch', `manifest ${repository}@${reference} hashes to ${digest}`);
      }
      let json: ManifestDocument;
      try {
        json = JSON.parse(bytes.toString('utf8'));
      } catch (cause) {
        throw new RegistryError('protocol', `manifest ${repository}:${reference} is not JSON`, {}, { cause });
      }
      const mediaType = (res.headers.get('content-type') ?? json.mediaType ?? '').split(';')[0]!.trim();
      return { digest, mediaType, size: bytes.length, bytes, json, rateLimit };
    }, this.retryOptions());
  }

  /**
   * Streams a blob (following the registry's redirect to storage), hashing as it goes and keeping
   * nothing: memory stays flat whatever the layer size. Returns the byte count.
   */
  async fetchBlob(repository: string, digest: string): Promise<{ bytes: number }> {
    return retry(async () => {
      const res = await this.send('GET', `/v2/${repository}/blobs/${digest}`, repository, {}, false);
      const hash = createHash('sha256');
      let bytes = 0;
      try {
        if (res.body) {
          for await (const chunk of res.body) {
            hash.update(chunk);
            bytes += chunk.byteLength;
          }
        }
      } catch (cause) {
        throw this.networkError(`blob ${repository}@${digest} (after ${bytes} bytes)`, cause);
      }
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== digest)
        throw new RegistryError('digest-mismatch', `blob ${repository}@${digest} hashes to ${actual}`);
      return { bytes };
    }, this.retryOptions());
  }

  /**
   * `GET /v2/` with no credentials: the registry's challenge (`open` when it lets anyone in). Sends
   * nothing secret, so a run asks it while it is still reading the credential and taking its lease.
   */
  async challenge(): Promise<Challenge | 'open'> {
    const res = await this.raw('GET', '/v2/', {});
    const text = await res.text().catch(() => '');
    if (res.status !== 401) {
      if (res.ok) return 'open';
      throw this.errorFor(res, 'GET /v2/', text);
    }
    // A 401 without a challenge this client understands: try Basic, as a registry without tokens wants.
    return parseChallenge(res.headers.get('www-authenticate')) ?? { scheme: 'basic' };
  }

  /**
   * Proves the credentials by obtaining a pull token through the challenge's realm (`challenge`, or
   * one asked now). Given several repositories, asks for all their scopes in as few token requests
   * as possible (50 scopes each), so later requests need no token round trip. One attempt: a 401 is
   * never retried (Docker Hub throttles failed logins per user).
   */
  async login(repositories: string | string[], challenge?: Promise<Challenge | 'open'>): Promise<void> {
    const list = [...new Set(Array.isArray(repositories) ? repositories : [repositories])];
    const answer = await (challenge ?? this.challenge());
    if (answer === 'open') return;
    if (answer.scheme === 'bearer') {
      // 50 scopes a request, the requests at once.
      const chunks: string[][] = [];
      for (let i = 0; i < list.length; i += 50) chunks.push(list.slice(i, i + 50));
      await Promise.all(
        chunks.map((chunk) =>
          this.fetchToken(
            answer,
            chunk.map((r) => `repository:${r}:pull`),
          ),
        ),
      );
      return;
    }
    const again = await this.raw('GET', '/v2/', { authorization: this.basicHeader() });
    await again.arrayBuffer().catch(() => undefined);
    if (!again.ok) {
      throw new RegistryError('auth', 'registry refused the credentials', {
        status: again.status,
        credentialsRejected: again.status === 401,
      });
    }
    this.basicAccepted = true;
  }

  private retryOptions() {
    return {
      attempts: this.options.attempts ?? 4,
      baseDelayMs: this.options.baseDelayMs ?? 250,
      maxDelayMs: this.options.maxDelayMs ?? 4000,
      deadline: this.options.deadline,
      retryable: isRetryableRegistryError,
    };
  }

  private noteRateLimit(res: Response): RateLimit | undefined {
    const rateLimit = readRateLimit(res.headers);
    if (rateLimit) this.options.onRateLimit?.(rateLimit);
    return rateLimit;
  }

  /** A failed or cut-off transfer: `aborted` when the caller's deadline cut it short, else `network`. */
  private networkError(what: string, cause: unknown, details: RegistryError['details'] = {}): RegistryError {
    if (this.options.signal?.aborted)
      return new RegistryError('aborted', `${what}: cut short at the run's deadline`, details, { cause });
    // The invocation's own bound (lib/runtime/deadline.ts): no time left to retry either.
    if (cause instanceof DeadlineError)
      return new RegistryError('aborted', `${what}: ${cause.message}`, details, { cause });
    return new RegistryError('network', `${what}: ${whyNoAnswer(cause)}`, details, { cause });
  }

  /** Reads a manifest body, refusing one over the size cap before holding it all. */
  private async readBody(res: Response): Promise<Buffer> {
    const cap = this.options.maxManifestBytes ?? 4 * 1024 * 1024;
    const announced = Number(res.headers.get('content-length') ?? Number.NaN);
    if (announced > cap) {
      await res.body?.cancel().catch(() => undefined);
      throw new RegistryError('protocol', `manifest of ${announced} bytes is over the ${cap}-byte limit`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body ?? []) {
        size += chunk.byteLength;
        if (size > cap) throw new RegistryError('protocol', `manifest is over the ${cap}-byte limit`);
        chunks.push(chunk);
      }
    } catch (cause) {
      if (cause instanceof RegistryError) throw cause;
      throw this.networkError(`reading ${res.url}`, cause);
    }
    return Buffer.concat(chunks);
  }

  private basicHeader(): string {
    if (!this.options.credentials)
      throw new RegistryError('auth', 'registry asks for credentials and none are configured');
    return `Basic ${basicValue(this.options.credentials)}`;
  }

  private async raw(method: string, path: string, headers: Record<string, string>): Promise<Response> {
    const url = path.startsWith('http') ? path : `${this.baseUrl}${path}`;
    try {
      return await this.fetchImpl(url, {
        method,
        headers: { 'user-agent': this.options.userAgent ?? 'ecr-cache-keeper', ...headers },
        redirect: 'follow',
        // A signal of its own, tied to the run's: Node's fetch holds its abort listener until the
        // request is garbage-collected, so on the run's one signal they would pile up, one per request.
        ...(this.options.signal ? { signal: AbortSignal.any([this.options.signal]) } : {}),
      });
    } catch (cause) {
      throw this.networkError(`${method} ${url}`, cause, { url });
    }
  }

  /**
   * One request with auth: cached bearer token for the repository's scope, or Basic. On a 401 the
   * challenge is answered once; a second 401 is final. With `withRetry`, 5xx and network errors are
   * retried (callers that read the body retry around the whole read instead).
   */
  private async send(
    method: string,
    path: string,
    repository: string,
    extra: Record<string, string>,
    withRetry = true,
  ): Promise<Response> {
    const attempt = async () => {
      const scope = `repository:${repository}:pull`;
      const headers: Record<string, string> = { ...extra };
      const cached = this.tokens.get(scope);
      if (cached && cached.expiresAt > Date.now()) headers.authorization = `Bearer ${cached.value}`;
      else if (this.basicAccepted) headers.authorization = this.basicHeader();
      let res = await this.raw(method, path, headers);
      // The first answer's body, read to free the connection: the error's words if it stays the answer.
      let refusal: string | undefined;
      if (res.status === 401) {
        refusal = await res.text().catch(() => '');
        const challenge = parseChallenge(res.headers.get('www-authenticate'));
        if (challenge?.scheme === 'bearer') {
          const token = await this.renewToken(challenge, scope, cached?.value);
          res = await this.raw(method, path, { ...extra, authorization: `Bearer ${token}` });
          refusal = undefined;
        } else if (challenge?.scheme === 'basic' && this.options.credentials && !headers.authorization) {
          headers.authorization = this.basicHeader();
          res = await this.raw(method, path, { ...extra, authorization: headers.authorization });
          refusal = undefined;
          if (res.status !== 401) this.basicAccepted = true;
        }
      }
      if (!res.ok) {
        const body = refusal ?? (await res.text().catch(() => ''));
        const error = this.errorFor(res, `${method} ${path}`, body);
        // A 401 to Basic credentials is the credentials themselves being refused.
        if (res.status === 401 && (this.basicAccepted || headers.authorization?.startsWith('Basic ')))
          error.details.credentialsRejected = true;
        throw error;
      }
      return res;
    };
    return withRetry ? retry(attempt, this.retryOptions()) : attempt();
  }

  /**
   * A token for one scope, after the registry refused (`refused`) or lacked the one held. Renewals
   * go one at a time (requests whose tokens ran out together would otherwise each send a login),
   * take a token another renewal fetched meanwhile, and stop at the first refusal of the
   * credentials: Docker Hub throttles a user's failed logins, and would then refuse the next
   * credential too.
   */
  private renewToken(
    challenge: { realm?: string; service?: string },
    scope: string,
    refused: string | undefined,
  ): Promise<string> {
    const renewal = this.renewals.then(() => {
      const cached = this.tokens.get(scope);
      if (cached && cached.value !== refused && cached.expiresAt > Date.now()) return cached.value;
      return this.fetchToken(challenge, [scope]);
    });
    this.renewals = renewal.catch(() => undefined);
    return renewal;
  }

  private async fetchToken(
    challenge: { realm?: string; service?: string },
    scopes: string[],
  ): Promise<string> {
    if (this.refusal) throw this.refusal;
    if (!challenge.realm) throw new RegistryError('protocol', 'bearer challenge without a realm');
    const url = new URL(challenge.realm);
    if (challenge.service) url.searchParams.set('service', challenge.service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = {};
    if (this.options.credentials) headers.authorization = this.basicHeader();
    const res = await this.raw('GET', url.toString(), headers);
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      let detail = '';
      try {
        const body = JSON.parse(text);
        detail = body.details ?? body.detail ?? body.errors?.[0]?.message ?? '';
      } catch {
        // not JSON: keep the status only
      }
      if (res.status === 413 || res.status === 431)
        throw new RegistryError(
          'protocol',
          `token endpoint refused the request as too large (HTTP ${res.status}): the credential is too long for the registry to accept`,
          { status: res.status },
        );
      const kind = res.status === 429 ? 'rate-limited' : res.status >= 500 ? 'server' : 'auth';
      const credentialsRejected = res.status === 401 || res.status === 403;
      // Only a 401 or 403 is the credentials refused; a 429 is Docker Hub throttling logins, a 5xx its failure.
      const what = credentialsRejected
        ? 'refused the credentials'
        : kind === 'rate-limited'
          ? 'throttled the login'
          : kind === 'server'
            ? 'failed'
            : 'refused the request';
      const error = new RegistryError(
        kind,
        `token endpoint ${what} (HTTP ${res.status}${detail ? `: ${detail}` : ''})`,
        {
          status: res.status,
          code: detail || undefined,
          credentialsRejected,
        },
      );
      if (credentialsRejected && this.options.credentials) this.refusal = error;
      throw error;
    }
    let body: { token?: string; access_token?: string; expires_in?: number };
    try {
      body = JSON.parse(text);
    } catch (error) {
      // The body may hold a token: the cause names the position, never the text.
      throw new RegistryError(
        'protocol',
        'token endpoint answered something other than JSON',
        {},
        {
          cause: describeJsonError(error, text),
        },
      );
    }
    const value = body.token ?? body.access_token;
    if (!value) throw new RegistryError('protocol', 'token endpoint answered without a token');
    // Renew a little early so a token never expires between check and use.
    const ttl = Math.max(10, (body.expires_in ?? 60) - 10);
    for (const scope of scopes) this.tokens.set(scope, { value, expiresAt: Date.now() + ttl * 1000 });
    return value;
  }

  /** Maps an error answer to a kind; the registry's error code (TOOMANYREQUESTS…) is kept, its text is not trusted. */
  private errorFor(res: Response, what: string, body: string): RegistryError {
    const status = res.status;
    const retryAfter = Number(res.headers.get('retry-after'));
    let code: string | undefined;
    let said: string | undefined;
    try {
      const first = JSON.parse(body)?.errors?.[0];
      code = typeof first?.code === 'string' ? first.code : undefined;
      said = typeof first?.message === 'string' ? first.message : undefined;
    } catch {
      // Not a registry error body; S3 (where ECR keeps layers) answers in XML.
      const xml = (tag: string) => new RegExp(`<${tag}>([^<]{1,1000})</${tag}>`).exec(body)?.[1];
      code = xml('Code');
      said = xml('Message');
    }
    const details = {
      status,
      code,
      url: res.url,
      retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    };
    what = code ? `${what} [${code}]` : what;
    if (status === 413 || status === 431)
      return new RegistryError('protocol', `${what}: request too large (HTTP ${status})`, details);
    // A refusal's own words say who may not do what, and which policy said so (ECR answers with
    // IAM's message): the fix depends on them. Redacted, and cut, as registries write what they like.
    if (status === 401 || status === 403)
      return new RegistryError(
        'auth',
        `${what}: access denied (HTTP ${status})${said ? `: ${redactText(said.length > 500 ? `${said.slice(0, 500)}…` : said)}` : ''}`,
        details,
      );
    if (status === 404) return new RegistryError('not-found', `${what}: not found`, details);
    if (status === 429)
      return new RegistryError(
        'rate-limited',
        `${what}: upstream pull rate limit reached (HTTP 429)`,
        details,
      );
    if (status >= 500) return new RegistryError('server', `${what}: server error (HTTP ${status})`, details);
    return new RegistryError('protocol', `${what}: unexpected HTTP ${status}`, details);
  }
}

/**
 * Why a request got no answer: Node's fetch says only "fetch failed", with the socket's error
 * (ECONNRESET, ENOTFOUND, UND_ERR_SOCKET…) as its cause.
 */
function whyNoAnswer(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const inner = (error as { cause?: unknown } | null)?.cause;
  if (!(inner instanceof Error)) return message;
  const code = (inner as { code?: unknown }).code;
  return `${message} (${typeof code === 'string' ? `${code}: ` : ''}${inner.message})`;
}
