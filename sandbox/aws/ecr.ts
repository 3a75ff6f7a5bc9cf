/**
 * ECR stand-in, API side: pull-through cache rules, repository creation templates, repositories,
 * images, lifecycle policies, tags, authorization tokens and pull-time update exclusions, with the
 * validation and error names (as the ECR user guide documents it). The operations are in ecr-api.ts; the registry side
 * (pulls) is in registry/ecr-registry.ts.
 */

import type { SandboxClock } from '../clock.js';
import type { IamDirectory } from '../iam/directory.js';
import { type PolicyDocument, wildcardMatch } from '../iam/policy.js';
import { INDEX_TYPES, type StoredManifest } from '../registry/content.js';
import { type LifecycleOutcome, runLifecyclePolicy } from './lifecycle.js';
import { AwsError, epochSeconds } from './protocol.js';
import type { SecretsManagerSandbox } from './secrets.js';

export const UPSTREAM_REGISTRY_BY_URL: Array<[RegExp, string, 'secret' | 'role' | 'none']> = [
  [/^registry-1\.docker\.io$/, 'docker-hub', 'secret'],
  [/^public\.ecr\.aws$/, 'ecr-public', 'none'],
  [/^quay\.io$/, 'quay', 'none'],
  [/^registry\.k8s\.io$/, 'k8s', 'none'],
  [/^ghcr\.io$/, 'github-container-registry', 'secret'],
  [/^registry\.gitlab\.com$/, 'gitlab-container-registry', 'secret'],
  [/^[a-z0-9]+\.azurecr\.io$/, 'azure-container-registry', 'secret'],
  [/^cgr\.dev$/, 'chainguard', 'secret'],
  [/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$/, 'ecr', 'role'],
];

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

export interface Rule {
  ecrRepositoryPrefix: string;
  upstreamRegistryUrl: string;
  upstreamRegistry: string;
  upstreamRepositoryPrefix: string;
  credentialArn?: string;
  customRoleArn?: string;
  createdAt: number;
  updatedAt: number;
}

export interface Template {
  prefix: string;
  description?: string;
  encryptionConfiguration?: { encryptionType: string; kmsKey?: string };
  resourceTags: Array<{ Key: string; Value: string }>;
  imageTagMutability: string;
  imageTagMutabilityExclusionFilters?: Array<{ filterType: string; filter: string }>;
  repositoryPolicy?: string;
  lifecyclePolicy?: string;
  appliedFor: string[];
  customRoleArn?: string;
  createdAt: number;
  updatedAt: number;
}

export interface CachedImage {
  digest: string;
  manifest: StoredManifest;
  size: number;
  pushedAt: number;
  lastRecordedPullTime?: number;
  storageClass: 'STANDARD' | 'ARCHIVE';
}

export interface Repository {
  name: string;
  arn: string;
  createdAt: number;
  imageTagMutability: string;
  imageTagMutabilityExclusionFilters?: Array<{ filterType: string; filter: string }>;
  encryption: { encryptionType: string; kmsKey?: string };
  tags: Array<{ Key: string; Value: string }>;
  lifecyclePolicy?: string;
  repositoryPolicy?: string;
  images: Map<string, CachedImage>;
  tagToDigest: Map<string, string>;
  /** When each tag was last checked against upstream (ECR's 24-hour window). */
  tagCheckedAt: Map<string, number>;
  /** Blobs imported into this repository. */
  blobs: Set<string>;
  /** Set for repositories the pull-through cache created. */
  createdByRule?: string;
}

/** The actions ECR enforces in a registry policy (the ECR guide, "Private registry permissions"). */
export const REGISTRY_POLICY_ACTIONS = [
  'ecr:ReplicateImage',
  'ecr:BatchImportUpstreamImage',
  'ecr:CreateRepository',
];

/** A policy's text as a document with a list of statements (IAM allows a lone statement object). */
export function policyDocument(text: string): PolicyDocument {
  const doc = JSON.parse(text) as { Statement?: unknown };
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  if (statements.length === 0 || statements.some((s) => !s || typeof s !== 'object'))
    throw new Error('a policy needs statements');
  return { Statement: statements as PolicyDocument['Statement'] };
}

export interface AuthToken {
  password: string;
  principalArn: string;
  /** Whose token it is: registry requests are authorized as this caller. */
  accessKeyId: string;
  expiresAt: number;
}

