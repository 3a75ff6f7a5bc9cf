/**
 * Secrets Manager stand-in: secrets with versions and staging labels, ClientRequestToken
 * idempotency, tags, and RotateSecret running the configured rotation function step by step
 * (createSecret, setSecret, testSecret, finishSecret) as AWS does.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { SandboxClock } from '../clock.js';
import { AwsError, type AwsService, epochSeconds, requireString } from './protocol.js';

const MAX_TAGS = 50;

export interface SecretVersion {
  versionId: string;
  value?: string;
  stages: string[];
  createdAt: number;
}

export interface Secret {
  arn: string;
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags: Array<{ Key: string; Value: string }>;
  versions: SecretVersion[];
  createdAt: number;
  rotationEnabled: boolean;
  rotationLambdaArn?: string;
  rotationRules?: Record<string, unknown>;
  lastRotatedAt?: number;
  /**
   * When a secret scheduled for deletion goes (DeleteSecret with a recovery window). Until then
   * DescribeSecret shows it (DeletedDate) and RestoreSecret brings it back; every other operation
   * is refused with InvalidRequestException, its value included.
   */
  deletionDate?: number;
  /**
   * The secret's resource-based policy (PutResourcePolicy's JSON), weighed by IAM on the API calls
   * that name the secret. ECR's pull-through cache reads the secret with its own service role, not
   * through this API, so a policy here never stands in ECR's way (a guardrail must exempt that role
   * on AWS).
   */
  resourcePolicy?: string;
}

export type RotationFunction = (event: {
  Step: string;
  SecretId: string;
  ClientRequestToken: string;
  RotationToken: string;
}) => Promise<unknown>;

export interface RotationRecord {
  secretArn: string;
  token: string;
  steps: Array<{ step: string; ok: boolean; error?: string }>;
  succeeded: boolean;
}

const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

export class SecretsManagerSandbox {
  readonly secrets = new Map<string, Secret>();
  readonly rotationFunctions = new Map<string, RotationFunction>();
  private readonly running = new Set<Promise<RotationRecord>>();

  /** Resolves once every rotation started so far has run its steps (tests and the cycle wait on it). */
  async settled(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }
  readonly rotations: RotationRecord[] = [];

  constructor(
    private readonly clock: SandboxClock,
    private readonly region: string,
    private readonly account: string,
  ) {}

  /** A secret an operation may use: one scheduled for deletion is refused, as AWS refuses it. */
  find(secretId: string): Secret {
    const secret = this.findAny(secretId);
    if (secret.deletionDate !== undefined)
      throw new AwsError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    return secret;
  }

  /** The secret, scheduled for deletion or not; one deleted for good (or past its date) is not found. */
  findAny(secretId: string): Secret {
    for (const secret of this.secrets.values()) {
      if (secret.deletionDate !== undefined && secret.deletionDate <= this.clock.now()) continue;
      if (
        secret.name === secretId ||
        secret.arn === secretId ||
        secret.arn.startsWith(`${secretId}-`) ||
        secret.arn === `${secretId}`
      ) {
        return secret;
      }
      if (secretId.startsWith('arn:') && secret.arn.replace(/-[A-Za-z0-9]{6}$/, '') === secretId)
        return secret;
    }
    throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
  }

  /** Direct write used by seeding and tests (no protocol). */
  create(
    name: string,
    value: string,
    options: { kmsKeyId?: string; tags?: Record<string, string> } = {},
  ): Secret {
    const arn = `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${name}-${randomBytes(4).toString('base64url').slice(0, 6).replace(/[-_]/g, 'x')}`;
    const secret: Secret = {
      arn,
      name,
      kmsKeyId: options.kmsKeyId,
      tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      versions: [{ versionId: randomUUID(), value, stages: ['AWSCURRENT'], createdAt: this.clock.now() }],
      createdAt: this.clock.now(),
      rotationEnabled: false,
    };
    this.secrets.set(arn, secret);
    return secret;
  }

  currentValue(secretId: string): string | undefined {
    return this.find(secretId).versions.find((v) => v.stages.includes('AWSCURRENT'))?.value;
  }

