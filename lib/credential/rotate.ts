/**
 * The Secrets Manager rotation protocol for the Docker Hub token, with no moment where ECR holds a
 * dead one. Every step first checks that rotation is enabled and that the version exists and is
 * AWSPENDING (or already AWSCURRENT: a retry after a crash), so any step can run again.
 *
 *   createSecret  managed: mint a PAT with the admin credential (label holds the request token, so
 *                 a retry finds a half-made one) and store it as AWSPENDING; its uuid and expiry
 *                 go to `pending-*` tags. staged: copy the token the operator staged (the version
 *                 labelled KEEPER_STAGED, see stage.ts) into AWSPENDING with PutSecretValue.
 *   setSecret     nothing to set: ECR always reads AWSCURRENT, and the rule's ARN does not change.
 *   testSecret    log in upstream with the pending token (one attempt). On failure the minted PAT
 *                 is deactivated and the version loses AWSPENDING; AWSCURRENT is untouched.
 *   finishSecret  move AWSCURRENT, check ValidatePullThroughCacheRule (moving back if ECR
 *                 disagrees), then deactivate the previous PAT and record the new one in the tags.
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import {
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { DesiredRule, KeeperConfig } from '../config/load.js';
import { type HubApi, HubApiError } from '../dockerhub/hub-api.js';
import { validateRule } from '../ecr/validate.js';
import type { Endpoints } from '../registry/upstreams.js';
import { errorMessage, KeeperError } from '../runtime/errors.js';
import { adminHubSession, otherAccountThanAdmin, tokenNoun } from './admin.js';
import { cleanupRetiredTokens } from './cleanup.js';
import { mintedFor, patLabel } from './ledger.js';
import { probeUpstreamLogin } from './login.js';
import { setTags, TAGS } from './metadata.js';
import {
  type CredentialSecret,
  CredentialSecretError,
  describeCredentialSecret,
  pendingValueStored,
  readCredentialValue,
} from './secret.js';
import { STAGED_LABEL } from './stage.js';

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

export interface RotationEvent {
  Step: RotationStep;
  SecretId: string;
  ClientRequestToken: string;
}

export interface RotationDeps {
  secrets: SecretsManagerClient;
  ecr: ECRClient;
  config: KeeperConfig;
  now?: () => number;
  fetch?: typeof fetch;
  endpoints?: Endpoints;
}

export interface StepResult {
  step: RotationStep;
  outcome: string;
  /** For staged rotations: what the operator still has to do by hand. */
  operatorAction?: string;
  /** Keeper tokens deleted by the ledger reconciliation (finishSecret): retired past grace, strays. */
  deletedPats?: string[];
}

export class RotationError extends KeeperError {
  override name = 'RotationError';
}

const DAY_MS = 86_400_000;

function rulesFor(config: KeeperConfig, secret: CredentialSecret): DesiredRule[] {
  return config.rules.filter(
    (r) => r.credentialSecretName === secret.name || r.credentialSecret === secret.arn,
  );
}

/** Logs in upstream with the pending token: one attempt, through the shared probe. */
async function loginUpstream(
  deps: RotationDeps,
  rule: DesiredRule | undefined,
  credential: { username: string; accessToken: string },
): Promise<void> {
  if (!rule)
    throw new RotationError(
      'no rule in keeper.config.yaml uses this secret, so there is no upstream to test against',
    );
  const probe = await probeUpstreamLogin(rule, credential, deps);
  if (probe.outcome !== 'ok')
    throw new RotationError(probe.problem ?? 'upstream login failed', { cause: probe.error });
}

async function hubFor(deps: RotationDeps): Promise<HubApi> {
  const adminSecret = deps.config.credential.rotation.adminSecret;
  if (!adminSecret)
    throw new RotationError('managed rotation needs credential.rotation.adminSecret in keeper.config.yaml');
  return adminHubSession(deps.secrets, adminSecret, deps, deps.config.credential.rotation.organization);
}