/** ECR's service-linked roles, created on first use by the caller (who needs iam:CreateServiceLinkedRole). */
export const SERVICE_LINKED_ROLES = {
  pullThroughCache: {
    service: 'pullthroughcache.ecr.amazonaws.com',
    name: 'AWSServiceRoleForECRPullThroughCache',
    // What its managed policy grants that the sandbox weighs: reading the credential secrets.
    policy: {
      Statement: [
        {
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: 'arn:aws:secretsmanager:*:*:secret:ecr-pullthroughcache/*',
        },
      ],
    } as PolicyDocument,
  },
  templates: { service: 'ecr.amazonaws.com', name: 'AWSServiceRoleForECRTemplate' },
} as const;

export class EcrState {
  readonly rules = new Map<string, Rule>();
  readonly templates = new Map<string, Template>();
  readonly repositories = new Map<string, Repository>();
  readonly exclusions = new Set<string>();
  readonly authTokens = new Map<string, AuthToken>();
  /** Write operations received, by name (tests assert a no-drift reconcile makes none). */
  readonly writeCalls: string[] = [];
  /** Calls received, by operation name (benchmarks compare them with the minimum). */
  readonly calls = new Map<string, number>();
  registryUrl = '';
  /** Maps access key ids to principal ARNs (which role a caller is). */
  readonly principals = new Map<string, string>();
  /** The sandbox's IAM, for the checks ECR makes beyond the called action itself. */
  iam?: IamDirectory;
  /** Which rules may carry an upstreamRepositoryPrefix (see SandboxOptions.upstreamPrefixScope). */
  upstreamPrefixScope: 'ecr-only' | 'any' = 'ecr-only';
  /** ECR's service-linked roles that exist in the account (none in a new one). */
  readonly serviceLinkedRoles = new Set<string>();
  /** The registry's permissions policy (PutRegistryPolicy), if any. */
  registryPolicy?: string;

  /**
   * Creates ECR's service-linked role on first use, as the caller: AWS refuses the whole call when
   * the caller may not create it.
   */
  ensureServiceLinkedRole(
    accessKeyId: string,
    role: (typeof SERVICE_LINKED_ROLES)[keyof typeof SERVICE_LINKED_ROLES],
  ): void {
    if (this.serviceLinkedRoles.has(role.service)) return;
    this.iam?.authorize(accessKeyId, {
      action: 'iam:CreateServiceLinkedRole',
      resource: `arn:aws:iam::${this.account}:role/aws-service-role/${role.service}/${role.name}`,
      context: { 'iam:AWSServiceName': role.service },
    });
    this.serviceLinkedRoles.add(role.service);
  }

  constructor(
    readonly clock: SandboxClock,
    readonly region: string,
    readonly account: string,
    readonly secrets: SecretsManagerSandbox,
  ) {}

  get registryHost(): string {
    return `${this.account}.dkr.ecr.${this.region}.amazonaws.com`;
  }

  /** The rule whose prefix a repository name falls under (longest prefix wins; ROOT last). */
  ruleFor(repositoryName: string): Rule | undefined {
    let best: Rule | undefined;
    for (const rule of this.rules.values()) {
      if (rule.ecrRepositoryPrefix === 'ROOT') {
        best ??= rule;
        continue;
      }
      if (repositoryName.startsWith(`${rule.ecrRepositoryPrefix}/`)) {
        if (
          !best ||
          best.ecrRepositoryPrefix === 'ROOT' ||
          rule.ecrRepositoryPrefix.length > best.ecrRepositoryPrefix.length
        )
          best = rule;
      }
    }
    return best;
  }

  templateFor(repositoryName: string, appliedFor: string): Template | undefined {
    let best: Template | undefined;
    for (const t of this.templates.values()) {
      if (!t.appliedFor.includes(appliedFor)) continue;
      if (t.prefix === 'ROOT') {
        best ??= t;
      } else if (
        repositoryName.startsWith(`${t.prefix}/`) &&
        (!best || best.prefix === 'ROOT' || t.prefix.length > best.prefix.length)
      ) {
        best = t;
      }
    }
    return best;
  }

