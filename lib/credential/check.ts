/**
 * The daily credential check, per credential secret: the value has the shape ECR needs, the token
 * logs in upstream (one attempt: Docker Hub throttles failed logins), ECR's own
 * ValidatePullThroughCacheRule agrees, and the days until the PAT expires are known: from the Hub
 * API when an admin credential is configured (matched by the PAT's uuid), else from the secret's
 * tags, else "unknown" with the command that records it. Deactivated PATs from earlier rotations
 * are deleted once their grace period is over.
 */
import { type ECRClient, ValidatePullThroughCacheRuleCommand } from '@aws-sdk/client-ecr';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DesiredRule, KeeperConfig } from '../config/load.js';
import type { HubApi } from '../dockerhub/hub-api.js';
import type { Metric } from '../metrics/publish.js';
import { RegistryClient } from '../registry/client.js';
import { RegistryError } from '../registry/errors.js';
import { upstreamBaseUrl } from '../registry/upstreams.js';
import { errorMessage } from '../runtime/errors.js';
import { adminHubSession } from './admin.js';
import { setTags, TAGS } from './metadata.js';
import {
  type CredentialSecret,
  CredentialSecretError,
  describeCredentialSecret,
  readCredentialValue,
} from './secret.js';

const DAY_MS = 86_400_000;
/** Docker Hub's documented quota probe repository; any repository works for a login. */
const PROBE_REPOSITORY = 'ratelimitpreview/test';

export type CredentialState = 'valid' | 'expiring' | 'expired' | 'invalid' | 'missing' | 'malformed';

export interface CredentialCheck {
  secretName: string;
  rules: string[];
  state: CredentialState;
  valid: boolean;
  problems: string[];
  upstreamLogin: 'ok' | 'refused' | 'unreachable' | 'skipped';
  ecrValidation: Array<{ prefix: string; isValid: boolean; failure?: string }>;
  expiry: {
    source: 'hub-api' | 'secret-tags' | 'unknown';
    expiresAt?: string;
    daysLeft?: number;
    patUuid?: string;
    /** How to make the expiry known, when it is not. */
    howToRecord?: string;
  };
  /** Old PATs deleted after their grace period. */
  deletedPats: string[];
}

export interface CheckDeps {
  ecr: ECRClient;
  secrets: SecretsManagerClient;
  config: KeeperConfig;
  now?: number;
  fetch?: typeof fetch;
}

async function upstreamLogin(
  rule: DesiredRule,
  username: string,
  accessToken: string,
  fetchImpl?: typeof fetch,
): Promise<{ outcome: CredentialCheck['upstreamLogin']; problem?: string }> {
  const client = new RegistryClient({
    baseUrl: upstreamBaseUrl(rule.upstreamUrl),
    credentials: { username, password: accessToken },
    attempts: 1,
    fetch: fetchImpl,
  });
  try {
    await client.login(rule.upstream === 'docker-hub' ? PROBE_REPOSITORY : 'library/alpine');
    return { outcome: 'ok' };
  } catch (error) {
    if (error instanceof RegistryError && (error.kind === 'auth' || error.kind === 'rate-limited')) {
      return { outcome: 'refused', problem: `upstream login refused: ${error.message}` };
    }
    return { outcome: 'unreachable', problem: `upstream not reachable: ${errorMessage(error)}` };
  }
}

export async function checkCredentialSecret(
  secretId: string,
  rules: DesiredRule[],
  deps: CheckDeps,
  hub?: HubApi,
): Promise<CredentialCheck> {
  const now = deps.now ?? Date.now();
  const check: CredentialCheck = {
    secretName: secretId,
    rules: rules.map((r) => r.prefix),
    state: 'valid',
    valid: false,
    problems: [],
    upstreamLogin: 'skipped',
    ecrValidation: [],
    expiry: { source: 'unknown' },
    deletedPats: [],
  };
  let secret: CredentialSecret;
  let value: { username: string; accessToken: string };
  try {
    secret = await describeCredentialSecret(deps.secrets, secretId);
    value = await readCredentialValue(deps.secrets, secretId);
  } catch (error) {
    if (!(error instanceof CredentialSecretError)) throw error;
    check.state = error.problem === 'missing' ? 'missing' : 'malformed';
    check.problems.push(error.message);
    return check;
  }

  const login = await upstreamLogin(rules[0]!, value.username, value.accessToken, deps.fetch);
  check.upstreamLogin = login.outcome;
  if (login.problem) check.problems.push(login.problem);

  for (const rule of rules) {
    try {
      const out = await deps.ecr.send(
        new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: rule.prefix }),
      );
      check.ecrValidation.push({
        prefix: rule.prefix,
        isValid: out.isValid === true,
        ...(out.failure ? { failure: out.failure } : {}),
      });
      if (!out.isValid)
        check.problems.push(`ECR says rule ${rule.prefix} is not valid: ${out.failure ?? 'no reason given'}`);
    } catch (error) {
      const name = (error as { name?: string }).name;
      check.ecrValidation.push({ prefix: rule.prefix, isValid: false, failure: name });
      check.problems.push(
        name === 'PullThroughCacheRuleNotFoundException'
          ? `rule ${rule.prefix} does not exist (run reconcile)`
          : `ValidatePullThroughCacheRule ${rule.prefix}: ${name}`,
      );
    }
  }

  const uuid = secret.tags[TAGS.uuid];
  if (hub && uuid) {
    try {
      const pats = await hub.listPats();
      const pat = pats.find((p) => p.uuid === uuid);
      if (!pat)
        check.problems.push(`the PAT recorded for this secret (${uuid}) no longer exists in Docker Hub`);
      else {
        check.expiry = {
          source: 'hub-api',
          patUuid: uuid,
          ...(pat.expires_at ? { expiresAt: pat.expires_at } : {}),
        };
        if (!pat.is_active) check.problems.push(`the PAT (${uuid}) is deactivated in Docker Hub`);
      }
      check.deletedPats = await deleteExpiredPredecessor(secretId, secret, hub, deps, now);
    } catch (error) {
      check.problems.push(`Docker Hub API: ${errorMessage(error)}`);
    }
  }
  if (check.expiry.source === 'unknown' && secret.tags[TAGS.expiresAt]) {
    check.expiry = {
      source: 'secret-tags',
      expiresAt: secret.tags[TAGS.expiresAt],
      ...(uuid ? { patUuid: uuid } : {}),
    };
  }
  if (check.expiry.expiresAt) {
    check.expiry.daysLeft = Math.round(((Date.parse(check.expiry.expiresAt) - now) / DAY_MS) * 10) / 10;
  } else if (check.expiry.source === 'unknown') {
    check.expiry.howToRecord = `cache-keeper credential record --secret ${secret.name} --expires-at <YYYY-MM-DD> [--uuid <PAT uuid>]`;
  }

  const daysLeft = check.expiry.daysLeft;
  if (daysLeft !== undefined && daysLeft <= 0)
    check.problems.push(`the PAT expired on ${check.expiry.expiresAt}`);
  const invalid = check.problems.length > 0;
  check.state =
    daysLeft !== undefined && daysLeft <= 0
      ? 'expired'
      : invalid
        ? 'invalid'
        : daysLeft !== undefined && daysLeft < deps.config.credential.warnDays
          ? 'expiring'
          : 'valid';
  check.valid = check.state === 'valid' || check.state === 'expiring';
  return check;
}

