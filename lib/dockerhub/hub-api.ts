/**
 * Docker Hub's API for personal access tokens and organization access tokens (https://hub.docker.com).
 * Managing PATs needs a password login: a JWT minted from a PAT is refused (403). Hub API rate
 * limits are per minute: a 429 is waited out once when Retry-After is short, otherwise reported.
 */
import { DeadlineError, describeJsonError, KeeperError } from '../runtime/errors.js';
import { registerSecret } from '../runtime/redact.js';
import { retry, sleep } from '../runtime/retry.js';

export interface HubPat {
  uuid: string;
  token_label: string;
  scopes: string[];
  is_active: boolean;
  created_at: string;
  last_used: string | null;
  expires_at: string | null;
}

/** An organization access token as the Hub API describes one (orgAccessToken). */
interface OrgAccessToken {
  id: string;
  label: string;
  is_active: boolean;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
}

/** An organization access token in the shape the keeper keeps its ledger of tokens in. */
const fromOat = (oat: OrgAccessToken): HubPat => ({
  uuid: oat.id,
  token_label: oat.label,
  scopes: [],
  is_active: oat.is_active,
  created_at: oat.created_at,
  last_used: oat.last_used_at,
  expires_at: oat.expires_at,
});

// What an organization access token may reach, for the personal access token scopes the config
// names: image pulls from every public repository (the reference's path for them: */*/public), and
// with repo:read or more, from the organization's own repositories too. Pull is all a cache needs.
export function oatResources(organization: string, scopes: string[]) {
  const pull = ['scope-image-pull'];
  return [
    { type: 'TYPE_REPO', path: '*/*/public', scopes: pull },
    ...(scopes.some((s) => s !== 'repo:public_read')
      ? [{ type: 'TYPE_REPO', path: `${organization}/*`, scopes: pull }]
      : []),
  ];
}

export class HubApiError extends KeeperError {
  override name = 'HubApiError';
  constructor(
    message: string,
    /** HTTP status; 0 when no answer arrived. */
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** No answer, or a server error: the request may or may not have taken effect. */
  get uncertain(): boolean {
    return this.status === 0 || this.status >= 500;
  }
}

const MAX_RETRY_AFTER_SECONDS = 10;

const SESSION_CANNOT_MANAGE_TOKENS =
  'Docker Hub lets no login with a personal access token manage access tokens: the admin credential must hold the account password';

/** Seconds to wait from `Retry-After` (seconds) or the older `X-Retry-After` (unix time). */
function retryAfterSeconds(res: Response): number {
  const seconds = Number(res.headers.get('retry-after'));
  if (Number.isFinite(seconds) && seconds > 0) return seconds;
  const until = Number(res.headers.get('x-retry-after'));
  return Number.isFinite(until) && until > 0 ? until - Date.now() / 1000 : 0;
}

/**
 * A refused Hub API login, with what managed rotation needs: a password login, which an account with
 * two-factor authentication (the answer then carries a `login_2fa_token`, never repeated here) or
 * with single sign-on enforced cannot make.
 */
async function loginRefused(res: Response): Promise<HubApiError> {
  let body: { detail?: unknown; login_2fa_token?: unknown } = {};
  try {
    body = JSON.parse(await res.text());
  } catch {
    // the status says enough
  }
  const passwordOnly = 'managed rotation can only log in with a password';
  if (body?.login_2fa_token)
    return new HubApiError(
      `Docker Hub login: HTTP 401: the account has two-factor authentication, and ${passwordOnly}: set credential.rotation.mode: staged`,
      401,
    );
  const detail = typeof body?.detail === 'string' ? ` (${body.detail})` : '';
  return new HubApiError(
    `Docker Hub login: HTTP 401${detail}: the username or password is wrong, or the account has two-factor authentication or enforced single sign-on, and ${passwordOnly} (for those, set credential.rotation.mode: staged)`,
    401,
  );
}

export class HubApi {
  private jwt?: string;

