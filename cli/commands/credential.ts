/**
 * cache-keeper check | rotate | credential stage | credential record | credential cleanup
 * Token values are read from standard input, never from arguments (they would land in the shell history).
 */
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { KeeperConfig } from '../../lib/config/load.js';
import { secretNameOf } from '../../lib/config/names.js';
import { adminHubSession, tokenNoun } from '../../lib/credential/admin.js';
import {
  type AdminCredentialCheck,
  checkCredentialReport,
  credentialSecrets,
  formatChecks,
} from '../../lib/credential/check.js';
import { type CleanupReport, cleanupRetiredTokens } from '../../lib/credential/cleanup.js';
import { followRotation } from '../../lib/credential/follow.js';
import { describeCredentialSecret, unfinishedRotation } from '../../lib/credential/secret.js';
import { recordTokenExpiry, requireRotationFunction, stageToken } from '../../lib/credential/stage.js';
import { KeeperError } from '../../lib/runtime/errors.js';
import type { CommandDeps } from '../deps.js';
import { isCalendarDay, isoDate, isoShaped } from '../help.js';
import type { CliIo } from '../io.js';

export interface CredentialOptions {
  json: boolean;
  secret?: string;
  expiresAt?: string;
  uuid?: string;
  rotationLambdaArn?: string;
  /** How long to follow a rotation before saying it is still in progress (seconds). */
  waitSeconds?: number;
  readStdin: () => Promise<string>;
}

/** Exit codes of rotate and credential stage: the rotation's outcome. */
const ROTATION_EXIT = { succeeded: 0, failed: 1, 'in-progress': 3 } as const;

/**
 * Follows the rotation RotateSecret started, says how it ended, then shows the check. With --json,
 * one object on stdout: what was started (`started`), how the rotation ended and the check.
 */
async function reportRotation(
  deps: CommandDeps,
  io: CliIo,
  options: CredentialOptions,
  secretId: string,
  versionId: string,
  started: Record<string, unknown>,
): Promise<number> {
  const { outcome, waitedMs } = await followRotation(deps.secrets, secretId, versionId, {
    timeoutMs: (options.waitSeconds ?? 120) * 1000,
  });
  const seconds = Math.round(waitedMs / 1000);
  if (outcome === 'succeeded') {
    if (!options.json) io.out(`rotation ${versionId} succeeded: AWSCURRENT is the new token`);
  } else if (outcome === 'failed')
    io.err(
      `rotation ${versionId} failed: AWSCURRENT is unchanged; the rotateCredential function's log says which step refused it`,
    );
  else
    io.err(
      `rotation ${versionId} still in progress after ${seconds} s: follow it with \`cache-keeper check\` or the rotateCredential function's log`,
    );
  const { checks, adminCredential } = await checkCredentialReport(deps);
  if (options.json)
    io.out(
      JSON.stringify(
        { secret: secretId, started, rotation: { versionId, outcome, waitedSeconds: seconds }, checks },
        null,
        2,
      ),
    );
  else {
    io.out(formatChecks(checks, tokenNoun(deps.config)));
    sayAdminProblem(io, adminCredential);
  }
  if (outcome !== 'succeeded') return ROTATION_EXIT[outcome];
  return checks.every((c) => c.valid) ? 0 : 1;
}

function defaultSecret(config: KeeperConfig, secret?: string): string {
  const chosen =
    secret ??
    config.rules.find((r) => r.upstream === 'docker-hub')?.credentialSecret ??
    config.rules.find((r) => r.credentialSecret)?.credentialSecret;
  if (!chosen)
    throw new KeeperError('no credential secret: pass --secret or declare a rule with credentialSecret');
  return chosen;
}

/** Docker Hub shows a token's uuid as a UUID (8-4-4-4-12 hex digits). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The problems of `credential stage|record`'s options, found before anything is read or written:
 * a bad value is a bad command line (exit 2). A past expiry would raise the expired-token alarm at
 * the next check (a mistyped year, most often); a uuid that is not one would make the check report
 * the token gone from Docker Hub.
 */
