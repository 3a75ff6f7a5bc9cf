/**
 * The ECR API operations of the sandbox (awsJson1_1, `AmazonEC2ContainerRegistry_V20150921.*`),
 * over the state in ecr.ts, with ECR's validation and error names.
 */
import { randomBytes } from 'node:crypto';
import type { SandboxClock } from '../clock.js';
import {
  type EcrState,
  type Repository,
  type Rule,
  SERVICE_LINKED_ROLES,
  type Template,
  UPSTREAM_REGISTRY_BY_URL,
} from './ecr.js';
import { AwsError, type AwsService, epochSeconds, paginate, requireString } from './protocol.js';

const PREFIX = /^(?:[a-z0-9]+(?:(?:[._-]|__)[a-z0-9]+)*\/)*[a-z0-9]+(?:(?:[._-]|__)[a-z0-9]+)*$/;
const REPO_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;

export function ecrService(state: EcrState, clock: SandboxClock): AwsService {
  /** A stored policy's text, or ECR's not-found exception for it. */
  const stored = (text: string | undefined, exception: string, what: string): string => {
    if (text) return text;
    throw new AwsError(exception, `${what} in the registry with id '${state.account}'`);
  };
  const missingFor = (repo: Repository) => `does not exist for the repository with name '${repo.name}'`;
  const policyOf = (repo: Repository) =>
    stored(repo.lifecyclePolicy, 'LifecyclePolicyNotFoundException', `Lifecycle policy ${missingFor(repo)}`);
  const repositoryPolicyOf = (repo: Repository) =>
    stored(
      repo.repositoryPolicy,
      'RepositoryPolicyNotFoundException',
      `Repository policy ${missingFor(repo)}`,
    );
  const registryPolicyOf = () =>
    stored(state.registryPolicy, 'RegistryPolicyNotFoundException', 'Registry policy does not exist');
  const repositoryOut = (repo: Repository, fields: Record<string, string>) => ({
    registryId: state.account,
    repositoryName: repo.name,
    ...fields,
  });
  const lifecycleOut = (repo: Repository, lifecyclePolicyText: string) =>
    repositoryOut(repo, { lifecyclePolicyText });
  const repositoryPolicyOut = (repo: Repository, policyText: string) => repositoryOut(repo, { policyText });

  /**
   * The ECR guide: whoever creates or updates a creation template must also be allowed to create the
   * repositories it describes and to put their lifecycle policy. Checked on the repositories under the
   * template's prefix (inferred: the guide does not name the resource).
   */
  const authorizeTemplateCreator = (accessKeyId: string, prefix: string, input: Record<string, unknown>) => {
    const resource = `arn:aws:ecr:${state.region}:${state.account}:repository/${prefix === 'ROOT' ? '*' : `${prefix}/*`}`;
    state.iam?.authorize(accessKeyId, { action: 'ecr:CreateRepository', resource });
    if (input.lifecyclePolicy !== undefined)
      state.iam?.authorize(accessKeyId, { action: 'ecr:PutLifecyclePolicy', resource });
    // Inferred the same way: a template that sets a repository policy, its setter must be allowed to.
    if (input.repositoryPolicy !== undefined)
      state.iam?.authorize(accessKeyId, { action: 'ecr:SetRepositoryPolicy', resource });
  };
  const op = (
    name: string,
    write: boolean,
    fn: (input: Record<string, unknown>, call: { accessKeyId: string }) => unknown,
  ) => ({
    [name]: (input: Record<string, unknown>, call: { accessKeyId: string }) => {
      state.record(name, write);
      return fn(input, call);
    },
  });
  return {
    targetPrefix: 'AmazonEC2ContainerRegistry_V20150921',
    name: 'ecr',
    operations: {
      ...op('CreatePullThroughCacheRule', true, (input, call) => {
        const prefix = requireString(input, 'ecrRepositoryPrefix', 'InvalidParameterException');
        state.ensureServiceLinkedRole(call.accessKeyId, SERVICE_LINKED_ROLES.pullThroughCache);
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
        if (state.rules.has(prefix)) {
          throw new AwsError(
            'PullThroughCacheRuleAlreadyExistsException',
            `A pull through cache rule with prefix '${prefix}' already exists.`,
          );
        }
        if (state.rules.size >= 50)
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
        if (credentialArn) state.checkCredential(credentialArn);
        const upstreamPrefix = (input.upstreamRepositoryPrefix as string | undefined) ?? 'ROOT';
        if (upstreamPrefix !== 'ROOT' && prefix === 'ROOT') {
          throw new AwsError(
            'InvalidParameterException',
            'upstreamRepositoryPrefix can only be set when ecrRepositoryPrefix is not ROOT.',
          );
        }
        if (
          upstreamPrefix !== 'ROOT' &&
          upstreamRegistry !== 'ecr' &&
          state.upstreamPrefixScope === 'ecr-only'
        )
          throw new AwsError(
            'InvalidParameterException',
            `upstreamRepositoryPrefix is supported only for Amazon ECR upstream registries, not ${url}.`,
          );
        const now = clock.now();
        const rule: Rule = {
          ecrRepositoryPrefix: prefix,
          upstreamRegistryUrl: url,
          upstreamRegistry,
          upstreamRepositoryPrefix: upstreamPrefix,
          credentialArn: credentialArn ? state.secrets.find(credentialArn).arn : undefined,
          customRoleArn: input.customRoleArn as string | undefined,
          createdAt: now,
          updatedAt: now,
        };
        state.rules.set(prefix, rule);
        return state.ruleOut(rule);
      }),
      ...op('DescribePullThroughCacheRules', false, (input) => {
        const wanted = input.ecrRepositoryPrefixes as string[] | undefined;
        let rules = [...state.rules.values()].sort((a, b) =>
          a.ecrRepositoryPrefix.localeCompare(b.ecrRepositoryPrefix),
        );
        if (wanted) {
          for (const p of wanted) {
            if (!state.rules.has(p))
              throw new AwsError(
                'PullThroughCacheRuleNotFoundException',
                `The pull through cache rule with prefix '${p}' does not exist.`,
              );
          }
          rules = rules.filter((r) => wanted.includes(r.ecrRepositoryPrefix));
        }
        const { page, nextToken } = paginate(rules, input);
        return { pullThroughCacheRules: page.map((r) => state.ruleOut(r)), nextToken };
      }),
      ...op('UpdatePullThroughCacheRule', true, (input) => {
        const prefix = requireString(input, 'ecrRepositoryPrefix');
        const rule = state.rules.get(prefix);
        if (!rule)
          throw new AwsError(
            'PullThroughCacheRuleNotFoundException',
            `The pull through cache rule with prefix '${prefix}' does not exist.`,
          );
        const credentialArn = input.credentialArn as string | undefined;
        if (credentialArn) {
          state.checkCredential(credentialArn);
          rule.credentialArn = state.secrets.find(credentialArn).arn;
        }
        if (input.customRoleArn) rule.customRoleArn = String(input.customRoleArn);
        if (!credentialArn && !input.customRoleArn)
          throw new AwsError('InvalidParameterException', 'Give credentialArn or customRoleArn to update.');
        rule.updatedAt = clock.now();
        return { ...state.ruleOut(rule), updatedAt: epochSeconds(rule.updatedAt) };
      }),
      ...op('DeletePullThroughCacheRule', true, (input) => {
        const prefix = requireString(input, 'ecrRepositoryPrefix');
        const rule = state.rules.get(prefix);
        if (!rule)
          throw new AwsError(
            'PullThroughCacheRuleNotFoundException',
            `The pull through cache rule with prefix '${prefix}' does not exist.`,
          );
        state.rules.delete(prefix);
        return state.ruleOut(rule);
      }),
      ...op('ValidatePullThroughCacheRule', false, async (input) => {
        const prefix = requireString(input, 'ecrRepositoryPrefix');
        const rule = state.rules.get(prefix);
        if (!rule)
          throw new AwsError(
            'PullThroughCacheRuleNotFoundException',
            `The pull through cache rule with prefix '${prefix}' does not exist.`,
          );
        const failure = await state.validateUpstream(rule);
        return { ...state.ruleOut(rule), isValid: failure === undefined, failure };
      }),
      ...op('CreateRepositoryCreationTemplate', true, (input, call) => {
        const prefix = requireString(input, 'prefix');
        authorizeTemplateCreator(call.accessKeyId, prefix, input);
        state.ensureServiceLinkedRole(call.accessKeyId, SERVICE_LINKED_ROLES.templates);
        if (prefix !== 'ROOT' && (prefix.length > 256 || !PREFIX.test(prefix))) {
          throw new AwsError(
            'ValidationException',
            `Invalid parameter at 'prefix' failed to satisfy constraint`,
          );
        }
        if (state.templates.has(prefix))
          throw new AwsError(
            'TemplateAlreadyExistsException',
            `The repository creation template with prefix '${prefix}' already exists.`,
          );
        const { tags, enc, mutability, applied } = state.validateTemplateInput(input);
        const now = clock.now();
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
        state.templates.set(prefix, template);
        return { registryId: state.account, repositoryCreationTemplate: state.templateOut(template) };
      }),
      ...op('DescribeRepositoryCreationTemplates', false, (input) => {
        const wanted = input.prefixes as string[] | undefined;
        let list = [...state.templates.values()].sort((a, b) => a.prefix.localeCompare(b.prefix));
        if (wanted?.length) list = list.filter((t) => wanted.includes(t.prefix));
        const { page, nextToken } = paginate(list, input);
        return {
          registryId: state.account,
          repositoryCreationTemplates: page.map((t) => state.templateOut(t)),
          nextToken,
        };
      }),
      ...op('UpdateRepositoryCreationTemplate', true, (input, call) => {
        const prefix = requireString(input, 'prefix');
        authorizeTemplateCreator(call.accessKeyId, prefix, input);
        const template = state.templates.get(prefix);
        if (!template)
          throw new AwsError(
            'TemplateNotFoundException',
            `The repository creation template with prefix '${prefix}' does not exist.`,
          );
        const merged = { ...state.templateOut(template), ...input };
        const { tags, enc, mutability, applied } = state.validateTemplateInput(merged);
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
          updatedAt: clock.now(),
        });
        return { registryId: state.account, repositoryCreationTemplate: state.templateOut(template) };
      }),
      ...op('DeleteRepositoryCreationTemplate', true, (input) => {
        const prefix = requireString(input, 'prefix');
        const template = state.templates.get(prefix);
        if (!template)
          throw new AwsError(
            'TemplateNotFoundException',
            `The repository creation template with prefix '${prefix}' does not exist.`,
          );
        state.templates.delete(prefix);
        return { registryId: state.account, repositoryCreationTemplate: state.templateOut(template) };
      }),
      ...op('CreateRepository', true, (input) => {
        const name = requireString(input, 'repositoryName');
        if (name.length < 2 || name.length > 256 || !REPO_NAME.test(name))
          throw new AwsError('InvalidParameterException', `Invalid repository name '${name}'`);
        if (state.repositories.has(name))
          throw new AwsError(
            'RepositoryAlreadyExistsException',
            `The repository with name '${name}' already exists in the registry with id '${state.account}'`,
          );
        const repo = state.createRepository(name, {
          fromTemplate: state.templateFor(name, 'CREATE_ON_PUSH'),
        });
        if (input.imageTagMutability) repo.imageTagMutability = String(input.imageTagMutability);
        repo.tags.push(...((input.tags as Repository['tags']) ?? []));
        return { repository: state.repositoryOut(repo) };
      }),
      ...op('DeleteRepository', true, (input) => {
        const repo = state.repo(input.repositoryName);
        if (repo.images.size > 0 && !input.force)
          throw new AwsError('RepositoryNotEmptyException', `The repository '${repo.name}' is not empty.`);
        state.repositories.delete(repo.name);
        return { repository: state.repositoryOut(repo) };
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
          list = names.map((n) => state.repo(n));
        } else {
          list = [...state.repositories.values()].sort((a, b) => a.name.localeCompare(b.name));
        }
        const { page, nextToken } = names ? { page: list, nextToken: undefined } : paginate(list, input);
        return { repositories: page.map((r) => state.repositoryOut(r)), nextToken };
      }),
      ...op('DescribeImages', false, (input) => {
        const repo = state.repo(input.repositoryName);
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
                `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repo.name}' in the registry with id '${state.account}'`,
              );
            }
            return state.imageOut(repo, image);
          });
          return { imageDetails: details };
        }
        const status =
          (input.filter as { tagStatus?: string; imageStatus?: string } | undefined)?.tagStatus ?? 'ANY';
        const imageStatus = (input.filter as { imageStatus?: string } | undefined)?.imageStatus ?? 'ACTIVE';
        const images = [...repo.images.values()].filter((img) => {
          const tagged = state.tagsOf(repo, img.digest).length > 0;
          if (status === 'TAGGED' && !tagged) return false;
          if (status === 'UNTAGGED' && tagged) return false;
          if (imageStatus === 'ANY') return true;
          return imageStatus === 'ARCHIVED'
            ? img.storageClass === 'ARCHIVE'
            : img.storageClass === 'STANDARD';
        });
        const { page, nextToken } = paginate(images, input);
        return { imageDetails: page.map((img) => state.imageOut(repo, img)), nextToken };
      }),
      ...op('BatchGetImage', false, (input) => {
        const repo = state.repo(input.repositoryName);
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
            registryId: state.account,
            repositoryName: repo.name,
            imageId: { imageDigest: image.digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) },
            imageManifest: image.manifest.bytes.toString('utf8'),
            imageManifestMediaType: image.manifest.mediaType,
          });
        }
        return { images, failures };
      }),
      ...op('BatchCheckLayerAvailability', false, (input) => {
        const repo = state.repo(input.repositoryName);
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
        const repo = state.repo(input.repositoryName);
        return lifecycleOut(repo, policyOf(repo));
      }),
      ...op('PutLifecyclePolicy', true, (input) => {
        const repo = state.repo(input.repositoryName);
        repo.lifecyclePolicy = state.validateLifecycle(input.lifecyclePolicyText);
        return lifecycleOut(repo, repo.lifecyclePolicy);
      }),
      ...op('DeleteLifecyclePolicy', true, (input) => {
        const repo = state.repo(input.repositoryName);
        const text = policyOf(repo);
        repo.lifecyclePolicy = undefined;
        return lifecycleOut(repo, text);
      }),
      ...op('DescribeRegistry', false, () => ({
        registryId: state.account,
        replicationConfiguration: { rules: [] },
      })),
      ...op('GetRegistryPolicy', false, () => ({
        registryId: state.account,
        policyText: registryPolicyOf(),
      })),
      ...op('PutRegistryPolicy', true, (input) => {
        state.registryPolicy = state.validateResourcePolicy(input.policyText, 'registry');
        return { registryId: state.account, policyText: state.registryPolicy };
      }),
      ...op('DeleteRegistryPolicy', true, () => {
        const policyText = registryPolicyOf();
        state.registryPolicy = undefined;
        return { registryId: state.account, policyText };
      }),
      ...op('GetRepositoryPolicy', false, (input) => {
        const repo = state.repo(input.repositoryName);
        return repositoryPolicyOut(repo, repositoryPolicyOf(repo));
      }),
      ...op('SetRepositoryPolicy', true, (input) => {
        const repo = state.repo(input.repositoryName);
        repo.repositoryPolicy = state.validateResourcePolicy(input.policyText, 'repository');
        return repositoryPolicyOut(repo, repo.repositoryPolicy);
      }),
      ...op('DeleteRepositoryPolicy', true, (input) => {
        const repo = state.repo(input.repositoryName);
        const policyText = repositoryPolicyOf(repo);
        repo.repositoryPolicy = undefined;
        return repositoryPolicyOut(repo, policyText);
      }),
      ...op('ListTagsForResource', false, (input) => ({ tags: state.repoByArn(input.resourceArn).tags })),
      ...op('TagResource', true, (input) => {
        const repo = state.repoByArn(input.resourceArn);
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
        const repo = state.repoByArn(input.resourceArn);
        const keys = new Set((input.tagKeys as string[]) ?? []);
        repo.tags = repo.tags.filter((t) => !keys.has(t.Key));
        return {};
      }),
      ...op('GetAuthorizationToken', false, (_input, call) => {
        const password = randomBytes(48).toString('base64url');
        const expiresAt = clock.now() + 12 * 3_600_000;
        const principalArn =
          state.principals.get(call.accessKeyId) ?? `arn:aws:iam::${state.account}:user/${call.accessKeyId}`;
        state.authTokens.set(password, { password, principalArn, accessKeyId: call.accessKeyId, expiresAt });
        return {
          authorizationData: [
            {
              authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
              expiresAt: epochSeconds(expiresAt),
              proxyEndpoint: state.registryUrl,
            },
          ],
        };
      }),
      ...op('RegisterPullTimeUpdateExclusion', true, (input) => {
        const arn = requireString(input, 'principalArn');
        if (!PRINCIPAL_ARN.test(arn))
          throw new AwsError('InvalidParameterException', `'${arn}' is not an IAM role or user ARN`);
        if (state.exclusions.has(arn))
          throw new AwsError(
            'ExclusionAlreadyExistsException',
            `The principal '${arn}' is already excluded.`,
          );
        if (state.exclusions.size >= 100)
          throw new AwsError(
            'LimitExceededException',
            'At most 100 pull time update exclusions per account.',
          );
        state.exclusions.add(arn);
        return { principalArn: arn, createdAt: epochSeconds(clock.now()) };
      }),
      ...op('DeregisterPullTimeUpdateExclusion', true, (input) => {
        const arn = requireString(input, 'principalArn');
        if (!state.exclusions.delete(arn))
          throw new AwsError('ExclusionNotFoundException', `The principal '${arn}' is not excluded.`);
        return { principalArn: arn };
      }),
      ...op('ListPullTimeUpdateExclusions', false, (input) => {
        const { page, nextToken } = paginate([...state.exclusions].sort(), input);
        return { pullTimeUpdateExclusions: page, nextToken };
      }),
    },
  };
}