  createRepository(
    name: string,
    options: { createdByRule?: string; fromTemplate?: Template } = {},
  ): Repository {
    const t = options.fromTemplate;
    const repo: Repository = {
      name,
      arn: `arn:aws:ecr:${this.region}:${this.account}:repository/${name}`,
      createdAt: this.clock.now(),
      imageTagMutability: t?.imageTagMutability ?? 'MUTABLE',
      ...(t?.imageTagMutabilityExclusionFilters
        ? { imageTagMutabilityExclusionFilters: t.imageTagMutabilityExclusionFilters }
        : {}),
      encryption: t?.encryptionConfiguration ?? { encryptionType: 'AES256' },
      tags: [...(t?.resourceTags ?? [])],
      lifecyclePolicy: t?.lifecyclePolicy,
      repositoryPolicy: t?.repositoryPolicy,
      images: new Map(),
      tagToDigest: new Map(),
      tagCheckedAt: new Map(),
      blobs: new Set(),
      createdByRule: options.createdByRule,
    };
    this.repositories.set(name, repo);
    return repo;
  }

  /**
   * The resource-based policies IAM weighs for `action` on a repository: its repository policy
   * (for one the cache has yet to create, the policy its creation template will give it: inferred,
   * as ECR creates the repository before serving it), and the registry policy for the actions ECR
   * enforces at the registry level.
   */
  resourcePoliciesFor(repositoryName: string, action: string): PolicyDocument[] {
    const repositoryPolicy =
      this.repositories.get(repositoryName)?.repositoryPolicy ??
      (this.repositories.has(repositoryName)
        ? undefined
        : this.templateFor(repositoryName, 'PULL_THROUGH_CACHE')?.repositoryPolicy);
    const texts = [repositoryPolicy];
    if (REGISTRY_POLICY_ACTIONS.includes(action)) texts.push(this.registryPolicy);
    return texts.filter((t): t is string => t !== undefined).map(policyDocument);
  }

  /** The policy of an existing repository, for IAM to weigh on the API calls that name it. */
  repositoryPolicies(repositoryName: string): PolicyDocument[] {
    const text = this.repositories.get(repositoryName)?.repositoryPolicy;
    return text === undefined ? [] : [policyDocument(text)];
  }

  /**
   * A resource-based policy as ECR takes it: JSON with statements, each with an Effect, a Principal
   * and an Action. In a registry policy, only the actions ECR enforces at the registry level (the
   * ECR guide: any other is an error) on repositories of this registry.
   */
  validateResourcePolicy(text: unknown, kind: 'registry' | 'repository'): string {
    const invalid = () =>
      new AwsError(
        'InvalidParameterException',
        `Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid ${kind} policy provided'`,
      );
    if (typeof text !== 'string') throw invalid();
    let doc: PolicyDocument;
    try {
      doc = policyDocument(text);
    } catch {
      throw invalid();
    }
    for (const statement of doc.Statement) {
      if (!['Allow', 'Deny'].includes(statement.Effect) || !statement.Principal || !statement.Action)
        throw invalid();
      const p = statement.Principal;
      if (p !== '*' && (typeof p !== 'object' || Object.keys(p).some((k) => k !== 'AWS' && k !== 'Service')))
        throw invalid();
      if ('NotPrincipal' in statement || 'NotAction' in statement) throw invalid();
      if (kind === 'registry') {
        const actions = [statement.Action].flat();
        if (actions.some((a) => a !== 'ecr:*' && !REGISTRY_POLICY_ACTIONS.includes(a))) throw invalid();
        const resources = [statement.Resource ?? []].flat();
        const own = `arn:aws:ecr:${this.region}:${this.account}:repository/`;
        if (resources.length === 0 || resources.some((r) => !r.startsWith(own))) throw invalid();
      }
    }
    return text;
  }

  /**
   * Whether a tag of the repository is immutable (ECR's imageTagMutability with its exclusion
   * filters): ECR does not move such a tag, and so does not refresh it from upstream either.
   */
  tagImmutable(repo: Repository, tag: string): boolean {
    // Tags hold no `?`: IAM's wildcards are the filters' own (`*`).
    const matches = (repo.imageTagMutabilityExclusionFilters ?? []).some((f) => wildcardMatch(f.filter, tag));
    switch (repo.imageTagMutability) {
      case 'IMMUTABLE':
        return true;
      case 'IMMUTABLE_WITH_EXCLUSION':
        return !matches;
      case 'MUTABLE_WITH_EXCLUSION':
        return matches;
      default:
        return false;
    }
  }