export function credentialOptionProblems(
  options: { expiresAt?: string; uuid?: string },
  now: number,
): string[] {
  const problems: string[] = [];
  const text = options.expiresAt;
  const iso = isoDate(text);
  if (text === undefined) problems.push('--expires-at is required: the day the token expires, YYYY-MM-DD');
  else if (!iso && isoShaped(text) && !isCalendarDay(text))
    problems.push(`--expires-at: ${text.slice(0, 10)} is not a day of the calendar`);
  else if (!iso)
    problems.push(
      `--expires-at must be an ISO 8601 date, YYYY-MM-DD (e.g. 2027-03-01), not "${text}": 01/06/2027 means different days to different people`,
    );
  else if (Date.parse(iso) <= now)
    problems.push(
      `--expires-at: ${text} has passed, and a token past its expiry no longer logs in to Docker Hub; give the day it expires (for today, with the time: ${new Date(now).toISOString().slice(0, 10)}T23:59:00Z)`,
    );
  if (options.uuid !== undefined && !UUID.test(options.uuid))
    problems.push(
      `--uuid: "${options.uuid}" is not a UUID (Docker Hub shows the token's as 8-4-4-4-12 hex digits)`,
    );
  return problems;
}

/** The expiry of stage|record, ISO; runCli refuses bad options first (exit 2), this guards other callers. */
function checkedExpiry(options: CredentialOptions): string {
  const problems = credentialOptionProblems(options, Date.now());
  if (problems.length) throw new KeeperError(problems.join('; '));
  return isoDate(options.expiresAt)!;
}

export async function checkCommand(
  deps: CommandDeps,
  io: CliIo,
  options: CredentialOptions,
): Promise<number> {
  let checked = deps;
  if (options.secret !== undefined) {
    // Only the rules of that secret (named by name or ARN, as the config may name it).
    const name = secretNameOf(options.secret);
    const rules = deps.config.rules.filter((r) => r.credentialSecretName === name);
    if (rules.length === 0) {
      const used = [...new Set(deps.config.rules.flatMap((r) => r.credentialSecretName ?? []))];
      io.err(
        `cache-keeper check: no rule uses the secret ${options.secret} (the rules use ${used.join(', ') || 'none'})`,
      );
      return 2;
    }
    checked = { ...deps, config: { ...deps.config, rules } };
  }
  const { checks, adminCredential } = await checkCredentialReport(checked);
  io.out(options.json ? JSON.stringify(checks, null, 2) : formatChecks(checks, tokenNoun(deps.config)));
  if (!options.json) sayAdminProblem(io, adminCredential);
  return checks.every((c) => c.valid) ? 0 : 1;
}

/** The next managed rotation at risk, though the token may work: said, not counted in the exit code. */
function sayAdminProblem(io: CliIo, admin: AdminCredentialCheck | undefined): void {
  if (admin && admin.state !== 'ok')
    io.out(admin.problem ?? `admin credential ${admin.secretName}: ${admin.state}`);
}

/** Starts a rotation (Secrets Manager calls the rotateCredential function), then shows the check. */
export async function rotateCommand(
  deps: CommandDeps,
  io: CliIo,
  options: CredentialOptions,
): Promise<number> {
  const secret = defaultSecret(deps.config, options.secret);
  const described = await describeCredentialSecret(deps.secrets, secret);
  requireRotationFunction(described, options.rotationLambdaArn);
  // AWS refuses a new rotation while one is unfinished: that one is taken up instead (its version
  // named as the ClientRequestToken, as a retry of it).
  const unfinished = unfinishedRotation(described);
  if (unfinished && !options.json) io.out(`rotation ${unfinished} has not finished: taking it up`);
  const out = await deps.secrets.send(
    new RotateSecretCommand({
      SecretId: secret,
      RotateImmediately: true,
      ...(unfinished ? { ClientRequestToken: unfinished } : {}),
      ...(options.rotationLambdaArn ? { RotationLambdaARN: options.rotationLambdaArn } : {}),
    }),
  );
  if (!options.json) io.out(`rotation of ${secret} started (version ${out.VersionId}); following it`);
  return reportRotation(deps, io, options, secret, String(out.VersionId), {
    by: 'rotate',
    ...(unfinished ? { takenUp: unfinished } : {}),
  });
}

