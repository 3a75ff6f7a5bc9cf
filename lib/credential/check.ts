/**
 * The daily credential check, per credential secret: the value has the shape ECR needs, the token
 * logs in upstream (one attempt: Docker Hub throttles failed logins), ECR's own
 * ValidatePullThroughCacheRule agrees, and the days until the PAT expires are known: from the Hub
 * API when an admin credential is configured (matched by the PAT's uuid), else from the secret's
 * tags, else "unknown" with the command that records it. It changes nothing: a retired PAT whose
 * grace period is over is reported, and `cache-keeper credential cleanup` (or the next rotation)
 * deletes it.
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DesiredRule, KeeperConfig } from '../config/load.js';
import { type HubApi, HubApiError } from '../dockerhub/hub-api.js';
import { describeValidation, validateRule } from '../ecr/validate.js';
import type { Endpoints } from '../registry/upstreams.js';
import { awsErrorName, errorMessage, isTransientAwsError } from '../runtime/errors.js';
import { adminHubSession, otherAccountThanAdmin, sameAccount, tokenNoun } from './admin.js';
import { ledgerState, type RetiredToken, retiredToken } from './cleanup.js';
import { ledgerDrift } from './ledger.js';
import { probeUpstreamLogin } from './login.js';
import { TAGS } from './metadata.js';
import {
  type CredentialSecret,
  CredentialSecretError,
  describeCredentialSecret,
  readCredentialValue,
  unfinishedRotation,
  unreadableForNow,
} from './secret.js';

const DAY_MS = 86_400_000;

/**
 * `unverified`: nothing said the token is bad, but something that checks it could not answer
 * (Docker Hub unreachable, ECR's validation throttled or failing): no verdict, so no alarm.
 */
export type CredentialState =
  | 'valid'
  | 'expiring'
  | 'expired'
  | 'invalid'
  | 'missing'
  | 'malformed'
  | 'unverified';

export interface CredentialCheck {
  secretName: string;
  rules: string[];
  state: CredentialState;
  valid: boolean;
  problems: string[];
  /** What could not be checked today, and why (a reason of the moment, not of the token). */
  unverified: string[];
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
  /** A rotation left AWSPENDING, unfinished: AWS refuses any other until it ends (`cache-keeper rotate` takes it up). */
  unfinishedRotation?: string;
  /** Managed mode, but no rotation is enabled on the secret: nothing will renew the token. */
  rotationNotEnabled?: true;
  /** PATs retired by earlier rotations whose grace period is over: `cache-keeper credential cleanup` deletes them. */
  retiredTokensDue: RetiredToken[];
  /** Keeper tokens left by aborted attempts (the ledger's drift): `cache-keeper credential cleanup` removes them. */
  strayTokens: string[];
  /**
   * Tokens an older keeper labelled without the secret's mark, neither current nor retired: strays,
   * or another deployment's on the Docker Hub account. Never removed by the keeper.
   */
  unmarkedTokens: string[];
}

/** In managed mode: can the next rotation log in to the Hub API with the admin credential? */
export interface AdminCredentialCheck {
  secretName: string;
  /** `other-account`: it works, but a credential secret logs in as another account (otherAccountThanAdmin). */
  state: 'ok' | 'missing' | 'malformed' | 'refused' | 'throttled' | 'unreachable' | 'other-account';
  problem?: string;
}

export interface CredentialReport {
  checks: CredentialCheck[];
  adminCredential?: AdminCredentialCheck;
}

export interface CheckDeps {
  ecr: ECRClient;
  secrets: SecretsManagerClient;
  config: KeeperConfig;
  now?: () => number;
  fetch?: typeof fetch;
  endpoints?: Endpoints;
}

/** A check before anything is known. */
function blankCheck(secretId: string, rules: DesiredRule[]): CredentialCheck {
  return {
    secretName: secretId,
    rules: rules.map((r) => r.prefix),
    state: 'valid',
    valid: false,
    problems: [],
    unverified: [],
    upstreamLogin: 'skipped',
    ecrValidation: [],
    expiry: { source: 'unknown' },
    retiredTokensDue: [],
    strayTokens: [],
    unmarkedTokens: [],
  };
}

/**
 * The expiry the secret's tags record, when nothing better is known (the Hub API's list), and the
 * days left; or the command that records it.
 */
function addRecordedExpiry(check: CredentialCheck, secret: CredentialSecret, now: number): void {
  const uuid = secret.tags[TAGS.uuid];
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
    check.expiry.howToRecord = `cache-keeper credential record --secret ${secret.name} --expires-at <YYYY-MM-DD> [--uuid <token uuid>]`;
  }
}

