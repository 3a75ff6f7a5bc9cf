/**
 * Identity-policy evaluation with AWS's semantics, for the principals the sandbox knows: an explicit
 * Deny wins; otherwise an Allow needs a statement whose Action (with `*` and `?` wildcards, case
 * insensitive) and Resource (wildcards, case sensitive) match and whose every condition holds;
 * otherwise the request is implicitly denied. A condition operator the sandbox does not implement
 * is an error: it never passes silently.
 */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  /** Resource-based policies only: who the statement is about. */
  Principal?: '*' | { AWS?: string | string[]; Service?: string | string[] };
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

export interface PolicyDocument {
  Statement: PolicyStatement[];
}

export interface AuthorizationRequest {
  /** `ecr:CreatePullThroughCacheRule` */
  action: string;
  /** An ARN, or `*` for actions without a resource type. */
  resource: string;
  /** Condition keys of the request (`cloudwatch:namespace`, `iam:AWSServiceName`…), any case. */
  context?: Record<string, string>;
}

export type Decision = 'allowed' | 'implicit-deny' | 'explicit-deny';

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** IAM's wildcards: `*` any run of characters, `?` one character. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

function conditionHolds(
  operator: string,
  entries: Record<string, string | string[] | boolean>,
  context: Record<string, string>,
): boolean {
  const ifExists = operator.endsWith('IfExists');
  const op = ifExists ? operator.slice(0, -'IfExists'.length) : operator;
  const lowered = Object.fromEntries(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.entries(entries).every(([key, expected]) => {
    const actual = lowered[key.toLowerCase()];
    const values = list(expected as string | string[]).map(String);
    if (actual === undefined) return ifExists || op.startsWith('StringNot') || op === 'ArnNotLike';
    switch (op) {
      case 'StringEquals':
      case 'ArnEquals':
        return values.includes(actual);
      case 'StringNotEquals':
        return !values.includes(actual);
      case 'StringEqualsIgnoreCase':
        return values.some((v) => v.toLowerCase() === actual.toLowerCase());
      case 'StringLike':
      case 'ArnLike':
        return values.some((v) => wildcardMatch(v, actual));
      case 'StringNotLike':
      case 'ArnNotLike':
        return !values.some((v) => wildcardMatch(v, actual));
      case 'Bool':
        return values.includes(actual);
      default:
        throw new Error(`the sandbox does not implement the IAM condition operator ${operator}`);
    }
  });
}

function statementMatches(s: PolicyStatement, request: AuthorizationRequest): boolean {
  const actionMatch = s.Action
    ? list(s.Action).some((a) => wildcardMatch(a, request.action, true))
    : !list(s.NotAction).some((a) => wildcardMatch(a, request.action, true));
  if (!actionMatch) return false;
  const resourceMatch = s.Resource
    ? list(s.Resource).some((r) => wildcardMatch(r, request.resource))
    : !list(s.NotResource).some((r) => wildcardMatch(r, request.resource));
  if (!resourceMatch) return false;
  return Object.entries(s.Condition ?? {}).every(([op, entries]) =>
    conditionHolds(op, entries, request.context ?? {}),
  );
}

/**
 * Whether a resource-based statement's Principal names the caller: `*` anyone; an account id or its
 * `:root` ARN every principal of that account; a role or user ARN that principal.
 */
export function principalMatches(
  principal: PolicyStatement['Principal'],
  caller: { account: string; arn: string },
): boolean {
  if (principal === '*') return true;
  return list(principal?.AWS).some(
    (p) =>
      p === '*' || p === caller.account || p === `arn:aws:iam::${caller.account}:root` || p === caller.arn,
  );
}

export function evaluate(
  policies: PolicyDocument[],
  request: AuthorizationRequest,
  /** For resource-based policies: only the statements whose Principal names this caller count. */
  caller?: { account: string; arn: string },
): Decision {
  const statements = policies
    .flatMap((p) => p.Statement)
    .filter((s) => !caller || principalMatches(s.Principal, caller));
  if (statements.some((s) => s.Effect === 'Deny' && statementMatches(s, request))) return 'explicit-deny';
  return statements.some((s) => s.Effect === 'Allow' && statementMatches(s, request))
    ? 'allowed'
    : 'implicit-deny';
}