  private moveStage(secret: Secret, stage: string, toVersionId: string | undefined) {
    for (const v of secret.versions) {
      if (v.versionId !== toVersionId && v.stages.includes(stage)) {
        v.stages = v.stages.filter((s) => s !== stage);
        if (stage === 'AWSCURRENT') {
          for (const other of secret.versions) other.stages = other.stages.filter((s) => s !== 'AWSPREVIOUS');
          v.stages.push('AWSPREVIOUS');
        }
      }
    }
    const target = secret.versions.find((v) => v.versionId === toVersionId);
    if (target && !target.stages.includes(stage)) target.stages.push(stage);
    // Versions with no label left are deprecated; AWS keeps a bounded number, so do we.
    secret.versions = secret.versions.filter(
      (v) => v.stages.length > 0 || secret.versions.indexOf(v) >= secret.versions.length - 100,
    );
  }

  private describe(secret: Secret) {
    return {
      ARN: secret.arn,
      Name: secret.name,
      Description: secret.description,
      KmsKeyId: secret.kmsKeyId,
      RotationEnabled: secret.rotationEnabled,
      RotationLambdaARN: secret.rotationLambdaArn,
      RotationRules: secret.rotationRules,
      LastRotatedDate: epochSeconds(secret.lastRotatedAt),
      DeletedDate: epochSeconds(secret.deletionDate),
      CreatedDate: epochSeconds(secret.createdAt),
      Tags: secret.tags,
      VersionIdsToStages: Object.fromEntries(
        secret.versions.filter((v) => v.stages.length).map((v) => [v.versionId, v.stages]),
      ),
    };
  }

  async rotate(secret: Secret, token: string): Promise<RotationRecord> {
    const fn = secret.rotationLambdaArn ? this.rotationFunctions.get(secret.rotationLambdaArn) : undefined;
    if (!fn)
      throw new AwsError(
        'InvalidRequestException',
        `no rotation function is reachable at ${secret.rotationLambdaArn ?? '(none set)'}`,
      );
    const record: RotationRecord = { secretArn: secret.arn, token, steps: [], succeeded: false };
    this.rotations.push(record);
    for (const step of STEPS) {
      try {
        await fn({
          Step: step,
          SecretId: secret.arn,
          ClientRequestToken: token,
          RotationToken: randomUUID(),
        });
        record.steps.push({ step, ok: true });
      } catch (error) {
        record.steps.push({ step, ok: false, error: (error as Error).message });
        return record;
      }
    }
    const version = secret.versions.find((v) => v.versionId === token);
    if (version) version.stages = version.stages.filter((s) => s !== 'AWSPENDING');
    secret.lastRotatedAt = this.clock.now();
    record.succeeded = true;
    return record;
  }