/** Deactivates the PAT minted for this rotation (known from the tags, or found by its label). */
async function retirePendingPat(
  deps: RotationDeps,
  secret: CredentialSecret,
  token: string,
): Promise<string | undefined> {
  if (deps.config.credential.rotation.mode !== 'managed') return undefined;
  const hub = await hubFor(deps);
  let uuid = secret.tags[TAGS.pendingVersion] === token ? secret.tags[TAGS.pendingUuid] : undefined;
  uuid ??= (await hub.listPats()).find((p) => mintedFor(p, secret.arn, token))?.uuid;
  if (uuid) await hub.setActive(uuid, false);
  return uuid;
}

async function removePending(deps: RotationDeps, secret: CredentialSecret, token: string): Promise<void> {
  await deps.secrets.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secret.arn,
      VersionStage: 'AWSPENDING',
      RemoveFromVersionId: token,
    }),
  );
}

async function validateRules(deps: RotationDeps, rules: DesiredRule[]): Promise<string[]> {
  const failures: string[] = [];
  for (const rule of rules) {
    const v = await validateRule(deps.ecr, rule.prefix);
    if (!v.isValid) failures.push(`rule ${rule.prefix}: ${v.errorName ?? v.failure ?? 'not valid'}`);
  }
  return failures;
}

/** Deactivates and deletes tokens this rotation version minted that are not the stored one. */
async function discardMinted(
  hub: HubApi,
  secretArn: string,
  token: string,
  keep?: string,
): Promise<string[]> {
  const discarded: string[] = [];
  for (const pat of (await hub.listPats()).filter((p) => mintedFor(p, secretArn, token) && p.uuid !== keep)) {
    if (pat.is_active) await hub.setActive(pat.uuid, false);
    await hub.deletePat(pat.uuid);
    discarded.push(pat.uuid);
  }
  return discarded;
}

/**
 * Refusals before anything is minted that no retry of this version can pass (the admin credential
 * missing, malformed, refused, or not allowed to manage tokens; a token of another account): the
 * version comes off AWSPENDING, as decideRotationStep's refusals do, so the rotation run once the
 * admin credential is fixed is not refused as "a previous rotation isn't complete". Throttling, a
 * 5xx or no answer leave it for AWS's reattempt.
 */
async function withdrawnIfRefused<T>(
  deps: RotationDeps,
  secret: CredentialSecret,
  token: string,
  beforeMinting: () => Promise<T>,
): Promise<T> {
  try {
    return await beforeMinting();
  } catch (error) {
    const forGood =
      error instanceof RotationError ||
      (error instanceof CredentialSecretError && error.problem !== 'unreadable') ||
      (error instanceof HubApiError && (error.status === 401 || error.status === 403));
    if (forGood) await removePending(deps, secret, token);
    throw error;
  }
}

/**
 * Mints the new PAT and stores it as AWSPENDING. Safe against a crash, a retry and a racing
 * duplicate of the step: tokens an earlier attempt minted but could not store are found by their
 * label and discarded; a create that may have happened (no answer, or a 5xx) is never sent blindly
 * again, the label is looked up first; and when another attempt stored its token first
 * (PutSecretValue refuses a second value for the version), this attempt discards its own.
 */
