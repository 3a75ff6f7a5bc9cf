/**
 * Pulling through the cache from other AWS accounts (`access:` in keeper.config.yaml): the policy
 * statements that let CI there pull, as plain data, and how they are merged into policies others
 * also write to. The keeper owns exactly the statements whose Sid starts with KEEPER_SID_PREFIX and
 * leaves every other statement as it finds it.
 *
 * Two policies are involved (the ECR guide):
 * - each cache repository's policy lets the accounts pull from it (BatchGetImage,
 *   GetDownloadUrlForLayer, BatchCheckLayerAvailability); the creation template carries it to
 *   repositories the cache creates, and reconcile back-fills the ones that exist;
 * - the registry policy lets them make the cache fetch what it does not hold yet: create the
 *   repository (CreateRepository, grantable only there or by an identity policy in the cache's
 *   account) and import the image (BatchImportUpstreamImage), on the rules' prefixes.
 * CI's own role, in its account, must allow the same actions on those repositories (docs/operations.md).
 */

export const KEEPER_SID_PREFIX = 'EcrCacheKeeper';

/** Who may pull through the cache from other accounts. */
export interface Access {
  accounts: string[];
  organizationId?: string;
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal: unknown;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
  [other: string]: unknown;
}

interface PolicyDocumentShape {
  Version?: string;
  Statement: PolicyStatement[];
}

/** What CI needs of a cache repository to pull from it. */
export const PULL_ACTIONS = [
  'ecr:BatchGetImage',
  'ecr:GetDownloadUrlForLayer',
  'ecr:BatchCheckLayerAvailability',
];
/** What a pull of an image the cache does not hold yet needs of the registry. */
export const FIRST_PULL_ACTIONS = ['ecr:BatchImportUpstreamImage', 'ecr:CreateRepository'];

/**
 * The grantees, one statement shape each: the accounts by their root ARN (every role and user
 * there, as far as their own account's policies let them), the organization by aws:PrincipalOrgID.
 * Pull-through cache is not offered in the partitions other than `aws` (China, GovCloud).
 */
function grantees(
  access: Access,
): Array<{ suffix: string; Principal: unknown; Condition?: PolicyStatement['Condition'] }> {
  const out: Array<{ suffix: string; Principal: unknown; Condition?: PolicyStatement['Condition'] }> = [];
  if (access.accounts.length)
    out.push({
      suffix: 'Accounts',
      Principal: { AWS: [...new Set(access.accounts)].sort().map((a) => `arn:aws:iam::${a}:root`) },
    });
  if (access.organizationId)
    out.push({
      suffix: 'Organization',
      Principal: { AWS: '*' },
      Condition: { StringEquals: { 'aws:PrincipalOrgID': access.organizationId } },
    });
  return out;
}

/** The statements a cache repository's policy carries for `access` (none when it grants nobody). */
export function repositoryStatements(access: Access): PolicyStatement[] {
  return grantees(access).map(({ suffix, Principal, Condition }) => ({
    Sid: `${KEEPER_SID_PREFIX}Pull${suffix}`,
    Effect: 'Allow',
    Principal,
    Action: PULL_ACTIONS,
    ...(Condition ? { Condition } : {}),
  }));
}

/** The registry's ARN parts, for the repositories its policy names. */
export interface RegistryPlace {
  region: string;
  account: string;
}

/** The ARNs of the cache repositories under `prefixes` (ROOT: every repository of the registry). */
export function cacheRepositoryArns(prefixes: string[], registry: RegistryPlace): string[] {
  return [...new Set(prefixes)]
    .sort()
    .map(
      (p) => `arn:aws:ecr:${registry.region}:${registry.account}:repository/${p === 'ROOT' ? '*' : `${p}/*`}`,
    );
}

/**
 * The identity policy a CI role needs to pull through the cache, in the cache's account or (with
 * `access:`) another: log in, pull, and make the cache fetch an image it does not hold yet.
 */
export function ciRolePolicy(prefixes: string[], registry: RegistryPlace) {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'LogInToRegistries', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      {
        Sid: 'PullThroughTheCache',
        Effect: 'Allow',
        Action: [...PULL_ACTIONS, ...FIRST_PULL_ACTIONS],
        Resource: cacheRepositoryArns(prefixes, registry),
      },
    ],
  };
}

/** The statements the registry policy carries for `access`, on the repositories under `prefixes`. */
export function registryStatements(
  access: Access,
  prefixes: string[],
  registry: RegistryPlace,
): PolicyStatement[] {
  const resources = cacheRepositoryArns(prefixes, registry);
  return grantees(access).map(({ suffix, Principal, Condition }) => ({
    Sid: `${KEEPER_SID_PREFIX}FirstPull${suffix}`,
    Effect: 'Allow',
    Principal,
    Action: FIRST_PULL_ACTIONS,
    Resource: resources,
    ...(Condition ? { Condition } : {}),
  }));
}

export class PolicyTextError extends Error {
  override name = 'PolicyTextError';
}

/** A policy's text as a document; a lone statement object is read as a list of one. */
export function readPolicy(text: string, what: string): PolicyDocumentShape {
  let doc: { Version?: string; Statement?: unknown };
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new PolicyTextError(`${what} is not JSON`, { cause });
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw new PolicyTextError(`${what} is not a policy document (a JSON object with Statement)`);
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  return { ...doc, Statement: statements as PolicyStatement[] };
}

const isKeepers = (s: PolicyStatement) => typeof s.Sid === 'string' && s.Sid.startsWith(KEEPER_SID_PREFIX);