  /**
   * Runs every repository's lifecycle policy once, as ECR does on its own schedule (lifecycle.ts);
   * returns what each expired and archived.
   */
  runLifecyclePolicies(): Map<string, LifecycleOutcome> {
    const outcomes = new Map<string, LifecycleOutcome>();
    for (const repo of this.repositories.values())
      if (repo.lifecyclePolicy) outcomes.set(repo.name, runLifecyclePolicy(repo, this.clock.now()));
    return outcomes;
  }

  /** Stored size: config + layers for an image; for a manifest list, the largest child (never the sum). */
  imageSize(repo: Repository, manifest: StoredManifest): number {
    const doc = JSON.parse(manifest.bytes.toString('utf8'));
    if (INDEX_TYPES.has(manifest.mediaType)) {
      return Math.max(
        0,
        ...doc.manifests.map((m: { digest: string }) => repo.images.get(m.digest)?.size ?? 0),
      );
    }
    return (
      (doc.config?.size ?? 0) + (doc.layers ?? []).reduce((s: number, l: { size: number }) => s + l.size, 0)
    );
  }

  repo(name: unknown): Repository {
    const repo = typeof name === 'string' ? this.repositories.get(name) : undefined;
    if (!repo) {
      throw new AwsError(
        'RepositoryNotFoundException',
        `The repository with name '${String(name)}' does not exist in the registry with id '${this.account}'`,
      );
    }
    return repo;
  }

  ruleOut(rule: Rule) {
    return {
      ecrRepositoryPrefix: rule.ecrRepositoryPrefix,
      upstreamRegistryUrl: rule.upstreamRegistryUrl,
      upstreamRegistry: rule.upstreamRegistry,
      upstreamRepositoryPrefix: rule.upstreamRepositoryPrefix,
      credentialArn: rule.credentialArn,
      customRoleArn: rule.customRoleArn,
      registryId: this.account,
      createdAt: epochSeconds(rule.createdAt),
      updatedAt: epochSeconds(rule.updatedAt),
    };
  }

  templateOut(t: Template) {
    return {
      prefix: t.prefix,
      description: t.description,
      encryptionConfiguration: t.encryptionConfiguration,
      resourceTags: t.resourceTags,
      imageTagMutability: t.imageTagMutability,
      imageTagMutabilityExclusionFilters: t.imageTagMutabilityExclusionFilters,
      repositoryPolicy: t.repositoryPolicy,
      lifecyclePolicy: t.lifecyclePolicy,
      appliedFor: t.appliedFor,
      customRoleArn: t.customRoleArn,
      createdAt: epochSeconds(t.createdAt),
      updatedAt: epochSeconds(t.updatedAt),
    };
  }

  checkCredential(credentialArn: string) {
    let secret: ReturnType<SecretsManagerSandbox['find']>;
    try {
      secret = this.secrets.find(credentialArn);
    } catch {
      throw new AwsError(
        'SecretNotFoundException',
        `The specified secret '${credentialArn}' could not be found.`,
      );
    }
    if (!secret.name.startsWith('ecr-pullthroughcache/')) {
      throw new AwsError(
        'InvalidParameterException',
        "The secret name must start with 'ecr-pullthroughcache/'.",
      );
    }
    if (secret.kmsKeyId && !/alias\/aws\/secretsmanager$/.test(secret.kmsKeyId)) {
      throw new AwsError(
        'UnableToDecryptSecretValueException',
        'The secret is encrypted with a customer managed key, which ECR cannot decrypt.',
      );
    }
  }

  validatePolicyText(text: unknown, what: string, max: number): string {
    if (typeof text !== 'string') throw new AwsError('InvalidParameterException', `${what} is required`);
    if (text.length > max)
      throw new AwsError('InvalidParameterException', `${what} is longer than ${max} characters`);
    try {
      JSON.parse(text);
    } catch {
      throw new AwsError(
        'InvalidParameterException',
        `Invalid parameter at '${what}' failed to satisfy constraint: 'Lifecycle policy validation failure: Could not map policyString into LifecyclePolicy.'`,
      );
    }
    return text;
  }

  validateLifecycle(text: unknown): string {
    const policy = this.validatePolicyText(text, 'lifecyclePolicyText', 30720);
    if (policy.length < 100) {
      throw new AwsError(
        'InvalidParameterException',
        "Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'Member must have length greater than or equal to 100'",
      );
    }
    const rules = JSON.parse(policy).rules;
    if (!Array.isArray(rules) || rules.length === 0 || rules.length > 50) {
      throw new AwsError(
        'InvalidParameterException',
        'Lifecycle policy validation failure: rules must hold 1 to 50 rules',
      );
    }
    return policy;
  }

