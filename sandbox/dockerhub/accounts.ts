/** Docker Hub accounts, passwords and personal access tokens, as the stand-in keeps them. */
import { randomBytes, randomUUID } from 'node:crypto';
import type { SandboxClock } from '../clock.js';

export interface PersonalAccessToken {
  uuid: string;
  /** The secret value; only shown when created, like Docker Hub. */
  token: string;
  token_label: string;
  scopes: string[];
  is_active: boolean;
  created_at: string;
  last_used: string | null;
  /** ISO time, or null for a token that never expires. */
  expires_at: string | null;
  deleted?: boolean;
  /** An organization access token's resources (`{type, path, scopes}`), as created. */
  resources?: Array<{ type: string; path: string; scopes: string[] }>;
  /** Who created it (organization access tokens: an owner's username). */
  created_by?: string;
}

export interface HubUser {
  username: string;
  uuid: string;
  password: string;
  /** Pulls per window for this account; undefined means unlimited (paid plans). */
  pullLimit?: number;
  pats: PersonalAccessToken[];
  /**
   * Two-factor authentication: a password login then needs a second step (a TOTP code), which the
   * Hub API asks for with a `login_2fa_token` in its 401 (its documented login error response), and
   * the registry refuses passwords (Docker's docs: use a personal access token).
   */
  twoFactor?: boolean;
  /**
   * An organization (Docker Team or Business): its owners' usernames. It has no password; it logs
   * in to the registry with its organization access tokens, which its owners manage through the
   * Hub API (`/v2/orgs/{name}/access-tokens`), and they sit in `pats`.
   */
  owners?: string[];
}

export type LoginResult =
  | { ok: true; user: HubUser; via: 'password' | 'pat'; pat?: PersonalAccessToken }
  | { ok: false; status: 401 | 429; details: string; secondFactorNeeded?: true };

const FAILED_LOGIN_LIMIT = 5;
const FAILED_LOGIN_COOLDOWN_MS = 10 * 60_000;

export class HubAccounts {
  readonly users = new Map<string, HubUser>();
  private failedLogins = new Map<string, number[]>();

  constructor(private readonly clock: SandboxClock) {}

  addUser(username: string, password: string, pullLimit: number | undefined = 200): HubUser {
    const user: HubUser = { username, uuid: randomUUID(), password, pullLimit, pats: [] };
    this.users.set(username, user);
    return user;
  }

  /** An organization with its owners (existing users); it logs in only with its access tokens. */
  addOrganization(name: string, owners: string[], pullLimit: number | undefined = undefined): HubUser {
    const org: HubUser = { username: name, uuid: randomUUID(), password: '', pullLimit, pats: [], owners };
    this.users.set(name, org);
    return org;
  }

  /** An organization access token: resources instead of scopes, created by one of its owners. */
  createOat(
    org: HubUser,
    label: string,
    resources: NonNullable<PersonalAccessToken['resources']>,
    createdBy: string,
    expiresAt?: string | null,
  ): PersonalAccessToken {
    const oat = this.createPat(org, label, [], expiresAt);
    oat.token = `dckr_oat_${randomBytes(20).toString('base64url')}`;
    oat.resources = resources;
    oat.created_by = createdBy;
    return oat;
  }

  createPat(user: HubUser, label: string, scopes: string[], expiresAt?: string | null): PersonalAccessToken {
    const pat: PersonalAccessToken = {
      uuid: randomUUID(),
      token: `dckr_pat_${randomBytes(20).toString('base64url')}`,
      token_label: label,
      scopes,
      is_active: true,
      created_at: this.clock.date().toISOString(),
      last_used: null,
      expires_at: expiresAt ?? null,
    };
    user.pats.push(pat);
    return pat;
  }

  findPat(uuid: string): { user: HubUser; pat: PersonalAccessToken } | undefined {
    for (const user of this.users.values()) {
      const pat = user.pats.find((p) => p.uuid === uuid && !p.deleted);
      if (pat) return { user, pat };
    }
    return undefined;
  }

  /** Failed logins for this username inside the cooldown window (what the throttle counts). */
  failedLoginCount(username: string): number {
    const now = this.clock.now();
    return (this.failedLogins.get(username) ?? []).filter((t) => now - t < FAILED_LOGIN_COOLDOWN_MS).length;
  }

  /** Username + password or PAT, with Docker Hub's failure bodies and its per-user login throttle. */
  login(username: string, secret: string): LoginResult {
    const now = this.clock.now();
    const failures = (this.failedLogins.get(username) ?? []).filter(
      (t) => now - t < FAILED_LOGIN_COOLDOWN_MS,
    );
    if (failures.length >= FAILED_LOGIN_LIMIT) {
      return {
        ok: false,
        status: 429,
        details: 'too many failed login attempts for this username, try again later',
      };
    }
    const fail = (details: string): LoginResult => {
      failures.push(now);
      this.failedLogins.set(username, failures);
      return { ok: false, status: 401, details };
    };
    const user = this.users.get(username);
    if (!user) return fail('incorrect username or password');
    // An organization has no password of its own: only its access tokens log in as it.
    if (user.owners && secret === user.password) return fail('incorrect username or password');
    if (secret === user.password && user.twoFactor)
      return { ok: false, status: 401, details: 'second factor required', secondFactorNeeded: true };
    if (secret === user.password) return { ok: true, user, via: 'password' };
    const pat = user.pats.find((p) => p.token === secret && !p.deleted);
    if (!pat) return fail('incorrect username or password');
    if (pat.expires_at && Date.parse(pat.expires_at) <= now) return fail('personal access token is expired');
    if (!pat.is_active) return fail('personal access token is inactive');
    pat.last_used = new Date(now).toISOString();
    return { ok: true, user, via: 'pat', pat };
  }
}