async function createSecret(
  deps: RotationDeps,
  secret: CredentialSecret,
  token: string,
): Promise<StepResult> {
  const rotation = deps.config.credential.rotation;
  const hub = await withdrawnIfRefused(deps, secret, token, async () => {
    const hub = await hubFor(deps);
    // The token in use, when it can be read (a rotation also repairs a broken secret): one of
    // another account (an organization's) is not the admin's to replace with a token of its own.
    const current = await readCredentialValue(deps.secrets, secret.arn).catch(() => undefined);
    const otherAccount =
      current &&
      otherAccountThanAdmin(
        { secretName: secret.name, username: current.username },
        { secretName: rotation.adminSecret!, username: hub.account!, organization: !!hub.organization },
      );
    if (otherAccount) throw new RotationError(otherAccount);
    // An earlier attempt that minted a PAT but crashed before storing it lost the PAT's secret: retire it.
    await discardMinted(hub, secret.arn, token);
    return hub;
  });
  const expiresAt = new Date(now(deps) + rotation.lifetimeDays * DAY_MS).toISOString();
  const mint = () =>
    hub.createPat({ label: patLabel(secret.arn, token), scopes: rotation.scopes, expiresAt });
  let pat: Awaited<ReturnType<typeof mint>>;
  try {
    pat = await mint();
  } catch (error) {
    if (!(error instanceof HubApiError) || !error.uncertain) throw error;
    // It may have been created without our seeing its secret: find it and discard it, then mint once more.
    await discardMinted(hub, secret.arn, token);
    pat = await mint();
  }
  try {
    await deps.secrets.send(
      new PutSecretValueCommand({
        SecretId: secret.arn,
        ClientRequestToken: token,
        // The account the token logs in as: the admin's own, or the organization whose token it is.
        SecretString: JSON.stringify({ username: hub.account, accessToken: pat.token }),
        VersionStages: ['AWSPENDING'],
      }),
    );
  } catch (error) {
    // Whatever happened to the PUT, only a stored token may stay: ours unless the version holds it.
    const stored = await pendingStored(deps, secret, token).catch(() => false);
    const ours =
      stored &&
      (await readCredentialValue(deps.secrets, secret.arn, { versionId: token, stage: 'AWSPENDING' }))
        .accessToken === pat.token;
    if (!ours) {
      await hub.setActive(pat.uuid, false);
      await hub.deletePat(pat.uuid);
      if (stored)
        return {
          step: 'createSecret',
          outcome: 'a concurrent attempt stored its token first; this one was discarded',
        };
      throw error;
    }
  }
  // Recorded only once the token is stored, so a racing attempt can never record the wrong uuid.
  await setTags(deps.secrets, secret.arn, {
    [TAGS.pendingUuid]: pat.uuid,
    [TAGS.pendingExpiresAt]: pat.expires_at ?? expiresAt,
    [TAGS.pendingVersion]: token,
  });
  return {
    step: 'createSecret',
    outcome: `minted ${tokenNoun(deps.config)} ${pat.uuid} (expires ${expiresAt.slice(0, 10)}) and stored it as AWSPENDING`,
  };
}

/**
 * A retried createSecret whose token is already stored: when a crash came between storing it and
 * recording it, its uuid is found by its label (exactly one active token of this version) and recorded.
 */
async function recordStoredPending(
  deps: RotationDeps,
  secret: CredentialSecret,
  token: string,
): Promise<void> {
  if (deps.config.credential.rotation.mode !== 'managed' || secret.tags[TAGS.pendingVersion] === token)
    return;
  const hub = await hubFor(deps);
  const minted = (await hub.listPats()).filter((p) => mintedFor(p, secret.arn, token) && p.is_active);
  if (minted.length !== 1) return;
  await setTags(deps.secrets, secret.arn, {
    [TAGS.pendingUuid]: minted[0]!.uuid,
    [TAGS.pendingExpiresAt]: minted[0]!.expires_at ?? undefined,
    [TAGS.pendingVersion]: token,
  });
}

