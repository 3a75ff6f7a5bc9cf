/**
 * How the sandbox's ECR reaches an upstream registry: its own small client, written from the
 * distribution spec and the token-auth flow, sharing nothing with the product's
 * registry client, so a bug there cannot hide behind the same bug here. One attempt per request, as
 * ECR reports an upstream failure rather than retrying it for the caller.
 *
 * - Auth: a request answered 401 with `WWW-Authenticate: Bearer realm=…,service=…,scope=…` gets a
 *   token from the realm (Basic credentials when the rule has them) and is sent once more.
 * - Manifests: HEAD for the digest (free on Docker Hub), GET with the full Accept list; the digest is
 *   sha256 of the exact bytes and must equal Docker-Content-Digest.
 * - Blobs: streamed and hashed, never held whole.
 *
 * It speaks HTTP with node:http rather than fetch: fetch's web streams cost this one thread a quarter
 * of its time on a benchmark's cold night (where the witness, not the clients, must not be the
 * limit), and fetch opens a new connection for every HEAD where ECR's fleet would keep them.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export type UpstreamErrorKind = 'auth' | 'not-found' | 'rate-limited' | 'unavailable';

export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  /** The child manifests of an index or list. */
  children: string[];
}

function kindOf(status: number): UpstreamErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not-found';
  if (status === 429) return 'rate-limited';
  return 'unavailable';
}

function parseBearer(header: string | null): Record<string, string> | undefined {
  if (!header?.toLowerCase().startsWith('bearer ')) return undefined;
  const out: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/(\w+)="([^"]*)"/g)) out[m[1]!.toLowerCase()] = m[2]!;
  return out;
}

/** One exchange; the caller reads or drains the body, which returns the connection to the pool. */
function send(method: string, url: URL, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    request(url, { method, headers }, resolve).on('error', reject).end();
  });
}

const isOk = (status: number) => status >= 200 && status < 300;

function header(res: IncomingMessage, name: string): string | null {
  const value = res.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export class UpstreamRegistryClient {
  private readonly tokens = new Map<string, string>();

  constructor(
    private readonly base: string,
    private readonly credentials?: { username: string; password: string },
    private readonly userAgent = 'aws-ecr-pullthroughcache',
  ) {}

  private async token(challenge: Record<string, string>, scope: string): Promise<string> {
    const url = new URL(challenge.realm ?? '');
    if (challenge.service) url.searchParams.set('service', challenge.service);
    url.searchParams.set('scope', challenge.scope ?? scope);
    const headers: Record<string, string> = { 'user-agent': this.userAgent };
    if (this.credentials)
      headers.authorization = `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
    let status: number;
    let text: string;
    try {
      const res = await send('GET', url, headers);
      status = res.statusCode ?? 0;
      text = (await readAll(res)).toString('utf8');
    } catch (error) {
      throw new UpstreamError('unavailable', `token endpoint unreachable: ${(error as Error).message}`);
    }
    if (!isOk(status))
      throw new UpstreamError(
        status === 429 ? 'rate-limited' : kindOf(status === 404 ? 401 : status),
        `token endpoint answered ${status}`,
      );
    const body = JSON.parse(text) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new UpstreamError('auth', 'token endpoint gave no token');
    return token;
  }

  /** One request with the token flow; `repository` names the pull scope. Resolves on a 2xx only. */
  private async request(
    method: string,
    path: string,
    repository: string,
    accept?: string,
  ): Promise<IncomingMessage> {
    const scope = `repository:${repository}:pull`;
    const url = new URL(`${this.base}${path}`);
    const headersWith = (token?: string) => ({
      'user-agent': this.userAgent,
      ...(accept ? { accept } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    });
    let res: IncomingMessage;
    try {
      res = await send(method, url, headersWith(this.tokens.get(scope)));
      if (res.statusCode === 401) {
        const challenge = parseBearer(header(res, 'www-authenticate'));
        res.resume();
        if (challenge) {
          const token = await this.token(challenge, scope);
          this.tokens.set(scope, token);
          res = await send(method, url, headersWith(token));
        }
      }
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      throw new UpstreamError('unavailable', `${method} ${path}: ${(error as Error).message}`);
    }
    const status = res.statusCode ?? 0;
    if (!isOk(status)) {
      res.resume();
      throw new UpstreamError(kindOf(status), `${method} ${path} answered ${status}`);
    }
    return res;
  }

  /** Proves the credential: a token for the repository's scope. */
  async login(repository: string): Promise<void> {
    const res = await send('GET', new URL(`${this.base}/v2/`), { 'user-agent': this.userAgent }).catch(
      (error) => {
        throw new UpstreamError('unavailable', `GET /v2/: ${(error as Error).message}`);
      },
    );
    res.resume();
    const status = res.statusCode ?? 0;
    const challenge = parseBearer(header(res, 'www-authenticate'));
    if (status === 401 && challenge) await this.token(challenge, `repository:${repository}:pull`);
    else if (!isOk(status) && status !== 401)
      throw new UpstreamError(kindOf(status), `GET /v2/ answered ${status}`);
  }

  async headDigest(repository: string, reference: string): Promise<string> {
    const res = await this.request('HEAD', `/v2/${repository}/manifests/${reference}`, repository, ACCEPT);
    res.resume();
    const digest = header(res, 'docker-content-digest');
    if (!digest) throw new UpstreamError('unavailable', 'HEAD gave no Docker-Content-Digest');
    return digest;
  }

  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const res = await this.request('GET', `/v2/${repository}/manifests/${reference}`, repository, ACCEPT);
    let bytes: Buffer;
    try {
      bytes = await readAll(res);
    } catch (error) {
      throw new UpstreamError(
        'unavailable',
        `manifest ${repository}:${reference}: connection lost (${(error as Error).message})`,
      );
    }
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const announced = header(res, 'docker-content-digest');
    if ((announced && announced !== digest) || (reference.startsWith('sha256:') && reference !== digest))
      throw new UpstreamError(
        'unavailable',
        `manifest ${repository}:${reference} does not hash to its digest`,
      );
    const doc = JSON.parse(bytes.toString('utf8')) as {
      mediaType?: string;
      manifests?: Array<{ digest: string }>;
    };
    const mediaType = (header(res, 'content-type') ?? doc.mediaType ?? '').split(';')[0]!.trim();
    return { digest, mediaType, bytes, children: (doc.manifests ?? []).map((m) => m.digest) };
  }

  /**
   * Streams a blob through, verifying its digest; returns its size, and with `keep` its bytes (for a
   * blob the sandbox's storage does not hold already: an upstream outside the sandbox).
   */
  async fetchBlob(
    repository: string,
    digest: string,
    keep = false,
  ): Promise<{ size: number; bytes?: Buffer }> {
    const res = await this.request('GET', `/v2/${repository}/blobs/${digest}`, repository);
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).byteLength;
        if (keep) chunks.push(chunk as Buffer);
      }
    } catch (error) {
      throw new UpstreamError('unavailable', `blob ${digest}: connection lost (${(error as Error).message})`);
    }
    if (`sha256:${hash.digest('hex')}` !== digest)
      throw new UpstreamError('unavailable', `blob ${digest} does not hash to its digest`);
    return keep ? { size, bytes: Buffer.concat(chunks) } : { size };
  }
}
