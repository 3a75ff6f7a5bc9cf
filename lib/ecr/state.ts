/**
 * Reads what ECR actually holds for the keeper's concerns: rules, creation templates, the cache
 * repositories under managed prefixes with their lifecycle policies (and, with `access:`, their
 * repository policies and the registry policy), the credential secrets and the pull-time update
 * exclusions. Every list is read fully (all pages, `maxResults` 1000), and per-repository reads run
 * with bounded concurrency.
 */
import {
  DescribeRegistryCommand,
  type ECRClient,
  GetLifecyclePolicyCommand,
  GetRegistryPolicyCommand,
  GetRepositoryPolicyCommand,
  ListPullTimeUpdateExclusionsCommand,
  type PullThroughCacheRule,
  paginateDescribePullThroughCacheRules,
  paginateDescribeRepositories,
  paginateDescribeRepositoryCreationTemplates,
  type RepositoryCreationTemplate,
} from '@aws-sdk/client-ecr';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KeeperConfig } from '../config/load.js';
import { wildcardMatcher } from '../config/names.js';
import {
  type CredentialSecret,
  CredentialSecretError,
  describeCredentialSecret,
  readCredentialValue,
} from '../credential/secret.js';
import {
  awsErrorName,
  awsFailure,
  DeadlineError,
  isTransientAwsError,
  KeeperError,
  unlessNamed,
} from '../runtime/errors.js';
import { mapConcurrent } from '../runtime/retry.js';

export interface CacheRepository {
  name: string;
  arn: string;
  /** Lifecycle policy text, or undefined when the repository has none (or it was not read). */
  lifecyclePolicy?: string;
  /** Repository policy text, or undefined when it has none (or it was not read). */
  repositoryPolicy?: string;
}

/** The registry itself, read when the config has `access:`. */
export interface RegistryState {
  /** The account id (registryId). */
  account: string;
  region: string;
  /** The registry policy's text, undefined when there is none. */
  policy?: string;
}

export type SecretState =
  | { ok: true; secret: CredentialSecret }
  | { ok: false; error: CredentialSecretError };

/** A repository listed under a managed prefix whose reads were refused to the caller. */
export interface UnreadableRepository {
  name: string;
  prefix: string;
  /** AWS's refusal (`AccessDeniedException: …`), which says which policy denied it. */
  error: string;
}

/**
 * One repository's read, or why there is none: deleted since the listing (`vanished`), or refused
 * for this repository (`refused`: AccessDenied, a guardrail's Deny in its own policy). Anything
 * else is thrown.
 */
export async function readRepository<T>(
  read: Promise<T>,
): Promise<{ read: T } | { vanished: true } | { refused: string }> {
  try {
    return { read: await read };
  } catch (error) {
    if (awsErrorName(error) === 'RepositoryNotFoundException') return { vanished: true };
    if (awsErrorName(error) === 'AccessDeniedException') return { refused: awsFailure(error) };
    throw error;
  }
}

export interface ActualState {
  rules: Map<string, PullThroughCacheRule>;
  templates: Map<string, RepositoryCreationTemplate>;
  /** Repositories under each managed prefix (only read for a back-fill: lifecycle, access). */
  repositories: Map<string, CacheRepository[]>;
  /**
   * Repositories under a managed prefix whose policies the caller may not read (AccessDenied: a
   * guardrail's Deny in the repository's own policy): left out of `repositories`, and of the plan.
   */
  unreadable?: UnreadableRepository[];
  /** Repositories under a managed prefix that `reconcile.excludeRepositories` leaves alone: not read. */
  excluded?: string[];
  secrets: Map<string, SecretState>;
  exclusions: string[];
  /** The registry and its policy, when the config has `access:`. */
  registry?: RegistryState;
  /**
   * Without `access:`, the registry policy alone (its text, undefined for none), to show the
   * statements an earlier `access:` left there; absent when not read or not readable.
   */
  registryPolicy?: { text: string | undefined };
}