async function testSecret(
  deps: RotationDeps,
  secret: CredentialSecret,
  token: string,
  rules: DesiredRule[],
): Promise<StepResult> {
  const pending = await readCredentialValue(deps.secrets, secret.arn, {
    versionId: token,
    stage: 'AWSPENDING',
  });
  try {
    await loginUpstream(deps, rules[0], pending);
  } catch (error) {
    const retired = await retirePendingPat(deps, secret, token).catch(
      (e) => `(could not deactivate: ${errorMessage(e)})`,
    );
    await removePending(deps, secret, token);
    if (deps.config.credential.rotation.mode === 'staged') await unstage(deps, secret);
    await setTags(deps.secrets, secret.arn, {
      [TAGS.pendingUuid]: undefined,
      [TAGS.pendingExpiresAt]: undefined,
      [TAGS.pendingVersion]: undefined,
    });
    throw new RotationError(
      `testSecret: the new token does not log in upstream (${errorMessage(error)}); AWSCURRENT is unchanged${retired ? `, ${tokenNoun(deps.config)} ${retired} deactivated` : ''}`,
    );
  }
  return { step: 'testSecret', outcome: 'the pending token logs in upstream' };
}

/** After AWSCURRENT moved: validate, then retire the previous PAT and record the new one. Safe to repeat. */
async function completeFinish(
  deps: RotationDeps,
  secret: CredentialSecret,
  token: string,
  rules: DesiredRule[],
  previousVersion: string | undefined,
): Promise<StepResult> {
  if (secret.tags[TAGS.pendingVersion] !== token)
    return { step: 'finishSecret', outcome: 'already finished' };
  const failures = await validateRules(deps, rules);
  if (failures.length) {
    if (previousVersion) {
      await deps.secrets.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secret.arn,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: previousVersion,
          RemoveFromVersionId: token,
        }),
      );
    }
    // Leave the labels as a fresh rotation expects them: AWSPENDING on no version but AWSCURRENT's
    // (AWS refuses every later RotateSecret while a failed version keeps it).
    await removePending(deps, secret, token);
    const retired = await retirePendingPat(deps, secret, token).catch(() => undefined);
    await setTags(deps.secrets, secret.arn, {
      [TAGS.pendingUuid]: undefined,
      [TAGS.pendingExpiresAt]: undefined,
      [TAGS.pendingVersion]: undefined,
    });
    throw new RotationError(
      `finishSecret: ECR does not accept the new token (${failures.join('; ')}); AWSCURRENT moved back${retired ? `, ${tokenNoun(deps.config)} ${retired} deactivated` : ''}`,
    );
  }
  const mode = deps.config.credential.rotation.mode;
  const oldUuid = secret.tags[TAGS.uuid];
  const newUuid = secret.tags[TAGS.pendingUuid];
  let operatorAction: string | undefined;
  let retiredOld = false;
  if (mode === 'managed' && oldUuid && oldUuid !== newUuid) {
    await (await hubFor(deps)).setActive(oldUuid, false);
    retiredOld = true;
  } else if (mode === 'staged') {
    operatorAction = `revoke the previous token in Docker Hub (Account settings → Personal access tokens${oldUuid ? `, uuid ${oldUuid}` : ''}) once nothing else uses it`;
  }
  await setTags(deps.secrets, secret.arn, {
    [TAGS.uuid]: newUuid,
    [TAGS.expiresAt]: secret.tags[TAGS.pendingExpiresAt],
    [TAGS.previousUuid]: retiredOld ? oldUuid : undefined,
    [TAGS.previousDeactivatedAt]: retiredOld ? new Date(now(deps)).toISOString() : undefined,
    [TAGS.pendingUuid]: undefined,
    [TAGS.pendingExpiresAt]: undefined,
    [TAGS.pendingVersion]: undefined,
  });
  if (mode === 'staged') await unstage(deps, secret);
  // Reconcile the ledger (best effort: the rotation itself is done): strays left by aborted attempts
  // go, and the token retired by an earlier rotation once its grace period is over.
  let deletedPats: string[] = [];
  if (mode === 'managed') {
    const after = await describeCredentialSecret(deps.secrets, secret.arn);
    deletedPats = await cleanupRetiredTokens(after, {
      ...deps,
      now: () => now(deps),
      hub: await hubFor(deps),
    })
      .then((r) => r.deleted)
      .catch(() => []);
  }
  return {
    step: 'finishSecret',
    outcome: `AWSCURRENT is the new token; ECR validated it${retiredOld ? `; previous ${tokenNoun(deps.config)} ${oldUuid} deactivated` : ''}`,
    ...(operatorAction ? { operatorAction } : {}),
    ...(deletedPats.length ? { deletedPats } : {}),
  };
}