/** The Sids of a policy's statements that claim to be the keeper's. */
export function keeperSids(text: string | undefined, what: string): string[] {
  return text === undefined
    ? []
    : readPolicy(text, what)
        .Statement.filter(isKeepers)
        .map((s) => s.Sid!);
}

/**
 * `text` (a policy, or undefined for none) with the keeper's statements replaced by `statements`,
 * every other statement kept in its place; undefined when nothing is left.
 */
export function withKeeperStatements(
  text: string | undefined,
  statements: PolicyStatement[],
  what: string,
): string | undefined {
  const doc = text === undefined ? { Statement: [] } : readPolicy(text, what);
  const kept = doc.Statement.filter((s) => !isKeepers(s));
  const all = [...kept, ...statements];
  if (all.length === 0) return undefined;
  const { Version, Statement: _replaced, ...rest } = doc;
  return JSON.stringify({ Version: Version ?? '2012-10-17', ...rest, Statement: all });
}

/**
 * A statement in one spelling, for comparing what AWS hands back with what was written: a lone
 * value and a list of one, `"*"` and `{"AWS": "*"}`, an account id and its root ARN, and the order
 * of list items are the same to IAM.
 */
function canonicalStatement(s: PolicyStatement): string {
  const sorted = (v: unknown) => [...new Set([v].flat().map(String))].sort();
  const principal = (p: unknown): unknown => {
    if (p === '*') return { AWS: ['*'] };
    if (!p || typeof p !== 'object') return p;
    return Object.fromEntries(
      Object.entries(p as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [
          k,
          sorted(sorted(v).map((x) => (/^\d{12}$/.test(x) ? `arn:aws:iam::${x}:root` : x))),
        ]),
    );
  };
  const condition = (c: PolicyStatement['Condition']) =>
    c &&
    Object.fromEntries(
      Object.entries(c)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([op, entries]) => [
          op,
          Object.fromEntries(
            Object.entries(entries)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, v]) => [k, sorted(v)]),
          ),
        ]),
    );
  return JSON.stringify({
    Sid: s.Sid,
    Effect: s.Effect,
    Principal: principal(s.Principal),
    Action: sorted(s.Action),
    Resource: s.Resource === undefined ? undefined : sorted(s.Resource),
    Condition: condition(s.Condition),
  });
}

/** Whether the keeper's statements in `text` are `statements`, whatever the spelling and order. */
export function holdsKeeperStatements(
  text: string | undefined,
  statements: PolicyStatement[],
  what: string,
): boolean {
  const actual = text === undefined ? [] : readPolicy(text, what).Statement.filter(isKeepers);
  const a = actual.map(canonicalStatement).sort();
  const d = statements.map(canonicalStatement).sort();
  return a.length === d.length && a.every((x, i) => x === d[i]);
}

/**
 * The statements `desired` adds to `actual` and the ones it drops (each by its Sid, else its place),
 * compared by meaning; undefined when either is not a policy this can read.
 */
export function statementChanges(
  actual: string | undefined,
  desired: string | undefined,
): { added: string[]; removed: string[] } | undefined {
  try {
    const read = (text: string | undefined) =>
      (text === undefined ? [] : readPolicy(text, 'policy').Statement).map((s, i) => ({
        name: s.Sid ?? `#${i + 1}`,
        key: canonicalStatement(s),
      }));
    const before = read(actual);
    const after = read(desired);
    const keys = (list: typeof before) => new Set(list.map((s) => s.key));
    return {
      added: after.filter((s) => !keys(before).has(s.key)).map((s) => s.name),
      removed: before.filter((s) => !keys(after).has(s.key)).map((s) => s.name),
    };
  } catch {
    return undefined;
  }
}

/** Two policies the same to IAM (statement order aside), or both absent. */
export function samePolicy(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  try {
    const sa = readPolicy(a, 'policy').Statement.map(canonicalStatement).sort();
    const sb = readPolicy(b, 'policy').Statement.map(canonicalStatement).sort();
    return sa.length === sb.length && sa.every((x, i) => x === sb[i]);
  } catch {
    return a === b;
  }
}

/** Who `access:` lets pull, in words (`nobody` for an emptied one, which reconcile takes back). */
export function describeAccess(access: Access): string {
  const who = [...new Set(access.accounts)].sort();
  if (access.organizationId) who.push(`organization ${access.organizationId}`);
  return who.length ? who.join(', ') : 'nobody';
}

/** Who the keeper's statements in a policy let pull, in words: `111122223333, organization o-…`. */
export function describeGrantees(text: string | undefined, what: string): string {
  return granteesOf(text === undefined ? [] : readPolicy(text, what).Statement.filter(isKeepers));
}

/** Each of the keeper's statements in a policy with who it lets pull, in words. */
export function keeperGrants(
  text: string | undefined,
  what: string,
): Array<{ sid: string; grantees: string }> {
  return (text === undefined ? [] : readPolicy(text, what).Statement.filter(isKeepers)).map((s) => ({
    sid: s.Sid!,
    grantees: granteesOf([s]),
  }));
}

function granteesOf(statements: PolicyStatement[]): string {
  const who = new Set<string>();
  for (const s of statements) {
    const org = (s.Condition?.StringEquals as Record<string, unknown> | undefined)?.['aws:PrincipalOrgID'];
    if (org) who.add(`organization ${String(org)}`);
    else
      for (const p of [(s.Principal as { AWS?: unknown })?.AWS ?? []].flat())
        who.add(String(p).replace(/^arn:aws:iam::(\d{12}):root$/, '$1'));
  }
  return who.size ? [...who].sort().join(', ') : 'nobody';
}
