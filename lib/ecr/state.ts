/**
 * Reads what ECR actually holds for the keeper's concerns: rules, creation templates, the cache
 * repositories under managed prefixes with their lifecycle policies, the credential secrets and
 * the pull-time update exclusions. Every list is read fully (all pages, `maxResults` 1000), and
 * per-repository reads run with bounded concurrency.
 */
import {
  type ECRClient,
  GetLifecyclePolicyCommand,
  ListPullTimeUpdateExclusionsCommand,
  type PullThroughCacheRule,
  paginateDescribePullThroughCacheRules,
  paginateDescribeRepositories,
  paginateDescribeRepositoryCreationTemplates,
  type RepositoryCreationTemplate,
} from '@aws-sdk/client-ecr';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KeeperConfig } from '../config/load.js';
import {
  type CredentialSecret,
  CredentialSecretError,
  describeCredentialSecret,
  readCredentialValue,
} from '../credential/secret.js';
import { mapConcurrent } from '../runtime/retry.js';

export interface CacheRepository {
  name: string;
  arn: string;
  /** Lifecycle policy text, or undefined when the repository has none. */
  lifecyclePolicy?: string;
}

export type SecretState =
  | { ok: true; secret: CredentialSecret }
  | { ok: false; error: CredentialSecretError };

export interface ActualState {
  rules: Map<string, PullThroughCacheRule>;
  templates: Map<string, RepositoryCreationTemplate>;
  /** Repositories under each managed prefix (only read when lifecycle back-fill is on). */
  repositories: Map<string, CacheRepository[]>;
  secrets: Map<string, SecretState>;
  exclusions: string[];
}

export interface ReadStateOptions {
  concurrency?: number;
  /** Read repositories and their lifecycle policies (for back-fill). */
  includeRepositories?: boolean;
  /** Also list pull-time update exclusions. */
  includeExclusions?: boolean;
}

const PAGE = 1000;

export async function readActualState(
  clients: { ecr: ECRClient; secrets: SecretsManagerClient },
  config: KeeperConfig,
  options: ReadStateOptions = {},
): Promise<ActualState> {
  const { ecr } = clients;
  const rules = new Map<string, PullThroughCacheRule>();
  for await (const page of paginateDescribePullThroughCacheRules({ client: ecr, pageSize: PAGE }, {})) {
    for (const rule of page.pullThroughCacheRules ?? []) rules.set(rule.ecrRepositoryPrefix!, rule);
  }
  const templates = new Map<string, RepositoryCreationTemplate>();
  for await (const page of paginateDescribeRepositoryCreationTemplates({ client: ecr, pageSize: PAGE }, {})) {
    for (const t of page.repositoryCreationTemplates ?? []) templates.set(t.prefix!, t);
  }

  const secrets = new Map<string, SecretState>();
  const secretIds = [...new Set(config.rules.map((r) => r.credentialSecret).filter((s): s is string => !!s))];
  await mapConcurrent(secretIds, options.concurrency ?? 8, async (id) => {
    try {
      const secret = await describeCredentialSecret(clients.secrets, id);
      await readCredentialValue(clients.secrets, id);
      secrets.set(id, { ok: true, secret });
    } catch (error) {
      if (!(error instanceof CredentialSecretError)) throw error;
      secrets.set(id, { ok: false, error });
    }
  });

  const repositories = new Map<string, CacheRepository[]>();
  if (options.includeRepositories) {
    // A ROOT rule would make every repository in the account "managed": back-fill skips it.
    const managed = config.rules
      .filter((r) => r.template?.lifecyclePolicy && r.prefix !== 'ROOT')
      .map((r) => r.prefix);
    const all: Array<{ name: string; arn: string; prefix: string }> = [];
    if (managed.length > 0) {
      for await (const page of paginateDescribeRepositories({ client: ecr, pageSize: PAGE }, {})) {
        for (const repo of page.repositories ?? []) {
          const prefix = prefixOf(repo.repositoryName!, managed);
          if (prefix) all.push({ name: repo.repositoryName!, arn: repo.repositoryArn!, prefix });
        }
      }
    }
    const withPolicies = await mapConcurrent(all, options.concurrency ?? 8, async (repo) => ({
      ...repo,
      lifecyclePolicy: await readLifecyclePolicy(ecr, repo.name),
    }));
    for (const prefix of managed) repositories.set(prefix, []);
    for (const repo of withPolicies)
      repositories
        .get(repo.prefix)!
        .push({ name: repo.name, arn: repo.arn, lifecyclePolicy: repo.lifecyclePolicy });
  }

  const exclusions: string[] = [];
  if (options.includeExclusions) {
    let nextToken: string | undefined;
    do {
      const page = await ecr.send(new ListPullTimeUpdateExclusionsCommand({ maxResults: 100, nextToken }));
      exclusions.push(...(page.pullTimeUpdateExclusions ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return { rules, templates, repositories, secrets, exclusions };
}

/** The managed prefix a repository falls under (the longest one). */
export function prefixOf(repositoryName: string, prefixes: string[]): string | undefined {
  return prefixes.filter((p) => repositoryName.startsWith(`${p}/`)).sort((a, b) => b.length - a.length)[0];
}

async function readLifecyclePolicy(ecr: ECRClient, repositoryName: string): Promise<string | undefined> {
  try {
    return (await ecr.send(new GetLifecyclePolicyCommand({ repositoryName }))).lifecyclePolicyText;
  } catch (error) {
    if ((error as { name?: string }).name === 'LifecyclePolicyNotFoundException') return undefined;
    throw error;
  }
}