async function finishSecret(
  deps: RotationDeps,
  secret: CredentialSecret,
  token: string,
  rules: DesiredRule[],
  current: string | undefined,
): Promise<StepResult> {
  await deps.secrets.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secret.arn,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: token,
      RemoveFromVersionId: current,
    }),
  );
  return completeFinish(deps, secret, token, rules, current);
}

/** What a rotation step should do, from what the secret says. Pure: the table in the unit tests. */
export type RotationAction =
  /**
   * `withdraw`: the version's AWSPENDING holds nothing and no retry of it can succeed, so it comes
   * off: a version left AWSPENDING makes AWS refuse every later RotateSecret ("a previous rotation
   * isn't complete"), the one staging the next token included.
   */
  | { action: 'refuse'; reason: string; withdraw?: true }
  | { action: 'done'; outcome: string }
  | { action: 'complete-finish'; previousVersion?: string }
  | { action: 'mint' }
  | { action: 'copy-staged' }
  | { action: 'check-pending' }
  | { action: 'test' }
  | { action: 'finish'; currentVersion?: string };

export interface RotationFacts {
  step: RotationStep;
  mode: KeeperConfig['credential']['rotation']['mode'];
  secretName: string;
  rotationEnabled: boolean;
  token: string;
  versionIdsToStages: Record<string, string[]>;
  /** createSecret only: whether AWSPENDING of this version already holds a value. */
  pendingStored?: boolean;
  /** createSecret, staged mode: whether the operator staged a token (KEEPER_STAGED). */
  staged?: boolean;
}

const versionWith = (stages: Record<string, string[]>, label: string) =>
  Object.entries(stages).find(([, s]) => s.includes(label))?.[0];

export function decideRotationStep(f: RotationFacts): RotationAction {
  if (f.mode === 'off')
    return {
      action: 'refuse',
      reason: 'credential.rotation.mode is "off" in keeper.config.yaml; set it to managed or staged',
      ...(f.step === 'createSecret' && f.pendingStored === false ? { withdraw: true as const } : {}),
    };
  if (!f.rotationEnabled)
    return { action: 'refuse', reason: `secret ${f.secretName}: rotation is not enabled` };
  const stages = f.versionIdsToStages[f.token];
  if (!stages)
    return { action: 'refuse', reason: `secret ${f.secretName}: version ${f.token} does not exist` };
  if (stages.includes('AWSCURRENT')) {
    // A retry after AWSCURRENT already moved: only finishSecret has anything left to make sure of.
    if (f.step !== 'finishSecret') return { action: 'done', outcome: 'already current' };
    return { action: 'complete-finish', previousVersion: versionWith(f.versionIdsToStages, 'AWSPREVIOUS') };
  }
  if (!stages.includes('AWSPENDING'))
    return { action: 'refuse', reason: `secret ${f.secretName}: version ${f.token} is not AWSPENDING` };
  switch (f.step) {
    case 'createSecret':
      if (f.pendingStored) return { action: 'done', outcome: 'the pending token is already stored' };
      if (f.mode === 'staged' && f.staged) return { action: 'copy-staged' };
      if (f.mode === 'staged')
        return {
          action: 'refuse',
          reason:
            'staged rotation: no token is staged for this version; run `cache-keeper credential stage` with the new token',
          withdraw: true,
        };
      return { action: 'mint' };
    case 'setSecret':
      return { action: 'check-pending' };
    case 'testSecret':
      return { action: 'test' };
    case 'finishSecret':
      return { action: 'finish', currentVersion: versionWith(f.versionIdsToStages, 'AWSCURRENT') };
  }
}