  record(name: string, write: boolean) {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    if (write) this.writeCalls.push(name);
  }

  validateTemplateInput(input: Record<string, unknown>) {
    const tags = (input.resourceTags as Template['resourceTags'] | undefined) ?? [];
    const enc = input.encryptionConfiguration as Template['encryptionConfiguration'] | undefined;
    if ((tags.length > 0 || enc?.encryptionType === 'KMS') && !input.customRoleArn) {
      throw new AwsError(
        'InvalidParameterException',
        'A custom role is required when the template sets resource tags or KMS encryption.',
      );
    }
    if (input.customRoleArn !== undefined && !ROLE_ARN.test(String(input.customRoleArn))) {
      throw new AwsError('InvalidParameterException', 'customRoleArn is not a valid IAM role ARN');
    }
    const mutability = (input.imageTagMutability as string | undefined) ?? 'MUTABLE';
    if (
      !['MUTABLE', 'IMMUTABLE', 'MUTABLE_WITH_EXCLUSION', 'IMMUTABLE_WITH_EXCLUSION'].includes(mutability)
    ) {
      throw new AwsError('ValidationException', `imageTagMutability '${mutability}' is not valid`);
    }
    const applied = input.appliedFor as string[] | undefined;
    if (
      !Array.isArray(applied) ||
      applied.length === 0 ||
      applied.some((a) => !['PULL_THROUGH_CACHE', 'REPLICATION', 'CREATE_ON_PUSH'].includes(a))
    ) {
      throw new AwsError(
        'InvalidParameterException',
        'appliedFor must list PULL_THROUGH_CACHE, REPLICATION and/or CREATE_ON_PUSH',
      );
    }
    if (input.description !== undefined && String(input.description).length > 256) {
      throw new AwsError('ValidationException', 'description is longer than 256 characters');
    }
    if (input.lifecyclePolicy !== undefined) this.validateLifecycle(input.lifecyclePolicy);
    if (input.repositoryPolicy !== undefined) {
      if (typeof input.repositoryPolicy === 'string' && input.repositoryPolicy.length > 10240)
        throw new AwsError('InvalidParameterException', 'repositoryPolicy is longer than 10240 characters');
      this.validateResourcePolicy(input.repositoryPolicy, 'repository');
    }
    return { tags, enc, mutability, applied };
  }

  /** Set by the registry side: logs in to the rule's upstream with its secret (undefined = valid). */
  validateUpstream: (rule: Rule) => Promise<string | undefined> = async () =>
    'upstream validation is not wired';

  tagsOf(repo: Repository, digest: string): string[] {
    return [...repo.tagToDigest.entries()].filter(([, d]) => d === digest).map(([t]) => t);
  }

  repoByArn(arn: unknown): Repository {
    const repo = [...this.repositories.values()].find((r) => r.arn === arn);
    if (!repo)
      throw new AwsError(
        'InvalidParameterException',
        `Invalid parameter at 'resourceArn': repository '${String(arn)}' not found`,
      );
    return repo;
  }

  repositoryOut(repo: Repository) {
    return {
      repositoryArn: repo.arn,
      registryId: this.account,
      repositoryName: repo.name,
      repositoryUri: `${this.registryHost}/${repo.name}`,
      createdAt: epochSeconds(repo.createdAt),
      imageTagMutability: repo.imageTagMutability,
      imageScanningConfiguration: { scanOnPush: false },
      encryptionConfiguration: repo.encryption,
    };
  }

  imageOut(repo: Repository, image: CachedImage) {
    const tags = this.tagsOf(repo, image.digest);
    return {
      registryId: this.account,
      repositoryName: repo.name,
      imageDigest: image.digest,
      ...(tags.length ? { imageTags: tags } : {}),
      imageSizeInBytes: image.size,
      imagePushedAt: epochSeconds(image.pushedAt),
      lastRecordedPullTime: epochSeconds(image.lastRecordedPullTime),
      imageManifestMediaType: image.manifest.mediaType,
      imageStatus: image.storageClass === 'ARCHIVE' ? 'ARCHIVED' : 'ACTIVE',
    };
  }
}