/** ECR's ValidatePullThroughCacheRule for one rule, recorded in the check. */
async function askEcr(check: CredentialCheck, rule: DesiredRule, deps: CheckDeps) {
  const validation = await validateRule(deps.ecr, rule.prefix);
  check.ecrValidation.push({
    prefix: rule.prefix,
    isValid: validation.isValid,
    ...(validation.errorName
      ? { failure: validation.errorName }
      : validation.failure
        ? { failure: validation.failure }
        : {}),
  });
  return validation;
}

/**
 * The check of a secret this function may not describe or read (AccessDenied: a policy on the
 * secret, a permissions boundary; or, for describe, a secret that does not exist): only ECR's
 * verdict, as ECR reads the secret with its own role. ECR refusing the token is a verdict (the
 * secret missing, or the token invalid); ECR taking it is none on the expiry or the Docker Hub login.
 */
async function checkWithoutTheSecret(
  check: CredentialCheck,
  rules: DesiredRule[],
  error: CredentialSecretError,
  deps: CheckDeps,
  described?: { secret: CredentialSecret; now: number },
): Promise<CredentialCheck> {
  // Described but not read: the recorded expiry still keeps the "token expiring" alarm working.
  if (described) addRecordedExpiry(check, described.secret, described.now);
  const refusals: string[] = [];
  const validated: string[] = [];
  for (const rule of rules) {
    const validation = await askEcr(check, rule, deps);
    if (validation.isValid) validated.push(rule.prefix);
    else if (validation.transient) check.unverified.push(describeValidation(validation));
    else refusals.push(describeValidation(validation));
  }
  if (refusals.length) {
    check.state = error.problem === 'missing' ? 'missing' : 'invalid';
    check.problems.push(error.message, ...refusals);
    return check;
  }
  check.state = 'unverified';
  check.unverified.push(
    `${error.message}${validated.length ? `; ECR validates the rule${validated.length > 1 ? 's' : ''} ${validated.join(', ')} with it` : ''}: this function may not read the secret (a policy on it, or a permissions boundary), so ${check.expiry.source === 'secret-tags' ? "the token's Docker Hub login was not checked (its expiry is the one recorded on the secret)" : "the token's expiry and its Docker Hub login were not checked"}`,
  );
  return check;
}

