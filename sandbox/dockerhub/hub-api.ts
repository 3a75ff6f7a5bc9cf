/**
 * The Hub API routes the keeper uses (hub.docker.com): `/v2/auth/token`, personal access token
 * management under `/v2/access-tokens`, which refuses JWTs minted from a PAT (403), and an
 * organization's access tokens under `/v2/orgs/{name}/access-tokens`, for its owners.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxClock } from '../clock.js';
import { sendJson } from '../http.js';
import type { HubAccounts, HubUser, PersonalAccessToken } from './accounts.js';

const JWT_TTL_MS = 10 * 60_000;
const VALID_SCOPES = new Set(['repo:admin', 'repo:write', 'repo:read', 'repo:public_read']);

interface HubJwt {
  user: HubUser;
  via: 'password' | 'pat';
  expiresAt: number;
}

/** What Docker Hub returns about a token: everything but the secret value. */
export function publicPat(pat: PersonalAccessToken, username: string) {
  const { token: _secret, deleted: _deleted, ...rest } = pat;
  return {
    ...rest,
    creator_ua: 'ecr-cache-keeper',
    creator_ip: '127.0.0.1',
    generated_by: 'manual',
    username,
  };
}

export class HubApi {
  private jwts = new Map<string, HubJwt>();
  url = '';

  constructor(
    private readonly accounts: HubAccounts,
    private readonly clock: SandboxClock,
  ) {}

  handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    const url = new URL(req.url ?? '/', this.url);
    const headers = {
      'x-ratelimit-limit': '180',
      'x-ratelimit-remaining': '179',
      'x-ratelimit-reset': String(Math.floor(this.clock.now() / 1000) + 60),
    };
    const json = (status: number, value: unknown) => sendJson(res, status, value, headers);
    const parsed = (): Record<string, unknown> | undefined => {
      try {
        const value = JSON.parse(body.toString('utf8') || '{}');
        return typeof value === 'object' && value !== null ? value : undefined;
      } catch {
        return undefined;
      }
    };

    if (url.pathname === '/v2/auth/token' && req.method === 'POST') {
      const input = parsed();
      if (!input || typeof input.identifier !== 'string' || typeof input.secret !== 'string') {
        return json(400, { errinfo: {}, message: 'identifier and secret are required' });
      }
      const result = this.accounts.login(input.identifier, input.secret);
      if (!result.ok && result.secondFactorNeeded)
        return json(401, {
          detail: 'Incorrect authentication credentials',
          login_2fa_token: `hub2fa.${randomBytes(24).toString('base64url')}`,
        });
      if (!result.ok)
        return json(result.status, {
          detail: 'Incorrect authentication credentials',
          message: result.details,
        });
      const jwt = `hubjwt.${randomBytes(24).toString('base64url')}`;
      this.jwts.set(jwt, { user: result.user, via: result.via, expiresAt: this.clock.now() + JWT_TTL_MS });
      return json(200, { access_token: jwt });
    }

    const orgMatch = /^\/v2\/orgs\/([^/]+)\/access-tokens(?:\/([^/]+))?\/?$/.exec(url.pathname);
    const match = /^\/v2\/access-tokens(?:\/([^/]+))?\/?$/.exec(url.pathname);
    if (!match && !orgMatch) return json(404, { detail: 'Not found' });
    const auth = req.headers.authorization;
    const session = auth?.startsWith('Bearer ') ? this.jwts.get(auth.slice(7)) : undefined;
    if (!session || session.expiresAt <= this.clock.now())
      return json(401, { detail: 'Authentication credentials were not provided or are invalid' });
    if (session.via === 'pat') {
      return json(403, { detail: 'access tokens cannot be managed with a personal access token' });
    }
    if (orgMatch)
      return this.orgAccessTokens(req, res, session.user, orgMatch[1]!, orgMatch[2], parsed, json);
    const user = session.user;
    const uuid = match![1];

