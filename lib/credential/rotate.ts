/**
 * The Secrets Manager rotation protocol for the Docker Hub token, with no moment where ECR holds a
 * dead one. Every step first checks that rotation is enabled and that the version exists and is
 * AWSPENDING (or already AWSCURRENT: a retry after a crash), so any step can run again.
 *
 *   createSecret  managed: mint a PAT with the admin credential (label holds the request token, so
 *                 a retry finds a half-made one) and store it as AWSPENDING; its uuid and expiry
 *                 go to `pending-*` tags. staged: the operator already stored it.
 *   setSecret     nothing to set: ECR always reads AWSCURRENT, and the rule's ARN does not change.
 *   testSecret    log in upstream with the pending token (one attempt). On failure the minted PAT
 *                 is deactivated and the version loses AWSPENDING; AWSCURRENT is untouched.
 *   finishSecret  move AWSCURRENT, check ValidatePullThroughCacheRule (moving back if ECR
 *                 disagrees), then deactivate the previous PAT and record the new one in the tags.
 */
import { type ECRClient, ValidatePullThroughCacheRuleCommand } from '@aws-sdk/client-ecr';
import {
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { DesiredRule, KeeperConfig } from '../config/load.js';
import type { HubApi } from '../dockerhub/hub-api.js';
import { RegistryClient } from '../registry/client.js';
import { upstreamBaseUrl } from '../registry/upstreams.js';
import { errorMessage, KeeperError } from '../runtime/errors.js';
import { adminHubSession, readJsonSecret } from './admin.js';
import { setTags, TAGS } from './metadata.js';
import {
  type CredentialSecret,
  CredentialSecretError,
  describeCredentialSecret,
  readCredentialValue,
} from './secret.js';

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
  now?: number;
  fetch?: typeof fetch;
}

export interface StepResult {
  step: RotationStep;
  outcome: string;
  /** For staged rotations: what the operator still has to do by hand. */
  operatorAction?: string;
}

export class RotationError extends KeeperError {
  override name = 'RotationError';
}

const DAY_MS = 86_400_000;
export const patLabel = (token: string) => `ecr-cache-keeper ${token}`;

function rulesFor(config: KeeperConfig, secret: CredentialSecret): DesiredRule[] {
  return config.rules.filter(
    (r) => r.credentialSecretName === secret.name || r.credentialSecret === secret.arn,
  );
}

async function loginUpstream(
  rule: DesiredRule | undefined,
  credential: { username: string; accessToken: string },
  fetchImpl?: typeof fetch,
) {
  if (!rule)
    throw new RotationError(
      'no rule in keeper.config.yaml uses this secret, so there is no upstream to test against',
    );
  const client = new RegistryClient({
    baseUrl: upstreamBaseUrl(rule.upstreamUrl),
    credentials: { username: credential.username, password: credential.accessToken },
    attempts: 1,
    fetch: fetchImpl,
  });
  await client.login(rule.upstream === 'docker-hub' ? 'ratelimitpreview/test' : 'library/alpine');
}

async function hubFor(deps: RotationDeps): Promise<HubApi> {
  const adminSecret = deps.config.credential.rotation.adminSecret;
  if (!adminSecret)
    throw new RotationError('managed rotation needs credential.rotation.adminSecret in keeper.config.yaml');
  return adminHubSession(deps.secrets, adminSecret, deps.fetch);
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
  uuid ??= (await hub.listPats()).find((p) => p.token_label === patLabel(token))?.uuid;
  if (uuid) await hub.setActive(uuid, false);
  return uuid;
}

async function validateRules(deps: RotationDeps, rules: DesiredRule[]): Promise<string[]> {
  const failures: string[] = [];
  for (const rule of rules) {
    try {
      const out = await deps.ecr.send(
        new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: rule.prefix }),
      );
      if (!out.isValid) failures.push(`rule ${rule.prefix}: ${out.failure ?? 'not valid'}`);
    } catch (error) {
      failures.push(`rule ${rule.prefix}: ${(error as Error).name}`);
    }
  }
  return failures;
}