export interface ReadStateOptions {
  concurrency?: number;
  /** Read repositories and their lifecycle policies (for back-fill). */
  includeRepositories?: boolean;
  /** Read the registry, its policy and the cache repositories' policies (`access:`). */
  includeAccess?: boolean;
  /** Also list pull-time update exclusions. */
  includeExclusions?: boolean;
  /** Read the registry policy alone (no `access:`); a denied read leaves it out. */
  includeRegistryPolicy?: boolean;
}

const PAGE = 1000;

export type Listed = { name: string; prefix: string };

/** What a walk over the cached repositories read, and what it left out. */
export interface RepositoryWalk<R, L extends Listed = Listed> {
  /** Each repository read, in the listing's order (those read again last). */
  read: Array<{ repository: L; value: R }>;
  /** Deleted since the listing (by hand, by a clean-up job): they hold nothing now. */
  vanished: string[];
  /** Refused by their own policies: not the caller's to see. */
  unreadable: UnreadableRepository[];
  /** Read a second time after a failure of the moment. */
  readAgain: number;
}

/**
 * Reads every listed repository, `concurrency` at a time. None of what befalls one repository costs
 * the others' figures: deleted since the listing, it is `vanished`; refused by its own policy, it is
 * `unreadable`; failed for a reason of the moment (throttled past the SDK's retries, a 5xx), it is
 * read again once the walk is done and the burst has passed, one at a time, and only a second
 * failure fails the walk (`refusedEverywhere` says when every one refused). `progress.done` counts the
 * repositories settled, for a walk cut short at the deadline to say how far it got.
 */
export async function walkRepositories<R, L extends Listed = Listed>(
  repositories: L[],
  concurrency: number,
  read: (repository: L) => Promise<R>,
  progress: { done: number } = { done: 0 },
): Promise<RepositoryWalk<R, L>> {
  const walk: RepositoryWalk<R, L> = { read: [], vanished: [], unreadable: [], readAgain: 0 };
  const again: L[] = [];
  const settle = async (repository: L, firstPass: boolean) => {
    const outcome = await readRepository(read(repository)).catch((error: unknown) => {
      if (!firstPass || error instanceof DeadlineError || !isTransientAwsError(error)) throw error;
      again.push(repository);
      return undefined;
    });
    if (!outcome) return undefined;
    progress.done++;
    if ('vanished' in outcome) walk.vanished.push(repository.name);
    else if ('refused' in outcome)
      walk.unreadable.push({ name: repository.name, prefix: repository.prefix, error: outcome.refused });
    else return { repository, value: outcome.read };
    return undefined;
  };
  const first = await mapConcurrent(repositories, concurrency, (r) => settle(r, true));
  const second = await mapConcurrent(again, 1, (r) => settle(r, false));
  walk.readAgain = again.length;
  walk.read = [...first, ...second].filter((r) => r !== undefined);
  walk.vanished.sort();
  walk.unreadable.sort((a, b) => a.name.localeCompare(b.name));
  return walk;
}

/**
 * Refusals for some repositories are theirs (their own policies); for every one, the caller's own
 * permissions: a report would read as an empty cache, so the caller fails with this instead.
 */