    if (!uuid && req.method === 'POST') {
      const input = parsed();
      const scopes = input?.scopes;
      if (
        !input ||
        typeof input.token_label !== 'string' ||
        !Array.isArray(scopes) ||
        scopes.some((s) => !VALID_SCOPES.has(String(s)))
      ) {
        return json(400, { message: 'token_label and valid scopes are required' });
      }
      // The Hub API's schema (createAccessTokenRequest): token_label is 1 to 100 characters.
      if (input.token_label.length < 1 || input.token_label.length > 100)
        return json(400, { message: 'token_label must be 1 to 100 characters' });
      const expiresAt = typeof input.expires_at === 'string' ? input.expires_at : null;
      if (expiresAt && Number.isNaN(Date.parse(expiresAt)))
        return json(400, { message: 'expires_at is not a date' });
      const pat = this.accounts.createPat(user, input.token_label, scopes as string[], expiresAt);
      return json(201, { ...publicPat(pat, user.username), token: pat.token });
    }
    if (!uuid && req.method === 'GET') {
      const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
      const pageSize = Math.min(100, Math.max(1, Number(url.searchParams.get('page_size') ?? 10)));
      const all = user.pats.filter((p) => !p.deleted);
      const results = all
        .slice((page - 1) * pageSize, page * pageSize)
        .map((p) => publicPat(p, user.username));
      const next =
        page * pageSize < all.length
          ? `${this.url}/v2/access-tokens?page=${page + 1}&page_size=${pageSize}`
          : null;
      return json(200, {
        count: all.length,
        next,
        previous: page > 1 ? `${this.url}/v2/access-tokens?page=${page - 1}&page_size=${pageSize}` : null,
        active_count: all.filter((p) => p.is_active).length,
        results,
      });
    }
    if (!uuid) return json(405, { detail: 'Method not allowed' });
    const pat = user.pats.find((p) => p.uuid === uuid && !p.deleted);
    if (!pat) return json(404, { detail: 'Not found' });
    if (req.method === 'GET') return json(200, publicPat(pat, user.username));
    if (req.method === 'PATCH') {
      const input = parsed();
      if (!input) return json(400, { message: 'body must be JSON' });
      if (typeof input.is_active === 'boolean') pat.is_active = input.is_active;
      if (typeof input.token_label === 'string') pat.token_label = input.token_label;
      return json(200, publicPat(pat, user.username));
    }
    if (req.method === 'DELETE') {
      pat.deleted = true;
      pat.is_active = false;
      res.writeHead(204, headers);
      res.end();
      return;
    }
    return json(405, { detail: 'Method not allowed' });
  };

  /**
   * An organization's access tokens (`/v2/orgs/{name}/access-tokens`), managed by its owners, as
   * the Hub API reference describes them: created with a label and resources
   * (createOrgAccessTokenRequest), listed as `{total, next, previous, results}`, updated with
   * PATCH (`is_active`), deleted with DELETE. The token value is shown only when created.
   */
  private async orgAccessTokens(
    req: IncomingMessage,
    res: ServerResponse,
    user: HubUser,
    orgName: string,
    id: string | undefined,
    parsed: () => Record<string, unknown> | undefined,
    json: (status: number, value: unknown) => void,
  ): Promise<void> {
    const org = [...this.accounts.users.values()].find(
      (u) => u.owners && u.username.toLowerCase() === orgName.toLowerCase(),
    );
    if (!org) return json(404, { detail: 'Not found' });
    if (!org.owners!.some((owner) => owner.toLowerCase() === user.username.toLowerCase()))
      return json(403, { detail: 'only owners of the organization can manage its access tokens' });
    const describe = (oat: PersonalAccessToken, withResources: boolean) => ({
      id: oat.uuid,
      label: oat.token_label,
      is_active: oat.is_active,
      created_at: oat.created_at,
      created_by: oat.created_by,
      expires_at: oat.expires_at,
      last_used_at: oat.last_used,
      ...(withResources ? { resources: oat.resources ?? [] } : {}),
    });
    const base = `${this.url}/v2/orgs/${org.username}/access-tokens`;

    if (!id && req.method === 'POST') {
      const input = parsed();
      const resources = input?.resources;
      const validResource = (r: unknown) => {
        const { type, path, scopes } = (r ?? {}) as Record<string, unknown>;
        return (
          (type === 'TYPE_REPO' || type === 'TYPE_ORG') &&
          typeof path === 'string' &&
          path.length > 0 &&
          Array.isArray(scopes) &&
          scopes.length > 0 &&
          scopes.every((x) => typeof x === 'string' && x.length > 0)
        );
      };
      if (!input || typeof input.label !== 'string' || input.label.length === 0)
        return json(400, { message: 'label is required' });
      if (!Array.isArray(resources) || resources.length === 0 || !resources.every(validResource))
        return json(400, { message: 'resources must hold at least one {type, path, scopes}' });
      const expiresAt = typeof input.expires_at === 'string' ? input.expires_at : null;
      if (expiresAt && Number.isNaN(Date.parse(expiresAt)))
        return json(400, { message: 'expires_at is not a date' });
      const oat = this.accounts.createOat(
        org,
        input.label,
        resources as NonNullable<PersonalAccessToken['resources']>,
        user.username,
        expiresAt,
      );
      return json(201, { ...describe(oat, true), token: oat.token });
    }
    if (!id && req.method === 'GET') {
      const url = new URL(req.url ?? '/', this.url);
      const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
      const pageSize = Math.min(100, Math.max(1, Number(url.searchParams.get('page_size') ?? 10)));
      const all = org.pats.filter((p) => !p.deleted);
      return json(200, {
        total: all.length,
        next: page * pageSize < all.length ? `${base}?page=${page + 1}&page_size=${pageSize}` : null,
        previous: page > 1 ? `${base}?page=${page - 1}&page_size=${pageSize}` : null,
        results: all.slice((page - 1) * pageSize, page * pageSize).map((p) => describe(p, false)),
      });
    }
    if (!id) return json(405, { detail: 'Method not allowed' });
    const oat = org.pats.find((p) => p.uuid === id && !p.deleted);
    if (!oat) return json(404, { detail: 'Not found' });
    if (req.method === 'GET') return json(200, describe(oat, true));
    if (req.method === 'PATCH') {
      const input = parsed();
      if (!input) return json(400, { message: 'body must be JSON' });
      if (typeof input.is_active === 'boolean') oat.is_active = input.is_active;
      if (typeof input.label === 'string') oat.token_label = input.label;
      return json(200, describe(oat, true));
    }
    if (req.method === 'DELETE') {
      oat.deleted = true;
      oat.is_active = false;
      res.writeHead(204);
      res.end();
      return;
    }
    return json(405, { detail: 'Method not allowed' });
  }
}
