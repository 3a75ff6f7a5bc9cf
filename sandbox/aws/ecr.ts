/**
 * ECR stand-in, API side: pull-through cache rules, repository creation templates, repositories,
 * images, lifecycle policies, tags, authorization tokens and pull-time update exclusions, with the
 * validation and error names of facts-ecr.md. The registry side (pulls) is in registry/ecr-registry.ts.
 */
import { randomBytes } from 'node:crypto';
import type { SandboxClock } from '../clock.js';
import { INDEX_TYPES, type StoredManifest } from '../registry/content.js';
import { AwsError, type AwsService, epochSeconds, paginate, requireString } from './protocol.js';
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

const PREFIX = /^(?:[a-z0-9]+(?:(?:[._-]|__)[a-z0-9]+)*\/)*[a-z0-9]+(?:(?:[._-]|__)[a-z0-9]+)*$/;
const REPO_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;

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

export interface AuthToken {
  password: string;
  principalArn: string;
  expiresAt: number;
}

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

  constructor(
    private readonly clock: SandboxClock,
    readonly region: string,
    readonly account: string,
    private readonly secrets: SecretsManagerSandbox,
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

  private repo(name: unknown): Repository {
    const repo = typeof name === 'string' ? this.repositories.get(name) : undefined;
    if (!repo) {
      throw new AwsError(
        'RepositoryNotFoundException',
        `The repository with name '${String(name)}' does not exist in the registry with id '${this.account}'`,
      );
    }
    return repo;
  }

  private ruleOut(rule: Rule) {
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

  private templateOut(t: Template) {
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

  private checkCredential(credentialArn: string) {
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

  private validatePolicyText(text: unknown, what: string, max: number): string {
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

  private validateLifecycle(text: unknown): string {
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

  private record(name: string, write: boolean) {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    if (write) this.writeCalls.push(name);
  }

  private validateTemplateInput(input: Record<string, unknown>) {
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
    if (input.repositoryPolicy !== undefined)
      this.validatePolicyText(input.repositoryPolicy, 'repositoryPolicy', 10240);
    return { tags, enc, mutability, applied };
  }

  service(): AwsService {
    const op = (
      name: string,
      write: boolean,
      fn: (input: Record<string, unknown>, call: { accessKeyId: string }) => unknown,
    ) => ({
      [name]: (input: Record<string, unknown>, call: { accessKeyId: string }) => {
        this.record(name, write);
        return fn(input, call);
      },
    });
    return {
      targetPrefix: 'AmazonEC2ContainerRegistry_V20150921',
      name: 'ecr',
      operations: {
        ...op('CreatePullThroughCacheRule', true, (input) => {
          const prefix = requireString(input, 'ecrRepositoryPrefix', 'InvalidParameterException');
          if (prefix !== 'ROOT' && (prefix.length < 2 || prefix.length > 30 || !PREFIX.test(prefix))) {
            throw new AwsError(
              'ValidationException',
              `Invalid parameter at 'ecrRepositoryPrefix' failed to satisfy constraint: 'must satisfy regular expression pattern and length 2-30'`,
            );
          }
          const url = requireString(input, 'upstreamRegistryUrl', 'InvalidParameterException');
          const known = UPSTREAM_REGISTRY_BY_URL.find(([re]) => re.test(url));
          if (!known)
            throw new AwsError(
              'UnsupportedUpstreamRegistryException',
              `The upstream registry '${url}' is not supported.`,
            );
          const [, upstreamRegistry, auth] = known;
          if (input.upstreamRegistry !== undefined && input.upstreamRegistry !== upstreamRegistry) {
            throw new AwsError(
              'InvalidParameterException',
              `upstreamRegistry '${String(input.upstreamRegistry)}' does not match ${url}`,
            );
          }
          if (this.rules.has(prefix)) {
            throw new AwsError(
              'PullThroughCacheRuleAlreadyExistsException',
              `A pull through cache rule with prefix '${prefix}' already exists.`,
            );
          }
          if (this.rules.size >= 50)
            throw new AwsError(
              'LimitExceededException',
              'The maximum of 50 pull through cache rules per registry has been reached.',
            );
          const credentialArn = input.credentialArn as string | undefined;
          if (auth === 'secret' && !credentialArn) {
            throw new AwsError(
              'UnsupportedUpstreamRegistryException',
              `The upstream registry '${url}' requires authentication: a credentialArn is needed.`,
            );
          }
          if (auth !== 'secret' && credentialArn)
            throw new AwsError(
              'InvalidParameterException',
              `The upstream registry '${url}' does not take a credential.`,
            );
          if (auth === 'role' && !input.customRoleArn)
            throw new AwsError('InvalidParameterException', 'An ECR upstream needs customRoleArn.');
          if (credentialArn) this.checkCredential(credentialArn);
          const upstreamPrefix = (input.upstreamRepositoryPrefix as string | undefined) ?? 'ROOT';
          if (upstreamPrefix !== 'ROOT' && prefix === 'ROOT') {
            throw new AwsError(
              'InvalidParameterException',
              'upstreamRepositoryPrefix can only be set when ecrRepositoryPrefix is not ROOT.',
            );
          }
          const now = this.clock.now();
          const rule: Rule = {
            ecrRepositoryPrefix: prefix,
            upstreamRegistryUrl: url,
            upstreamRegistry,
            upstreamRepositoryPrefix: upstreamPrefix,
            credentialArn: credentialArn ? this.secrets.find(credentialArn).arn : undefined,
            customRoleArn: input.customRoleArn as string | undefined,
            createdAt: now,
            updatedAt: now,
          };
          this.rules.set(prefix, rule);
          return this.ruleOut(rule);
        }),
        ...op('DescribePullThroughCacheRules', false, (input) => {
          const wanted = input.ecrRepositoryPrefixes as string[] | undefined;
          let rules = [...this.rules.values()].sort((a, b) =>
            a.ecrRepositoryPrefix.localeCompare(b.ecrRepositoryPrefix),
          );
          if (wanted) {
            for (const p of wanted) {
              if (!this.rules.has(p))
                throw new AwsError(
                  'PullThroughCacheRuleNotFoundException',
                  `The pull through cache rule with prefix '${p}' does not exist.`,
                );
            }
            rules = rules.filter((r) => wanted.includes(r.ecrRepositoryPrefix));
          }
          const { page, nextToken } = paginate(rules, input);
          return { pullThroughCacheRules: page.map((r) => this.ruleOut(r)), nextToken };
        }),
        ...op('UpdatePullThroughCacheRule', true, (input) => {
          const prefix = requireString(input, 'ecrRepositoryPrefix');
          const rule = this.rules.get(prefix);
          if (!rule)
            throw new AwsError(
              'PullThroughCacheRuleNotFoundException',
              `The pull through cache rule with prefix '${prefix}' does not exist.`,
            );
          const credentialArn = input.credentialArn as string | undefined;
          if (credentialArn) {
            this.checkCredential(credentialArn);
            rule.credentialArn = this.secrets.find(credentialArn).arn;
          }
          if (input.customRoleArn) rule.customRoleArn = String(input.customRoleArn);
          if (!credentialArn && !input.customRoleArn)
            throw new AwsError('InvalidParameterException', 'Give credentialArn or customRoleArn to update.');
          rule.updatedAt = this.clock.now();
          return { ...this.ruleOut(rule), updatedAt: epochSeconds(rule.updatedAt) };
        }),
        ...op('DeletePullThroughCacheRule', true, (input) => {
          const prefix = requireString(input, 'ecrRepositoryPrefix');
          const rule = this.rules.get(prefix);
          if (!rule)
            throw new AwsError(
              'PullThroughCacheRuleNotFoundException',
              `The pull through cache rule with prefix '${prefix}' does not exist.`,
            );
          this.rules.delete(prefix);
          return this.ruleOut(rule);
        }),
        ...op('ValidatePullThroughCacheRule', false, async (input) => {
          const prefix = requireString(input, 'ecrRepositoryPrefix');
          const rule = this.rules.get(prefix);
          if (!rule)
            throw new AwsError(
              'PullThroughCacheRuleNotFoundException',
              `The pull through cache rule with prefix '${prefix}' does not exist.`,
            );
          const failure = await this.validateUpstream(rule);
          return { ...this.ruleOut(rule), isValid: failure === undefined, failure };
        }),
        ...op('CreateRepositoryCreationTemplate', true, (input) => {
          const prefix = requireString(input, 'prefix');
          if (prefix !== 'ROOT' && (prefix.length > 256 || !PREFIX.test(prefix))) {
            throw new AwsError(
              'ValidationException',
              `Invalid parameter at 'prefix' failed to satisfy constraint`,
            );
          }
          if (this.templates.has(prefix))
            throw new AwsError(
              'TemplateAlreadyExistsException',
              `The repository creation template with prefix '${prefix}' already exists.`,
            );
          const { tags, enc, mutability, applied } = this.validateTemplateInput(input);
          const now = this.clock.now();
          const template: Template = {
            prefix,
            description: input.description as string | undefined,
            encryptionConfiguration: enc,
            resourceTags: tags,
            imageTagMutability: mutability,
            imageTagMutabilityExclusionFilters:
              input.imageTagMutabilityExclusionFilters as Template['imageTagMutabilityExclusionFilters'],
            repositoryPolicy: input.repositoryPolicy as string | undefined,
            lifecyclePolicy: input.lifecyclePolicy as string | undefined,
            appliedFor: applied,
            customRoleArn: input.customRoleArn as string | undefined,
            createdAt: now,
            updatedAt: now,
          };
          this.templates.set(prefix, template);
          return { registryId: this.account, repositoryCreationTemplate: this.templateOut(template) };
        }),
        ...op('DescribeRepositoryCreationTemplates', false, (input) => {
          const wanted = input.prefixes as string[] | undefined;
          let list = [...this.templates.values()].sort((a, b) => a.prefix.localeCompare(b.prefix));
          if (wanted?.length) list = list.filter((t) => wanted.includes(t.prefix));
          const { page, nextToken } = paginate(list, input);
          return {
            registryId: this.account,
            repositoryCreationTemplates: page.map((t) => this.templateOut(t)),
            nextToken,
          };
        }),
        ...op('UpdateRepositoryCreationTemplate', true, (input) => {
          const prefix = requireString(input, 'prefix');
          const template = this.templates.get(prefix);
          if (!template)
            throw new AwsError(
              'TemplateNotFoundException',
              `The repository creation template with prefix '${prefix}' does not exist.`,
            );
          const merged = { ...this.templateOut(template), ...input };
          const { tags, enc, mutability, applied } = this.validateTemplateInput(merged);
          Object.assign(template, {
            description: merged.description,
            encryptionConfiguration: enc,
            resourceTags: tags,
            imageTagMutability: mutability,
            imageTagMutabilityExclusionFilters: merged.imageTagMutabilityExclusionFilters,
            repositoryPolicy: merged.repositoryPolicy,
            lifecyclePolicy: merged.lifecyclePolicy,
            appliedFor: applied,
            customRoleArn: merged.customRoleArn,
            updatedAt: this.clock.now(),
          });
          return { registryId: this.account, repositoryCreationTemplate: this.templateOut(template) };
        }),
        ...op('DeleteRepositoryCreationTemplate', true, (input) => {
          const prefix = requireString(input, 'prefix');
          const template = this.templates.get(prefix);
          if (!template)
            throw new AwsError(
              'TemplateNotFoundException',
              `The repository creation template with prefix '${prefix}' does not exist.`,
            );
          this.templates.delete(prefix);
          return { registryId: this.account, repositoryCreationTemplate: this.templateOut(template) };
        }),
        ...op('CreateRepository', true, (input) => {
          const name = requireString(input, 'repositoryName');
          if (name.length < 2 || name.length > 256 || !REPO_NAME.test(name))
            throw new AwsError('InvalidParameterException', `Invalid repository name '${name}'`);
          if (this.repositories.has(name))
            throw new AwsError(
              'RepositoryAlreadyExistsException',
              `The repository with name '${name}' already exists in the registry with id '${this.account}'`,
            );
          const repo = this.createRepository(name, {
            fromTemplate: this.templateFor(name, 'CREATE_ON_PUSH'),
          });
          if (input.imageTagMutability) repo.imageTagMutability = String(input.imageTagMutability);
          repo.tags.push(...((input.tags as Repository['tags']) ?? []));
          return { repository: this.repositoryOut(repo) };
        }),
        ...op('DeleteRepository', true, (input) => {
          const repo = this.repo(input.repositoryName);
          if (repo.images.size > 0 && !input.force)
            throw new AwsError('RepositoryNotEmptyException', `The repository '${repo.name}' is not empty.`);
          this.repositories.delete(repo.name);
          return { repository: this.repositoryOut(repo) };
        }),
        ...op('DescribeRepositories', false, (input) => {
          const names = input.repositoryNames as string[] | undefined;
          let list: Repository[];
          if (names) {
            if (names.length > 100)
              throw new AwsError('InvalidParameterException', 'repositoryNames holds at most 100 names');
            if (input.maxResults !== undefined || input.nextToken !== undefined) {
              throw new AwsError(
                'InvalidParameterException',
                'repositoryNames cannot be combined with maxResults or nextToken',
              );
            }
            list = names.map((n) => this.repo(n));
          } else {
            list = [...this.repositories.values()].sort((a, b) => a.name.localeCompare(b.name));
          }
          const { page, nextToken } = names ? { page: list, nextToken: undefined } : paginate(list, input);
          return { repositories: page.map((r) => this.repositoryOut(r)), nextToken };
        }),
        ...op('DescribeImages', false, (input) => {
          const repo = this.repo(input.repositoryName);
          const ids = input.imageIds as Array<{ imageDigest?: string; imageTag?: string }> | undefined;
          if (ids) {
            if (ids.length > 100)
              throw new AwsError('InvalidParameterException', 'imageIds holds at most 100 ids');
            if (input.maxResults !== undefined || input.nextToken !== undefined) {
              throw new AwsError(
                'InvalidParameterException',
                'imageIds cannot be combined with maxResults or nextToken',
              );
            }
            const details = ids.map((id) => {
              const digest = id.imageDigest ?? (id.imageTag ? repo.tagToDigest.get(id.imageTag) : undefined);
              const image = digest ? repo.images.get(digest) : undefined;
              if (!image) {
                throw new AwsError(
                  'ImageNotFoundException',
                  `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repo.name}' in the registry with id '${this.account}'`,
                );
              }
              return this.imageOut(repo, image);
            });
            return { imageDetails: details };
          }
          const status =
            (input.filter as { tagStatus?: string; imageStatus?: string } | undefined)?.tagStatus ?? 'ANY';
          const imageStatus = (input.filter as { imageStatus?: string } | undefined)?.imageStatus ?? 'ACTIVE';
          const images = [...repo.images.values()].filter((img) => {
            const tagged = this.tagsOf(repo, img.digest).length > 0;
            if (status === 'TAGGED' && !tagged) return false;
            if (status === 'UNTAGGED' && tagged) return false;
            if (imageStatus === 'ANY') return true;
            return imageStatus === 'ARCHIVED'
              ? img.storageClass === 'ARCHIVE'
              : img.storageClass === 'STANDARD';
          });
          const { page, nextToken } = paginate(images, input);
          return { imageDetails: page.map((img) => this.imageOut(repo, img)), nextToken };
        }),
        ...op('BatchGetImage', false, (input) => {
          const repo = this.repo(input.repositoryName);
          const ids = (input.imageIds as Array<{ imageDigest?: string; imageTag?: string }>) ?? [];
          if (ids.length === 0 || ids.length > 100)
            throw new AwsError('InvalidParameterException', 'imageIds must hold 1 to 100 ids');
          const accepted = input.acceptedMediaTypes as string[] | undefined;
          const images: unknown[] = [];
          const failures: unknown[] = [];
          for (const id of ids) {
            const digest = id.imageDigest ?? (id.imageTag ? repo.tagToDigest.get(id.imageTag) : undefined);
            const image = digest ? repo.images.get(digest) : undefined;
            if (!image) {
              failures.push({
                imageId: id,
                failureCode: id.imageTag ? 'ImageTagDoesNotMatchDigest' : 'ImageNotFound',
                failureReason: 'Requested image not found',
              });
              continue;
            }
            if (accepted && !accepted.includes(image.manifest.mediaType)) {
              failures.push({
                imageId: id,
                failureCode: 'UnsupportedImageType',
                failureReason: 'manifest media type not accepted',
              });
              continue;
            }
            images.push({
              registryId: this.account,
              repositoryName: repo.name,
              imageId: { imageDigest: image.digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) },
              imageManifest: image.manifest.bytes.toString('utf8'),
              imageManifestMediaType: image.manifest.mediaType,
            });
          }
          return { images, failures };
        }),
        ...op('BatchCheckLayerAvailability', false, (input) => {
          const repo = this.repo(input.repositoryName);
          const digests = (input.layerDigests as string[]) ?? [];
          if (digests.length === 0 || digests.length > 100)
            throw new AwsError('InvalidParameterException', 'layerDigests must hold 1 to 100 digests');
          return {
            layers: digests
              .filter((d) => repo.blobs.has(d))
              .map((d) => ({ layerDigest: d, layerAvailability: 'AVAILABLE' })),
            failures: digests
              .filter((d) => !repo.blobs.has(d))
              .map((d) => ({
                layerDigest: d,
                failureCode: 'MissingLayerDigest',
                failureReason: 'layer not imported',
              })),
          };
        }),
        ...op('GetLifecyclePolicy', false, (input) => {
          const repo = this.repo(input.repositoryName);
          if (!repo.lifecyclePolicy) {
            throw new AwsError(
              'LifecyclePolicyNotFoundException',
              `Lifecycle policy does not exist for the repository with name '${repo.name}' in the registry with id '${this.account}'`,
            );
          }
          return {
            registryId: this.account,
            repositoryName: repo.name,
            lifecyclePolicyText: repo.lifecyclePolicy,
          };
        }),
        ...op('PutLifecyclePolicy', true, (input) => {
          const repo = this.repo(input.repositoryName);
          repo.lifecyclePolicy = this.validateLifecycle(input.lifecyclePolicyText);
          return {
            registryId: this.account,
            repositoryName: repo.name,
            lifecyclePolicyText: repo.lifecyclePolicy,
          };
        }),
        ...op('DeleteLifecyclePolicy', true, (input) => {
          const repo = this.repo(input.repositoryName);
          if (!repo.lifecyclePolicy)
            throw new AwsError(
              'LifecyclePolicyNotFoundException',
              `Lifecycle policy does not exist for the repository with name '${repo.name}'`,
            );
          const text = repo.lifecyclePolicy;
          repo.lifecyclePolicy = undefined;
          return { registryId: this.account, repositoryName: repo.name, lifecyclePolicyText: text };
        }),
        ...op('ListTagsForResource', false, (input) => ({ tags: this.repoByArn(input.resourceArn).tags })),
        ...op('TagResource', true, (input) => {
          const repo = this.repoByArn(input.resourceArn);
          const tags = (input.tags as Repository['tags']) ?? [];
          if (tags.some((t) => !t.Key || t.Key.startsWith('aws:')))
            throw new AwsError(
              'InvalidTagParameterException',
              'Tag keys must be non-empty and not start with aws:',
            );
          for (const tag of tags) repo.tags = repo.tags.filter((t) => t.Key !== tag.Key).concat([tag]);
          if (repo.tags.length > 50)
            throw new AwsError('TooManyTagsException', 'A repository holds at most 50 tags');
          return {};
        }),
        ...op('UntagResource', true, (input) => {
          const repo = this.repoByArn(input.resourceArn);
          const keys = new Set((input.tagKeys as string[]) ?? []);
          repo.tags = repo.tags.filter((t) => !keys.has(t.Key));
          return {};
        }),
        ...op('GetAuthorizationToken', false, (_input, call) => {
          const password = randomBytes(48).toString('base64url');
          const expiresAt = this.clock.now() + 12 * 3_600_000;
          const principalArn =
            this.principals.get(call.accessKeyId) ?? `arn:aws:iam::${this.account}:user/${call.accessKeyId}`;
          this.authTokens.set(password, { password, principalArn, expiresAt });
          return {
            authorizationData: [
              {
                authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
                expiresAt: epochSeconds(expiresAt),
                proxyEndpoint: this.registryUrl,
              },
            ],
          };
        }),
        ...op('RegisterPullTimeUpdateExclusion', true, (input) => {
          const arn = requireString(input, 'principalArn');
          if (!PRINCIPAL_ARN.test(arn))
            throw new AwsError('InvalidParameterException', `'${arn}' is not an IAM role or user ARN`);
          if (this.exclusions.has(arn))
            throw new AwsError(
              'ExclusionAlreadyExistsException',
              `The principal '${arn}' is already excluded.`,
            );
          if (this.exclusions.size >= 100)
            throw new AwsError(
              'LimitExceededException',
              'At most 100 pull time update exclusions per account.',
            );
          this.exclusions.add(arn);
          return { principalArn: arn, createdAt: epochSeconds(this.clock.now()) };
        }),
        ...op('DeregisterPullTimeUpdateExclusion', true, (input) => {
          const arn = requireString(input, 'principalArn');
          if (!this.exclusions.delete(arn))
            throw new AwsError('ExclusionNotFoundException', `The principal '${arn}' is not excluded.`);
          return { principalArn: arn };
        }),
        ...op('ListPullTimeUpdateExclusions', false, (input) => {
          const { page, nextToken } = paginate([...this.exclusions].sort(), input);
          return { pullTimeUpdateExclusions: page, nextToken };
        }),
      },
    };
  }

  /** Set by the registry side: logs in to the rule's upstream with its secret (undefined = valid). */
  validateUpstream: (rule: Rule) => Promise<string | undefined> = async () =>
    'upstream validation is not wired';

  tagsOf(repo: Repository, digest: string): string[] {
    return [...repo.tagToDigest.entries()].filter(([, d]) => d === digest).map(([t]) => t);
  }

  private repoByArn(arn: unknown): Repository {
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

  private imageOut(repo: Repository, image: CachedImage) {
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