export function refusedEverywhere(
  walk: { unreadable: UnreadableRepository[] },
  listed: number,
): KeeperError | undefined {
  if (listed === 0 || walk.unreadable.length < listed) return undefined;
  return new KeeperError(
    `every cached repository refused this caller's reads (${walk.unreadable[0]!.error}): its own permissions lack them, or every repository's policy denies it`,
  );
}

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
  const unreadable: UnreadableRepository[] = [];
  const excluded: string[] = [];
  const lifecyclePrefixes = new Set(
    options.includeRepositories
      ? config.rules.filter((r) => r.template?.lifecyclePolicy).map((r) => r.prefix)
      : [],
  );
  const accessPrefixes = new Set(
    options.includeAccess ? config.rules.filter((r) => r.template).map((r) => r.prefix) : [],
  );
  // A ROOT rule would make every repository in the account "managed": back-fill skips it.
  const managed = [...new Set([...lifecyclePrefixes, ...accessPrefixes])].filter((p) => p !== 'ROOT');
  if (managed.length > 0) {
    const all: Array<{ name: string; arn: string; prefix: string }> = [];
    const isExcluded = wildcardMatcher(config.reconcile.excludeRepositories);
    for await (const page of paginateDescribeRepositories({ client: ecr, pageSize: PAGE }, {})) {
      for (const repo of page.repositories ?? []) {
        const prefix = prefixOf(repo.repositoryName!, managed);
        if (!prefix) continue;
        // Left to their owners: not even read, so a guardrail refusing reads stops nothing.
        if (isExcluded(repo.repositoryName!)) excluded.push(repo.repositoryName!);
        else all.push({ name: repo.repositoryName!, arn: repo.repositoryArn!, prefix });
      }
    }
    // Deleted since the listing: there is nothing left to bring in line. Refused for this
    // repository alone: the others are still planned, and the plan says why.
    const walk = await walkRepositories(all, options.concurrency ?? 8, (repo) =>
      Promise.all([
        lifecyclePrefixes.has(repo.prefix) ? readLifecyclePolicy(ecr, repo.name) : undefined,
        accessPrefixes.has(repo.prefix) ? readRepositoryPolicy(ecr, repo.name) : undefined,
      ]),
    );
    unreadable.push(...walk.unreadable);
    for (const prefix of managed) repositories.set(prefix, []);
    for (const { repository, value } of walk.read) {
      const [lifecyclePolicy, repositoryPolicy] = value;
      repositories
        .get(repository.prefix)!
        .push({ name: repository.name, arn: repository.arn, lifecyclePolicy, repositoryPolicy });
    }
  }

  let registry: RegistryState | undefined;
  if (options.includeAccess) {
    const [described, policy] = await Promise.all([
      ecr.send(new DescribeRegistryCommand({})),
      readRegistryPolicy(ecr),
    ]);
    registry = { account: described.registryId!, region: await ecr.config.region(), policy };
  }
  // Advisory: a caller that may not read the registry policy still gets its plan.
  const registryPolicy =
    !options.includeAccess && options.includeRegistryPolicy
      ? await unlessNamed(
          readRegistryPolicy(ecr).then((text) => ({ text })),
          'AccessDeniedException',
        )
      : undefined;

  const exclusions: string[] = [];
  if (options.includeExclusions) {
    let nextToken: string | undefined;
    do {
      const page = await ecr.send(new ListPullTimeUpdateExclusionsCommand({ maxResults: 100, nextToken }));
      exclusions.push(...(page.pullTimeUpdateExclusions ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return {
    rules,
    templates,
    repositories,
    unreadable,
    excluded,
    secrets,
    exclusions,
    ...(registry ? { registry } : {}),
    ...(registryPolicy ? { registryPolicy } : {}),
  };
}

/** The managed prefix a repository falls under (the longest one). */
export function prefixOf(repositoryName: string, prefixes: string[]): string | undefined {
  return prefixes.filter((p) => repositoryName.startsWith(`${p}/`)).sort((a, b) => b.length - a.length)[0];
}

const readLifecyclePolicy = async (ecr: ECRClient, repositoryName: string) =>
  (
    await unlessNamed(
      ecr.send(new GetLifecyclePolicyCommand({ repositoryName })),
      'LifecyclePolicyNotFoundException',
    )
  )?.lifecyclePolicyText;

const readRepositoryPolicy = async (ecr: ECRClient, repositoryName: string) =>
  (
    await unlessNamed(
      ecr.send(new GetRepositoryPolicyCommand({ repositoryName })),
      'RepositoryPolicyNotFoundException',
    )
  )?.policyText;

const readRegistryPolicy = async (ecr: ECRClient) =>
  (await unlessNamed(ecr.send(new GetRegistryPolicyCommand({})), 'RegistryPolicyNotFoundException'))
    ?.policyText;