  service(): AwsService {
    return {
      targetPrefix: 'secretsmanager',
      name: 'secretsmanager',
      operations: {
        CreateSecret: (input) => {
          const name = requireString(input, 'Name', 'InvalidParameterException');
          if (!/^[\w/+=.@-]{1,512}$/.test(name))
            throw new AwsError('InvalidParameterException', 'Name contains invalid characters');
          const existing = [...this.secrets.values()].find(
            (s) => s.name === name && !(s.deletionDate !== undefined && s.deletionDate <= this.clock.now()),
          );
          if (existing?.deletionDate !== undefined)
            throw new AwsError(
              'InvalidRequestException',
              "You can't create this secret because a secret with this name is already scheduled for deletion.",
            );
          if (existing) {
            throw new AwsError(
              'ResourceExistsException',
              `The operation failed because the secret ${name} already exists.`,
            );
          }
          const value = input.SecretString as string | undefined;
          if (value !== undefined && Buffer.byteLength(value) > 65536)
            throw new AwsError('InvalidParameterException', 'SecretString is larger than 64 KiB');
          const secret = this.create(name, value ?? '', {
            kmsKeyId: input.KmsKeyId as string | undefined,
            tags: Object.fromEntries(
              ((input.Tags as Array<{ Key: string; Value: string }>) ?? []).map((t) => [t.Key, t.Value]),
            ),
          });
          secret.description = input.Description as string | undefined;
          if (input.ClientRequestToken) secret.versions[0]!.versionId = String(input.ClientRequestToken);
          if (value === undefined) secret.versions = [];
          return { ARN: secret.arn, Name: secret.name, VersionId: secret.versions[0]?.versionId };
        },
        DescribeSecret: (input) => this.describe(this.findAny(requireString(input, 'SecretId'))),
        RestoreSecret: (input) => {
          const secret = this.findAny(requireString(input, 'SecretId'));
          secret.deletionDate = undefined;
          return { ARN: secret.arn, Name: secret.name };
        },
        GetSecretValue: (input) => {
          const secret = this.find(requireString(input, 'SecretId'));
          const versionId = input.VersionId as string | undefined;
          const stage = (input.VersionStage as string | undefined) ?? (versionId ? undefined : 'AWSCURRENT');
          const version = secret.versions.find(
            (v) =>
              (versionId === undefined || v.versionId === versionId) &&
              (stage === undefined || v.stages.includes(stage)),
          );
          if (!version || version.value === undefined) {
            throw new AwsError(
              'ResourceNotFoundException',
              "Secrets Manager can't find the specified secret value for staging label or version.",
            );
          }
          return {
            ARN: secret.arn,
            Name: secret.name,
            VersionId: version.versionId,
            SecretString: version.value,
            VersionStages: version.stages,
            CreatedDate: epochSeconds(version.createdAt),
          };
        },
        PutSecretValue: (input) => {
          const secret = this.find(requireString(input, 'SecretId'));
          const value = input.SecretString as string | undefined;
          if (value === undefined)
            throw new AwsError('InvalidParameterException', 'SecretString is required');
          if (Buffer.byteLength(value) > 65536)
            throw new AwsError('InvalidParameterException', 'SecretString is larger than 64 KiB');
          const token = (input.ClientRequestToken as string | undefined) ?? randomUUID();
          const stages = (input.VersionStages as string[] | undefined) ?? ['AWSCURRENT'];
          const existing = secret.versions.find((v) => v.versionId === token);
          if (existing?.value !== undefined) {
            if (existing.value !== value) {
              throw new AwsError(
                'ResourceExistsException',
                'You can’t modify an existing version, you can only create a new version.',
              );
            }
            return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: existing.stages };
          }
          const version = existing ?? { versionId: token, stages: [], createdAt: this.clock.now() };
          version.value = value;
          if (!existing) secret.versions.push(version);
          for (const stage of stages) this.moveStage(secret, stage, token);
          return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: version.stages };
        },
        UpdateSecretVersionStage: (input) => {
          const secret = this.find(requireString(input, 'SecretId'));
          const stage = requireString(input, 'VersionStage');
          const move = input.MoveToVersionId as string | undefined;
          const remove = input.RemoveFromVersionId as string | undefined;
          const holder = secret.versions.find((v) => v.stages.includes(stage));
          if (move && !secret.versions.some((v) => v.versionId === move)) {
            throw new AwsError('InvalidParameterException', `version ${move} does not exist`);
          }
          if (holder && holder.versionId !== move && holder.versionId !== remove) {
            throw new AwsError(
              'InvalidParameterException',
              `The staging label ${stage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
            );
          }
          if (move) this.moveStage(secret, stage, move);
          else if (remove) {
            const v = secret.versions.find((x) => x.versionId === remove);
            if (v) v.stages = v.stages.filter((s) => s !== stage);
          }
          return { ARN: secret.arn, Name: secret.name };
        },
        TagResource: (input) => {
          const secret = this.find(requireString(input, 'SecretId'));
          let tags = secret.tags;
          for (const tag of (input.Tags as Array<{ Key: string; Value: string }>) ?? []) {
            tags = tags.filter((t) => t.Key !== tag.Key).concat([{ Key: tag.Key, Value: tag.Value }]);
          }
          // The TagResource reference: at most 50 tags a secret, those prefixed aws: not counted.
          // (Which exception says so is not documented; the keeper depends on none.)
          if (tags.filter((t) => !t.Key.startsWith('aws:')).length > MAX_TAGS)
            throw new AwsError(
              'InvalidParameterException',
              `A secret can have at most ${MAX_TAGS} tags; this one would have ${tags.length}.`,
            );
          secret.tags = tags;
          return {};
        },
        UntagResource: (input) => {
          const secret = this.find(requireString(input, 'SecretId'));
          const keys = new Set((input.TagKeys as string[]) ?? []);
          secret.tags = secret.tags.filter((t) => !keys.has(t.Key));
          return {};
        },
        ListSecretVersionIds: (input) => {
          const secret = this.find(requireString(input, 'SecretId'));
          return {
            ARN: secret.arn,
            Name: secret.name,
            Versions: secret.versions.map((v) => ({
              VersionId: v.versionId,
              VersionStages: v.stages,
              CreatedDate: epochSeconds(v.createdAt),
            })),
          };
        },
        DeleteSecret: (input) => {
          const force = input.ForceDeleteWithoutRecovery === true;
          if (force && input.RecoveryWindowInDays !== undefined)
            throw new AwsError(
              'InvalidParameterException',
              "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
            );
          const secretId = requireString(input, 'SecretId');
          const secret = force ? this.findAny(secretId) : this.find(secretId);
          const days = Number(input.RecoveryWindowInDays ?? 30);
          const deletionDate = force ? this.clock.now() : this.clock.now() + days * 86_400_000;
          if (force) this.secrets.delete(secret.arn);
          else secret.deletionDate = deletionDate;
          return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(deletionDate) };
        },
        RotateSecret: async (input) => {
          const secret = this.find(requireString(input, 'SecretId'));
          if (input.RotationLambdaARN) secret.rotationLambdaArn = String(input.RotationLambdaARN);
          if (input.RotationRules) secret.rotationRules = input.RotationRules as Record<string, unknown>;
          if (!secret.rotationLambdaArn)
            throw new AwsError('InvalidRequestException', 'the secret has no rotation function');
          secret.rotationEnabled = true;
          const token = (input.ClientRequestToken as string | undefined) ?? randomUUID();
          const pending = secret.versions.find(
            (v) => v.stages.includes('AWSPENDING') && !v.stages.includes('AWSCURRENT'),
          );
          if (pending && pending.versionId !== token) {
            throw new AwsError(
              'InvalidRequestException',
              `A previous rotation isn't complete. That rotation will be reattempted (version ${pending.versionId}).`,
            );
          }
          // The function must be reachable to start; what its steps do is reported afterwards.
          if (input.RotateImmediately !== false && !this.rotationFunctions.has(secret.rotationLambdaArn))
            throw new AwsError(
              'InvalidRequestException',
              `no rotation function is reachable at ${secret.rotationLambdaArn}`,
            );
          // AWS creates the AWSPENDING version (with no value yet) before calling createSecret.
          if (!secret.versions.some((v) => v.versionId === token)) {
            secret.versions.push({ versionId: token, stages: [], createdAt: this.clock.now() });
            this.moveStage(secret, 'AWSPENDING', token);
          }
          // As on AWS, RotateSecret only starts the rotation: the function's steps run after the answer.
          if (input.RotateImmediately !== false) {
            const running: Promise<RotationRecord> = this.rotate(secret, token)
              .catch((error: unknown) => ({
                secretArn: secret.arn,
                token,
                steps: [{ step: 'createSecret' as const, ok: false, error: (error as Error).message }],
                succeeded: false,
              }))
              .finally(() => this.running.delete(running));
            this.running.add(running);
          }
          return { ARN: secret.arn, Name: secret.name, VersionId: token };
        },
        CancelRotateSecret: (input) => {
          const secret = this.find(requireString(input, 'SecretId'));
          secret.rotationEnabled = false;
          return { ARN: secret.arn, Name: secret.name };
        },
      },
    };
  }
}