/** Once a staged token is in use (or refused), it is staged no more: the next rotation needs a new one. */
async function unstage(deps: RotationDeps, secret: CredentialSecret): Promise<void> {
  const version = stagedVersion(secret);
  if (version)
    await deps.secrets.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secret.arn,
        VersionStage: STAGED_LABEL,
        RemoveFromVersionId: version,
      }),
    );
  await setTags(deps.secrets, secret.arn, {
    [TAGS.stagedUuid]: undefined,
    [TAGS.stagedExpiresAt]: undefined,
  });
}

/** The version holding the operator's staged token, if any. */
const stagedVersion = (secret: CredentialSecret) => versionWith(secret.versionIdsToStages, STAGED_LABEL);

/**
 * Staged mode, createSecret: the operator's token (staged under KEEPER_STAGED by `credential
 * stage`) becomes this rotation's AWSPENDING value, with its recorded expiry and uuid. Uses only
 * documented calls: PutSecretValue with the rotation's own token, as AWS's rotation functions do.
 */
async function copyStaged(deps: RotationDeps, secret: CredentialSecret, token: string): Promise<StepResult> {
  const staged = await readCredentialValue(deps.secrets, secret.arn, { stage: STAGED_LABEL });
  await deps.secrets.send(
    new PutSecretValueCommand({
      SecretId: secret.arn,
      ClientRequestToken: token,
      SecretString: JSON.stringify(staged),
      VersionStages: ['AWSPENDING'],
    }),
  );
  await setTags(deps.secrets, secret.arn, {
    [TAGS.pendingUuid]: secret.tags[TAGS.stagedUuid],
    [TAGS.pendingExpiresAt]: secret.tags[TAGS.stagedExpiresAt],
    [TAGS.pendingVersion]: token,
  });
  return { step: 'createSecret', outcome: 'copied the staged token into AWSPENDING' };
}

const pendingStored = (deps: RotationDeps, secret: CredentialSecret, token: string) =>
  pendingValueStored(deps.secrets, secret.arn, token);

export async function rotateStep(event: RotationEvent, deps: RotationDeps): Promise<StepResult> {
  const { Step: step, SecretId: secretId, ClientRequestToken: token } = event;
  const mode = deps.config.credential.rotation.mode;
  const secret = await describeCredentialSecret(deps.secrets, secretId);
  const facts: RotationFacts = {
    step,
    mode,
    secretName: secret.name,
    rotationEnabled: secret.rotationEnabled,
    token,
    versionIdsToStages: secret.versionIdsToStages,
  };
  const stages = secret.versionIdsToStages[token] ?? [];
  if (step === 'createSecret' && stages.includes('AWSPENDING') && !stages.includes('AWSCURRENT')) {
    facts.pendingStored = await pendingStored(deps, secret, token);
    if (mode === 'staged') facts.staged = stagedVersion(secret) !== undefined;
  }
  const decision = decideRotationStep(facts);
  const rules = rulesFor(deps.config, secret);
  switch (decision.action) {
    case 'refuse':
      if (decision.withdraw) await removePending(deps, secret, token);
      throw new RotationError(decision.reason);
    case 'done':
      if (step === 'createSecret' && facts.pendingStored) await recordStoredPending(deps, secret, token);
      return { step, outcome: decision.outcome };
    case 'complete-finish':
      return completeFinish(deps, secret, token, rules, decision.previousVersion);
    case 'copy-staged':
      return copyStaged(deps, secret, token);
    case 'mint':
      return createSecret(deps, secret, token);
    case 'check-pending':
      await readCredentialValue(deps.secrets, secret.arn, { versionId: token, stage: 'AWSPENDING' });
      return { step, outcome: 'nothing to set: ECR reads AWSCURRENT through the same secret ARN' };
    case 'test':
      return testSecret(deps, secret, token, rules);
    case 'finish':
      return finishSecret(deps, secret, token, rules, decision.currentVersion);
  }
}

const now = (deps: RotationDeps) => (deps.now ?? Date.now)();