/** One credential secret's check, and the username it logs in as (when it could be read). */
async function checkSecret(
  secretId: string,
  rules: DesiredRule[],
  deps: CheckDeps,
  hub?: HubApi,
): Promise<{ check: CredentialCheck; username?: string; tokenListError?: unknown }> {
  const now = (deps.now ?? Date.now)();
  const check = blankCheck(secretId, rules);
  let secret: CredentialSecret;
  let described: CredentialSecret | undefined;
  let value: { username: string; accessToken: string };
  try {
    secret = described = await describeCredentialSecret(deps.secrets, secretId);
    value = await readCredentialValue(deps.secrets, secretId);
  } catch (error) {
    if (!(error instanceof CredentialSecretError)) throw error;
    // Secrets Manager throttled, failing or not answering says nothing of the secret: no verdict.
    if (unreadableForNow(error)) {
      check.state = 'unverified';
      check.unverified.push(error.message);
      return { check };
    }
    // Refused to this function (a policy on the secret, a permissions boundary): ECR reads the
    // secret with its own role, so it can still say whether the token works.
    if (awsErrorName(error.cause) === 'AccessDeniedException')
      return {
        check: await checkWithoutTheSecret(
          check,
          rules,
          error,
          deps,
          described ? { secret: described, now } : undefined,
        ),
      };
    check.state = error.problem === 'missing' ? 'missing' : 'malformed';
    check.problems.push(error.message);
    return { check };
  }

  const login = await probeUpstreamLogin(rules[0]!, value, deps);
  check.upstreamLogin = login.outcome;
  if (login.problem)
    (login.outcome === 'unreachable' ? check.unverified : check.problems).push(login.problem);

  for (const rule of rules) {
    if (login.outcome === 'refused') {
      // ECR's validation would be a second failed login with the same token, and Docker Hub
      // throttles a username after failed logins: that would lock out the repair itself.
      check.ecrValidation.push({
        prefix: rule.prefix,
        isValid: false,
        failure: 'not asked: the token was just refused upstream',
      });
      continue;
    }
    const validation = await askEcr(check, rule, deps);
    // A refusal by ECR while Docker Hub was unreachable from here too is no verdict on the token.
    const noVerdict = validation.transient || login.outcome === 'unreachable';
    if (!validation.isValid)
      (noVerdict ? check.unverified : check.problems).push(
        // ECR refusing a token Docker Hub just took is most often ECR's own side: do not rotate first.
        login.outcome === 'ok' && !noVerdict && !validation.errorName
          ? `${describeValidation(validation)} (Docker Hub takes this token from here: look first at ECR's own reading of the secret, which a policy on the secret must allow to ECR's service-linked role AWSServiceRoleForECRPullThroughCache, and at the rule, before rotating the token)`
          : describeValidation(validation),
      );
  }

  const unfinished = unfinishedRotation(secret);
  if (unfinished) check.unfinishedRotation = unfinished;
  if (deps.config.credential.rotation.mode === 'managed' && !secret.rotationEnabled)
    check.rotationNotEnabled = true;
  const uuid = secret.tags[TAGS.uuid];
  let tokenListError: unknown;
  // The admin's account lists the admin's tokens: of a token of another account (an organization
  // access token) they say nothing, its expiry included.
  if (hub && (!hub.account || sameAccount(hub.account, value.username))) {
    try {
      const pats = await hub.listPats();
      // The ledger's drift, reported only: the check changes nothing.
      const drift = ledgerDrift(pats, ledgerState(secret, deps.config, now));
      check.strayTokens = drift.strays.map((p) => p.uuid);
      check.unmarkedTokens = drift.unmarked;
      const pat = uuid ? pats.find((p) => p.uuid === uuid) : undefined;
      if (uuid && !pat)
        check.problems.push(
          `the ${tokenNoun(deps.config)} recorded for this secret (${uuid}) no longer exists in Docker Hub`,
        );
      else if (pat) {
        check.expiry = {
          source: 'hub-api',
          patUuid: pat.uuid,
          ...(pat.expires_at ? { expiresAt: pat.expires_at } : {}),
        };
        if (!pat.is_active)
          check.problems.push(`the ${tokenNoun(deps.config)} (${pat.uuid}) is deactivated in Docker Hub`);
      }
    } catch (error) {
      // The list is the admin credential's (refused, throttled, no answer), not the token's: the
      // token's verdict stands on its login and ECR's validation, its expiry on the recorded tags.
      tokenListError = error;
    }
  }
  const retired = retiredToken(secret, deps.config, now);
  if (retired?.due) {
    const { due: _due, ...token } = retired;
    check.retiredTokensDue.push(token);
  }
  addRecordedExpiry(check, secret, now);

  const daysLeft = check.expiry.daysLeft;
  if (daysLeft !== undefined && daysLeft <= 0)
    check.problems.push(`the ${tokenNoun(deps.config)} expired on ${check.expiry.expiresAt}`);
  const invalid = check.problems.length > 0;
  check.state =
    daysLeft !== undefined && daysLeft <= 0
      ? 'expired'
      : invalid
        ? 'invalid'
        : check.unverified.length > 0
          ? 'unverified'
          : daysLeft !== undefined && daysLeft < deps.config.credential.warnDays
            ? 'expiring'
            : 'valid';
  check.valid = check.state === 'valid' || check.state === 'expiring';
  return { check, username: value.username, ...(tokenListError ? { tokenListError } : {}) };
}

/** The credential secrets the rules use, each with its rules. */
export function credentialSecrets(config: KeeperConfig): Map<string, DesiredRule[]> {
  const bySecret = new Map<string, DesiredRule[]>();
  for (const rule of config.rules) {
    if (rule.credentialSecret)
      bySecret.set(rule.credentialSecret, [...(bySecret.get(rule.credentialSecret) ?? []), rule]);
  }
  return bySecret;
}

/** The admin credential's health: present, parses, logs in to the Hub API (one attempt). */
function adminHealth(secretName: string, error?: unknown): AdminCredentialCheck {
  if (error === undefined) return { secretName, state: 'ok' };
  const problem = `admin credential ${secretName}: ${errorMessage(error)}`;
  if (error instanceof CredentialSecretError)
    return {
      secretName,
      state: unreadableForNow(error) ? 'unreachable' : error.problem === 'missing' ? 'missing' : 'malformed',
      problem,
    };
  if (error instanceof HubApiError)
    return {
      secretName,
      state: error.status === 429 ? 'throttled' : error.uncertain ? 'unreachable' : 'refused',
      problem,
    };
  return { secretName, state: 'unreachable', problem };
}