/** Deletes the PAT a rotation deactivated, once `deleteOldAfterDays` have passed. */
async function deleteExpiredPredecessor(
  secretId: string,
  secret: CredentialSecret,
  hub: HubApi,
  deps: CheckDeps,
  now: number,
): Promise<string[]> {
  const previous = secret.tags[TAGS.previousUuid];
  const since = Date.parse(secret.tags[TAGS.previousDeactivatedAt] ?? '');
  if (!previous || Number.isNaN(since)) return [];
  if (now - since < deps.config.credential.rotation.deleteOldAfterDays * DAY_MS) return [];
  await hub.deletePat(previous);
  await setTags(deps.secrets, secretId, {
    [TAGS.previousUuid]: undefined,
    [TAGS.previousDeactivatedAt]: undefined,
  });
  return [previous];
}

/** Checks every credential secret the rules use. */
export async function checkCredentials(deps: CheckDeps): Promise<CredentialCheck[]> {
  const bySecret = new Map<string, DesiredRule[]>();
  for (const rule of deps.config.rules) {
    if (rule.credentialSecret)
      bySecret.set(rule.credentialSecret, [...(bySecret.get(rule.credentialSecret) ?? []), rule]);
  }
  const adminSecret = deps.config.credential.rotation.adminSecret;
  let hub: HubApi | undefined;
  let hubProblem: string | undefined;
  if (adminSecret && deps.config.rules.some((r) => r.upstream === 'docker-hub')) {
    try {
      hub = await adminHubSession(deps.secrets, adminSecret, deps.fetch);
    } catch (error) {
      hubProblem = `admin credential ${adminSecret}: ${errorMessage(error)}`;
    }
  }
  const checks: CredentialCheck[] = [];
  for (const [secretId, rules] of bySecret) {
    const check = await checkCredentialSecret(
      secretId,
      rules,
      deps,
      rules[0]!.upstream === 'docker-hub' ? hub : undefined,
    );
    if (hubProblem) check.expiry.howToRecord ??= `fix ${hubProblem}`;
    checks.push(check);
  }
  return checks;
}

export function credentialMetrics(checks: CredentialCheck[]): Metric[] {
  return checks.flatMap((c) => {
    const dimensions = { SecretName: c.secretName };
    const metrics: Metric[] = [{ name: 'CredentialValid', value: c.valid ? 1 : 0, dimensions }];
    if (c.expiry.daysLeft !== undefined)
      metrics.push({ name: 'CredentialDaysToExpiry', value: c.expiry.daysLeft, unit: 'None', dimensions });
    return metrics;
  });
}

export function formatChecks(checks: CredentialCheck[]): string {
  return checks
    .map((c) => {
      const expiry =
        c.expiry.daysLeft !== undefined
          ? `expires ${c.expiry.expiresAt?.slice(0, 10)} (${c.expiry.daysLeft} days, from ${c.expiry.source})`
          : `expiry unknown: ${c.expiry.howToRecord ?? 'no admin credential and no recorded expiry'}`;
      const lines = [
        `${c.secretName} [${c.rules.join(', ')}]: ${c.state.toUpperCase()}; upstream login ${c.upstreamLogin}; ${expiry}`,
      ];
      for (const p of c.problems) lines.push(`  ! ${p}`);
      for (const d of c.deletedPats)
        lines.push(`  deleted the PAT deactivated by an earlier rotation (${d})`);
      return lines.join('\n');
    })
    .join('\n');
}