/** Staged rotation: the new token (from stdin) becomes AWSPENDING, then RotateSecret tests and promotes it. */
export async function stageCommand(
  deps: CommandDeps,
  io: CliIo,
  options: CredentialOptions,
): Promise<number> {
  const secretId = defaultSecret(deps.config, options.secret);
  const expiresAt = checkedExpiry(options);
  const staged = await stageToken(deps.secrets, {
    secretId,
    token: await options.readStdin(),
    expiresAt,
    uuid: options.uuid,
    rotationLambdaArn: options.rotationLambdaArn,
  });
  if (!options.json)
    io.out(
      `staged a new token for ${staged.secretName} (version ${staged.stagedVersionId}, expires ${expiresAt.slice(0, 10)}); ${staged.takenUp ? `rotation ${staged.rotationVersionId}, unfinished, taken up` : `rotation ${staged.rotationVersionId} started`}, following it`,
    );
  return reportRotation(deps, io, options, secretId, staged.rotationVersionId, {
    by: 'credential stage',
    stagedVersionId: staged.stagedVersionId,
    expiresAt,
    ...(staged.takenUp ? { takenUp: staged.rotationVersionId } : {}),
  });
}

/** Records the expiry (and uuid) of the PAT already in the secret, for the daily check. */
export async function recordCommand(
  deps: CommandDeps,
  io: CliIo,
  options: CredentialOptions,
): Promise<number> {
  const secretId = defaultSecret(deps.config, options.secret);
  const expiresAt = checkedExpiry(options);
  await recordTokenExpiry(deps.secrets, { secretId, expiresAt, uuid: options.uuid });
  if (options.json) {
    io.out(JSON.stringify({ secret: secretId, expiresAt, uuid: options.uuid ?? null }, null, 2));
    return 0;
  }
  io.out(
    `recorded for ${secretId}: expires ${expiresAt.slice(0, 10)}${options.uuid ? `, PAT uuid ${options.uuid}` : ''}`,
  );
  return 0;
}

/** Deletes the PATs earlier rotations retired, once their grace period is over; says what it deletes. */
export async function cleanupCommand(
  deps: CommandDeps,
  io: CliIo,
  options: CredentialOptions,
): Promise<number> {
  const adminSecret = deps.config.credential.rotation.adminSecret;
  if (!adminSecret)
    throw new KeeperError(
      'credential cleanup deletes PATs through the Hub API: set credential.rotation.adminSecret in keeper.config.yaml',
    );
  const hub = await adminHubSession(
    deps.secrets,
    adminSecret,
    deps,
    deps.config.credential.rotation.organization,
  );
  const secrets = options.secret ? [options.secret] : [...credentialSecrets(deps.config).keys()];
  const reports: CleanupReport[] = [];
  for (const secretId of secrets) {
    const secret = await describeCredentialSecret(deps.secrets, secretId);
    reports.push(await cleanupRetiredTokens(secret, { ...deps, hub }));
  }
  const noun = tokenNoun(deps.config);
  if (options.json) io.out(JSON.stringify(reports, null, 2));
  else
    for (const r of reports) {
      for (const uuid of r.deleted) io.out(`${r.secretName}: deleted retired ${noun} ${uuid}`);
      for (const t of r.kept)
        io.out(
          `${r.secretName}: kept retired ${noun} ${t.uuid} until ${t.deleteAfter.slice(0, 10)} (grace period)`,
        );
      if (r.unmarked.length)
        io.out(
          `${r.secretName}: left ${r.unmarked.length} PAT(s) labelled "ecr-cache-keeper <version>" by an older keeper (${r.unmarked.join(', ')}): strays, or another deployment's on this Docker Hub account; delete them in Docker Hub's settings once no deployment uses them`,
        );
      if (!r.deleted.length && !r.kept.length) io.out(`${r.secretName}: no retired ${noun} to delete`);
    }
  return 0;
}