  constructor(
    private readonly baseUrl: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /**
   * One Hub API request. Idempotent requests (reads, PATCH, DELETE) are retried on network and
   * server errors; a POST that creates something is sent once: after an uncertain failure the
   * caller looks for what it may have created instead of creating it twice.
   */
  private async request(
    method: string,
    path: string,
    body?: unknown,
    idempotent = method !== 'POST',
  ): Promise<Response> {
    const once = async (): Promise<Response> => {
      try {
        return await this.fetchImpl(`${this.baseUrl}${path}`, {
          method,
          headers: {
            'content-type': 'application/json',
            ...(this.jwt ? { authorization: `Bearer ${this.jwt}` } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (cause) {
        // Cut short at the invocation's deadline: no time left to retry, and it says so itself.
        if (cause instanceof DeadlineError) throw cause;
        throw new HubApiError(`${method} ${path}: ${(cause as Error).message}`, 0, { cause });
      }
    };
    const send = async () => {
      let res = await once();
      if (res.status === 429) {
        const wait = retryAfterSeconds(res);
        await res.arrayBuffer().catch(() => undefined);
        if (wait <= 0 || wait > MAX_RETRY_AFTER_SECONDS)
          throw new HubApiError(
            path === '/v2/auth/token'
              ? `${method} ${path}: Docker Hub refuses logins for this username for now (429: it throttles usernames after failed logins; retry in ${wait > 0 ? `${Math.ceil(wait / 60)} minute(s)` : 'about 10 minutes'})`
              : `${method} ${path}: Docker Hub API rate limit (429)`,
            429,
          );
        await sleep(wait * 1000);
        res = await once();
      }
      if (res.status >= 500)
        throw new HubApiError(`${method} ${path}: Docker Hub API error (HTTP ${res.status})`, res.status);
      return res;
    };
    return retry(send, {
      attempts: idempotent ? 3 : 1,
      baseDelayMs: 300,
      retryable: (e) => e instanceof HubApiError && (e.status === 0 || e.status >= 500),
    });
  }

  private async json<T>(res: Response, what: string): Promise<T> {
    const text = await res.text();
    if (!res.ok) {
      let detail = '';
      try {
        const parsed = JSON.parse(text);
        detail = parsed.detail ?? parsed.message ?? '';
      } catch {
        // keep the status only
      }
      // A session Docker Hub logged in but refuses here: minted from a personal access token.
      // An organization's tokens are refused to whoever is not one of its owners, as well.
      const why =
        res.status === 403 && this.jwt
          ? this.organization
            ? `: only an owner of ${this.organization} may manage its access tokens, with the owner's password (not a personal access token) in the admin credential`
            : `: ${SESSION_CANNOT_MANAGE_TOKENS}`
          : res.status === 404 && this.organization
            ? `: Docker Hub knows no organization ${this.organization} (credential.rotation.organization)`
            : '';
      throw new HubApiError(`${what}: HTTP ${res.status}${detail ? ` (${detail})` : ''}${why}`, res.status);
    }
    if (!text) return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      // A body that may carry a new token's secret: the cause names the position, never the text.
      throw new HubApiError(`${what}: the answer is not JSON`, res.status, {
        cause: describeJsonError(error, text),
      });
    }
  }

  /** Logs in with a username and password (a PAT cannot manage PATs). */
  async login(username: string, password: string): Promise<void> {
    this.jwt = undefined;
    const res = await this.request(
      'POST',
      '/v2/auth/token',
      { identifier: username, secret: password },
      true,
    );
    if (res.status === 401) throw await loginRefused(res);
    const body = await this.json<{ access_token?: string }>(res, 'Docker Hub login');
    if (!body.access_token) throw new HubApiError('Docker Hub login returned no access_token', res.status);
    registerSecret(body.access_token);
    this.jwt = body.access_token;
    this.username = username;
  }

  /** Whom the session is logged in as. */
  username?: string;

  /**
   * The organization whose access tokens the session manages instead of the user's own personal
   * access tokens (its owners may; `/v2/orgs/{name}/access-tokens`).
   */
  organization?: string;

  /** Manage the organization's access tokens from now on (the session's user must own it). */
  actFor(organization: string): this {
    this.organization = organization;
    return this;
  }

  /** The account the tokens this session mints and lists log in as: the organization, or the user. */
  get account(): string | undefined {
    return this.organization ?? this.username;
  }

  /** Where the session's tokens live: the organization's, or the user's own. */
  private get tokens(): string {
    return this.organization
      ? `/v2/orgs/${encodeURIComponent(this.organization)}/access-tokens`
      : '/v2/access-tokens';
  }

  async createPat(input: {
    label: string;
    scopes: string[];
    expiresAt?: string;
  }): Promise<HubPat & { token: string }> {
    if (this.organization) {
      const res = await this.request('POST', this.tokens, {
        label: input.label,
        resources: oatResources(this.organization, input.scopes),
        ...(input.expiresAt ? { expires_at: input.expiresAt } : {}),
      });
      const oat = await this.json<OrgAccessToken & { token: string }>(
        res,
        'create organization access token',
      );
      registerSecret(oat.token);
      return { ...fromOat(oat), token: oat.token };
    }
    const res = await this.request('POST', this.tokens, {
      token_label: input.label,
      scopes: input.scopes,
      ...(input.expiresAt ? { expires_at: input.expiresAt } : {}),
    });
    const pat = await this.json<HubPat & { token: string }>(res, 'create access token');
    registerSecret(pat.token);
    return pat;
  }

  async listPats(): Promise<HubPat[]> {
    if (this.organization)
      return (await this.everyPage<OrgAccessToken>(this.tokens, 'list organization access tokens')).map(
        fromOat,
      );
    return this.everyPage<HubPat>(this.tokens, 'list access tokens');
  }

  /** Every page of a token list (both lists page alike: `results`, and `next` until the last). */
  private async everyPage<T>(path: string, what: string): Promise<T[]> {
    const all: T[] = [];
    for (let page = 1; page < 1000; page++) {
      const res = await this.request('GET', `${path}?page=${page}&page_size=100`);
      const body = await this.json<{ results: T[]; next: string | null }>(res, what);
      all.push(...body.results);
      if (!body.next) break;
    }
    return all;
  }

  /** Deactivates (or re-activates) a PAT; one already gone counts as done. */
  async setActive(uuid: string, active: boolean): Promise<void> {
    const res = await this.request('PATCH', `${this.tokens}/${uuid}`, { is_active: active });
    if (res.status === 404) {
      await res.arrayBuffer().catch(() => undefined);
      return;
    }
    await this.json(res, `${active ? 'activate' : 'deactivate'} access token ${uuid}`);
  }

  /** Deletes a PAT; one already gone counts as done. */
  async deletePat(uuid: string): Promise<void> {
    const res = await this.request('DELETE', `${this.tokens}/${uuid}`);
    if (res.status === 404 || res.status === 204) {
      await res.arrayBuffer().catch(() => undefined);
      return;
    }
    await this.json(res, `delete access token ${uuid}`);
  }
}