/** Checks every credential secret the rules use, and (managed rotation) the admin credential. */
export async function checkCredentialReport(deps: CheckDeps): Promise<CredentialReport> {
  const adminSecret = deps.config.credential.rotation.adminSecret;
  let hub: HubApi | undefined;
  let hubProblem: string | undefined;
  let adminCredential: AdminCredentialCheck | undefined;
  if (adminSecret && deps.config.rules.some((r) => r.upstream === 'docker-hub')) {
    try {
      hub = await adminHubSession(
        deps.secrets,
        adminSecret,
        deps,
        deps.config.credential.rotation.organization,
      );
      adminCredential = adminHealth(adminSecret);
    } catch (error) {
      hubProblem = `admin credential ${adminSecret}: ${errorMessage(error)}`;
      adminCredential = adminHealth(adminSecret, error);
    }
  }
  const checks: CredentialCheck[] = [];
  for (const [secretId, rules] of credentialSecrets(deps.config)) {
    // A call that could not be answered (throttled past its retries, a 5xx, no time left) leaves
    // this secret unverified, not the whole check unreported.
    const dockerHub = rules[0]!.upstream === 'docker-hub';
    const { check, username, tokenListError } = await checkSecret(
      secretId,
      rules,
      deps,
      dockerHub ? hub : undefined,
    ).catch((error: unknown) => {
      if (!isTransientAwsError(error)) throw error;
      const unverified = blankCheck(secretId, rules);
      unverified.state = 'unverified';
      unverified.unverified.push(errorMessage(error));
      return { check: unverified, username: undefined, tokenListError: undefined };
    });
    // Managed rotation renews a token only as the admin's account: say so while the token works.
    const otherAccount =
      deps.config.credential.rotation.mode === 'managed' &&
      adminSecret &&
      dockerHub &&
      username &&
      hub?.account &&
      adminCredential?.state === 'ok'
        ? otherAccountThanAdmin(
            { secretName: secretId, username },
            { secretName: adminSecret, username: hub.account, organization: !!hub.organization },
          )
        : undefined;
    if (tokenListError && adminSecret && adminCredential?.state === 'ok')
      adminCredential = adminHealth(adminSecret, tokenListError);
    if (otherAccount)
      adminCredential = {
        secretName: adminSecret!,
        state: 'other-account',
        problem: `admin credential ${adminSecret}: ${otherAccount}`,
      };
    if (hubProblem) check.expiry.howToRecord ??= `fix ${hubProblem}`;
    checks.push(check);
  }
  return { checks, ...(adminCredential ? { adminCredential } : {}) };
}

/** Managed mode with no rotation on the secret: who attaches it (deploy/stack.cjs, rotationStage). */
export const ROTATION_NOT_ENABLED =
  'rotation is not enabled on this secret, so nothing renews its token before it expires (credential.rotation.mode is managed): only the stage named by the rotationStage parameter (prod by default) attaches the rotation schedule; deploy that stage in this account and region, or deploy yours with --param="rotationStage=<stage>"';

/** What an unfinished rotation means, and what takes it up. */
export const unfinishedRotationLine = (versionId: string) =>
  `rotation ${versionId} has not finished: AWS refuses any other rotation of the secret until it does; \`cache-keeper rotate\` takes it up`;

/** The checks as lines for a terminal; `noun` names the token kind rotation manages (tokenNoun). */
export function formatChecks(checks: CredentialCheck[], noun = 'PAT'): string {
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
      for (const u of c.unverified) lines.push(`  ? not verified today: ${u}`);
      if (c.unfinishedRotation) lines.push(`  ${unfinishedRotationLine(c.unfinishedRotation)}`);
      if (c.rotationNotEnabled) lines.push(`  ${ROTATION_NOT_ENABLED}`);
      if (c.strayTokens.length)
        lines.push(
          `  ${c.strayTokens.length} Docker Hub token(s) left by aborted rotations (${c.strayTokens.join(', ')}): run \`cache-keeper credential cleanup\``,
        );
      if (c.unmarkedTokens.length)
        lines.push(
          `  ${c.unmarkedTokens.length} Docker Hub token(s) labelled "ecr-cache-keeper <version>" by an older keeper (${c.unmarkedTokens.join(', ')}): strays, or another deployment's; delete them in Docker Hub's settings once no deployment uses them`,
        );
      for (const t of c.retiredTokensDue)
        lines.push(
          `  retired ${noun} ${t.uuid} is past its grace period (${t.deleteAfter.slice(0, 10)}): run \`cache-keeper credential cleanup\``,
        );
      return lines.join('\n');
    })
    .join('\n');
}
