/**
 * What a person can do about an error: a short hint under the message, for the failures a user
 * meets first (no credentials, no region, an endpoint that does not answer, a denied action).
 */
import { awsOperation, errorMessage, KeeperError } from '../lib/runtime/errors.js';

const causes = (error: unknown): unknown[] => {
  const out: unknown[] = [];
  for (let e = error, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) out.push(e);
  return out;
};

export function hintFor(error: unknown): string | undefined {
  const chain = causes(error);
  const names = chain.map((e) => (e as { name?: string })?.name ?? '');
  const text = chain.map((e) => errorMessage(e)).join(' ');
  const codes = chain.map((e) => (e as { code?: string })?.code ?? '');
  if (names.includes('CredentialsProviderError') || /Could not load credentials/i.test(text))
    return 'no AWS credentials: set AWS_PROFILE (and `aws sso login` if it is an SSO profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
  if (names.includes('RegionError')) return undefined; // its message says what to do
  if (
    codes.some((c) => ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET'].includes(c)) ||
    /ECONNREFUSED|ENOTFOUND|getaddrinfo/.test(text)
  )
    return 'an endpoint did not answer: check AWS_ENDPOINT_URL (against the local sandbox: is `npm run sandbox` running, and its environment loaded?) and the network';
  const denied = /not authorized to perform: (\S+)/.exec(text);
  const action = denied ? ` for ${denied[1]}` : '';
  // An explicit Deny wins over any Allow: granting the action would change nothing.
  if (/with an explicit deny in a resource-based policy/.test(text))
    return `access denied${action} by the resource's own policy (an explicit Deny in the repository's or registry's policy): exempt this identity there; granting it the action changes nothing`;
  if (/with an explicit deny in an identity-based policy/.test(text))
    return `access denied${action} by an explicit Deny in this identity's own policies: remove or narrow that statement; granting the action changes nothing`;
  if (/(with an explicit deny in a|because no) (service|resource) control polic/.test(text))
    return `access denied${action} by an AWS Organizations policy (a service or resource control policy): only the organization's administrators can change it; granting the identity the action changes nothing (docs/operations.md, "First deploy", lists the actions the keeper's roles use, for them to allow)`;
  if (/(with an explicit deny in a|because no) session polic/.test(text))
    return `access denied${action} by this session's policy: the credentials were issued with a session policy (an assumed role's, or an IAM Identity Center permission set's) that does not allow it; use credentials whose session allows the command's actions (docs/operations.md, "The permissions each command needs")`;
  if (/(with an explicit deny in a|because no) VPC endpoint polic/.test(text))
    return `access denied${action} by a VPC endpoint's policy: the interface endpoint this call went through (the service's endpoint in the VPC) must allow it as well as the identity's own policies`;
  if (/because no permissions boundary allows|with an explicit deny in a permissions boundary/.test(text))
    return `access denied${action} by this identity's permissions boundary: the boundary must allow it as well as the identity's own policies (docs/operations.md, "First deploy", lists what the keeper's roles need)`;
  if (names.some((n) => /^AccessDenied/.test(n)) || denied)
    return `access denied${action}: the identity running cache-keeper needs that action; docs/operations.md ("The permissions each command needs") lists each command's`;
  return undefined;
}

/**
 * The line a failed command prints (after `cache-keeper: `): the keeper's own errors as they are,
 * since they say what and where; others with their name (AccessDeniedException…), the code people
 * look up.
 */
export function failureLine(error: unknown): string {
  if (error instanceof KeeperError || !(error instanceof Error)) return errorMessage(error);
  const operation = awsOperation(error);
  return `${error.name}${operation ? ` (${operation})` : ''}: ${error.message}`;
}