async function createSecret(
  deps: RotationDeps,
  secret: CredentialSecret,
  token: string,
): Promise<StepResult> {
  try {
    await readCredentialValue(deps.secrets, secret.arn, { versionId: token, stage: 'AWSPENDING' });
    return { step: 'createSecret', outcome: 'the pending token is already stored' };
  } catch (error) {
    if (!(error instanceof CredentialSecretError) || error.problem !== 'missing') throw error;
  }
  const rotation = deps.config.credential.rotation;
  if (rotation.mode === 'staged') {
    throw new RotationError(
      'staged rotation: no token is staged for this version; run `cache-keeper credential stage` with the new token',
    );
  }
  const hub = await hubFor(deps);
  const admin = await readJsonSecret(deps.secrets, rotation.adminSecret!, ['username', 'password']);
  // An earlier attempt that minted a PAT but crashed before storing it lost the PAT's secret: retire it.
  for (const orphan of (await hub.listPats()).filter((p) => p.token_label === patLabel(token))) {
    await hub.setActive(orphan.uuid, false);
    await hub.deletePat(orphan.uuid);
  }
  const expiresAt = new Date((deps.now ?? Date.now()) + rotation.lifetimeDays * DAY_MS).toISOString();
  const pat = await hub.createPat({ label: patLabel(token), scopes: rotation.scopes, expiresAt });
  await setTags(deps.secrets, secret.arn, {
    [TAGS.pendingUuid]: pat.uuid,
    [TAGS.pendingExpiresAt]: pat.expires_at ?? expiresAt,
    [TAGS.pendingVersion]: token,
  });
  await deps.secrets.send(
    new PutSecretValueCommand({
      SecretId: secret.arn,
      ClientRequestToken: token,
      SecretString: JSON.stringify({ username: admin.username, accessToken: pat.token }),
      VersionStages: ['AWSPENDING'],
    }),
  );
  return {
    step: 'createSecret',
    outcome: `minted PAT ${pat.uuid} (expires ${expiresAt.slice(0, 10)}) and stored it as AWSPENDING`,
  };
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
    await loginUpstream(rules[0], pending, deps.fetch);
  } catch (error) {
    const retired = await retirePendingPat(deps, secret, token).catch(
      (e) => `(could not deactivate: ${errorMessage(e)})`,
    );
    await deps.secrets.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secret.arn,
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: token,
      }),
    );
    await setTags(deps.secrets, secret.arn, {
      [TAGS.pendingUuid]: undefined,
      [TAGS.pendingExpiresAt]: undefined,
      [TAGS.pendingVersion]: undefined,
    });
    throw new RotationError(
      `testSecret: the new token does not log in upstream (${errorMessage(error)}); AWSCURRENT is unchanged${retired ? `, PAT ${retired} deactivated` : ''}`,
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
    const retired = await retirePendingPat(deps, secret, token).catch(() => undefined);
    await setTags(deps.secrets, secret.arn, {
      [TAGS.pendingUuid]: undefined,
      [TAGS.pendingExpiresAt]: undefined,
      [TAGS.pendingVersion]: undefined,
    });
    throw new RotationError(
      `finishSecret: ECR does not accept the new token (${failures.join('; ')}); AWSCURRENT moved back${retired ? `, PAT ${retired} deactivated` : ''}`,
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
    [TAGS.previousDeactivatedAt]: retiredOld ? new Date(deps.now ?? Date.now()).toISOString() : undefined,
    [TAGS.pendingUuid]: undefined,
    [TAGS.pendingExpiresAt]: undefined,
    [TAGS.pendingVersion]: undefined,
  });
  return {
    step: 'finishSecret',
    outcome: `AWSCURRENT is the new token; ECR validated it${retiredOld ? `; previous PAT ${oldUuid} deactivated` : ''}`,
    ...(operatorAction ? { operatorAction } : {}),
  };
}

async function finishSecret(
  deps: RotationDeps,
  secret: CredentialSecret,
  token: string,
  rules: DesiredRule[],
): Promise<StepResult> {
  const current = Object.entries(secret.versionIdsToStages).find(([, stages]) =>
    stages.includes('AWSCURRENT'),
  )?.[0];
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

export async function rotateStep(event: RotationEvent, deps: RotationDeps): Promise<StepResult> {
  const { Step: step, SecretId: secretId, ClientRequestToken: token } = event;
  if (deps.config.credential.rotation.mode === 'off') {
    throw new RotationError(
      'credential.rotation.mode is "off" in keeper.config.yaml; set it to managed or staged',
    );
  }
  const secret = await describeCredentialSecret(deps.secrets, secretId);
  if (!secret.rotationEnabled) throw new RotationError(`secret ${secret.name}: rotation is not enabled`);
  const stages = secret.versionIdsToStages[token];
  if (!stages) throw new RotationError(`secret ${secret.name}: version ${token} does not exist`);
  const rules = rulesFor(deps.config, secret);
  if (stages.includes('AWSCURRENT')) {
    // A retry after AWSCURRENT already moved: only finishSecret has anything left to make sure of.
    if (step !== 'finishSecret') return { step, outcome: 'already current' };
    const previous = Object.entries(secret.versionIdsToStages).find(([, s]) =>
      s.includes('AWSPREVIOUS'),
    )?.[0];
    return completeFinish(deps, secret, token, rules, previous);
  }
  if (!stages.includes('AWSPENDING'))
    throw new RotationError(`secret ${secret.name}: version ${token} is not AWSPENDING`);
  switch (step) {
    case 'createSecret':
      return createSecret(deps, secret, token);
    case 'setSecret':
      await readCredentialValue(deps.secrets, secret.arn, { versionId: token, stage: 'AWSPENDING' });
      return { step, outcome: 'nothing to set: ECR reads AWSCURRENT through the same secret ARN' };
    case 'testSecret':
      return testSecret(deps, secret, token, rules);
    case 'finishSecret':
      return finishSecret(deps, secret, token, rules);
  }
}
