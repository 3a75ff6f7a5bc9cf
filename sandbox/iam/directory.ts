/**
 * Who is calling, and may they: the sandbox's IAM. Each principal has its own access key (the SDK
 * signs with it; the sandbox reads it from the SigV4 Authorization header) and identity policies.
 * Every AWS API request is checked as AWS checks it: the action, the resource it is authorized
 * against (from the Service Authorization Reference: "*" for actions without a resource type), and
 * the request's condition keys. A denial is AccessDeniedException with AWS's message.
 *
 * Enforcement is a setting (`enforce`); an unknown access key is refused while it is on, as AWS
 * refuses an unknown key.
 *
 * Principals may belong to other accounts (CI in another account pulling through the cache). A
 * resource's own policies (a repository policy, the registry policy) are evaluated as IAM does: in
 * the resource's account, an identity policy or a resource policy naming the caller allows; from
 * another account, both must; an explicit Deny in either wins. A role's permissions boundary caps
 * what its policies grant (an explicit Deny there wins too).
 */
import { randomBytes } from 'node:crypto';
import { AwsError } from '../aws/protocol.js';
import { type AuthorizationRequest, type Decision, evaluate, type PolicyDocument } from './policy.js';
import { actionReference } from './reference.js';

export interface Principal {
  name: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The role (what a pull-time exclusion names) or user ARN. */
  arn: string;
  /** How AWS names the caller in a denial: the assumed-role session ARN for a role. */
  callerArn: string;
  policies: PolicyDocument[];
  /** The account the principal belongs to (the sandbox's own unless said otherwise). */
  account: string;
  /** The AWS Organization its account is in, if any (aws:PrincipalOrgID). */
  organizationId?: string;
  /** The role's permissions boundary: the most its policies may grant. */
  permissionsBoundary?: PolicyDocument;
}

/** Where a principal lives, when not in the sandbox's own account, and the boundary it carries. */
export interface PrincipalAccount {
  account?: string;
  organizationId?: string;
  permissionsBoundary?: PolicyDocument;
}

export const ADMINISTRATOR_POLICY: PolicyDocument = {
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};

export class IamDirectory {
  enforce = true;
  private readonly byKey = new Map<string, Principal>();
  readonly denials: Array<AuthorizationRequest & { principal: string }> = [];

  constructor(
    readonly account: string,
    readonly region: string,
    readonly partition = 'aws',
  ) {}

  private add(
    principal: Omit<Principal, 'accessKeyId' | 'secretAccessKey' | 'account'> & { account?: string },
    accessKeyId?: string,
  ): Principal {
    const full: Principal = {
      ...principal,
      account: principal.account ?? this.account,
      accessKeyId: accessKeyId ?? `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(20).toString('base64url'),
    };
    this.byKey.set(full.accessKeyId, full);
    return full;
  }

  /** A user allowed everything: seeding, and an operator running the CLI. */
  addAdministrator(name = 'sandbox-admin', accessKeyId?: string): Principal {
    const arn = `arn:${this.partition}:iam::${this.account}:user/${name}`;
    return this.add({ name, arn, callerArn: arn, policies: [ADMINISTRATOR_POLICY] }, accessKeyId);
  }

  /**
   * A role with these identity policies, as a Lambda function (or a CI job) assumes it (one
   * session); in another account when `where` says so.
   */
  addRole(
    roleName: string,
    policies: PolicyDocument[],
    session = roleName,
    where: PrincipalAccount = {},
  ): Principal {
    const account = where.account ?? this.account;
    return this.add({
      name: roleName,
      arn: `arn:${this.partition}:iam::${account}:role/${roleName}`,
      callerArn: `arn:${this.partition}:sts::${account}:assumed-role/${roleName}/${session}`,
      policies,
      account,
      organizationId: where.organizationId,
      ...(where.permissionsBoundary ? { permissionsBoundary: where.permissionsBoundary } : {}),
    });
  }

  principal(accessKeyId: string): Principal | undefined {
    return this.byKey.get(accessKeyId);
  }

  /**
   * Whether the caller may; throws AccessDeniedException (AWS's message) when not. `resourcePolicies`:
   * the policies of the resource itself (a repository's, the registry's), with Principal elements.
   */
  authorize(
    accessKeyId: string,
    request: AuthorizationRequest,
    errorType = 'AccessDeniedException',
    resourcePolicies: PolicyDocument[] = [],
  ): void {
    if (!this.enforce) return;
    const principal = this.byKey.get(accessKeyId);
    if (!principal)
      throw new AwsError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    const refusal = this.refusal(principal, request, resourcePolicies);
    if (!refusal) return;
    this.denials.push({ ...request, principal: principal.name });
    throw new AwsError(
      errorType,
      `User: ${principal.callerArn} is not authorized to perform: ${request.action} on resource: ${request.resource} ${refusal}`,
    );
  }

  /** Like `authorize`, as a yes/no. */
  allows(
    accessKeyId: string,
    request: AuthorizationRequest,
    resourcePolicies: PolicyDocument[] = [],
  ): boolean {
    if (!this.enforce) return true;
    const principal = this.byKey.get(accessKeyId);
    return principal !== undefined && this.refusal(principal, request, resourcePolicies) === undefined;
  }

  /**
   * Why IAM refuses a request an AWS service makes as its service-linked role in this account
   * (ECR reading a credential secret), in AWS's wording; undefined when it allows it. The role's
   * own policy is AWS's managed one; the resource's policy is weighed as for anyone (a service-linked
   * role is exempt from an organization's SCPs, not from a resource's own policy).
   */
  serviceRoleRefusal(
    role: { service: string; name: string; policy: PolicyDocument },
    request: AuthorizationRequest,
    resourcePolicies: PolicyDocument[] = [],
  ): string | undefined {
    if (!this.enforce) return undefined;
    const arn = `arn:${this.partition}:iam::${this.account}:role/aws-service-role/${role.service}/${role.name}`;
    const principal: Principal = {
      name: role.name,
      accessKeyId: '',
      secretAccessKey: '',
      arn,
      callerArn: `arn:${this.partition}:sts::${this.account}:assumed-role/${role.name}/${role.service}`,
      policies: [role.policy],
      account: this.account,
    };
    const refusal = this.refusal(principal, request, resourcePolicies);
    return refusal
      ? `User: ${principal.callerArn} is not authorized to perform: ${request.action} on resource: ${request.resource} ${refusal}`
      : undefined;
  }

  /** Why IAM refuses the request (AWS's wording), or undefined when it allows it. */
  refusalFor(accessKeyId: string, request: AuthorizationRequest, resourcePolicies: PolicyDocument[] = []) {
    const principal = this.byKey.get(accessKeyId);
    if (!this.enforce || !principal) return undefined;
    return this.refusal(principal, request, resourcePolicies);
  }

  private refusal(
    principal: Principal,
    request: AuthorizationRequest,
    resourcePolicies: PolicyDocument[],
  ): string | undefined {
    const withCaller: AuthorizationRequest = {
      ...request,
      context: {
        'aws:PrincipalAccount': principal.account,
        'aws:PrincipalArn': principal.arn,
        ...(principal.organizationId ? { 'aws:PrincipalOrgID': principal.organizationId } : {}),
        ...request.context,
      },
    };
    const identity: Decision = evaluate(principal.policies, withCaller);
    const resource: Decision = resourcePolicies.length
      ? evaluate(resourcePolicies, withCaller, principal)
      : 'implicit-deny';
    // A boundary grants nothing: it caps what the role's policies grant. The sandbox holds a grant
    // by a resource policy to it as well (AWS exempts one naming the role's session; the stricter reading).
    const boundary: Decision | undefined = principal.permissionsBoundary
      ? evaluate([principal.permissionsBoundary], withCaller)
      : undefined;
    if (identity === 'explicit-deny') return 'with an explicit deny in an identity-based policy';
    if (resource === 'explicit-deny') return 'with an explicit deny in a resource-based policy';
    if (boundary === 'explicit-deny') return 'with an explicit deny in a permissions boundary';
    // An action with no resource type acts in the caller's own account (GetAuthorizationToken from
    // CI's account): only the caller's identity policies count.
    const sameAccount = principal.account === this.account || request.resource === '*';
    if (
      sameAccount
        ? identity === 'allowed' || resource === 'allowed'
        : identity === 'allowed' && resource === 'allowed'
    )
      return boundary === undefined || boundary === 'allowed'
        ? undefined
        : `because no permissions boundary allows the ${request.action} action`;
    return identity === 'allowed'
      ? `because no resource-based policy allows the ${request.action} action`
      : `because no identity-based policy allows the ${request.action} action`;
  }
}

/** How the sandbox names the resource of a request, per resource type of the reference. */
export type ResourceNamer = (typeName: string, input: Record<string, unknown>) => string | undefined;

/**
 * The IAM request for an API call: `<service>:<Operation>` and the resource it is authorized
 * against. Actions the reference gives no required resource type are requested against "*".
 */
export function apiRequest(
  servicePrefix: string,
  operation: string,
  input: Record<string, unknown>,
  nameResource: ResourceNamer,
  context: Record<string, string> = {},
): AuthorizationRequest {
  const action = `${servicePrefix}:${operation}`;
  const reference = actionReference(action);
  if (!reference)
    throw new Error(
      `the Service Authorization Reference has no action ${action}: the sandbox cannot check it`,
    );
  const required = reference.resourceTypes.find((t) => t.required);
  if (!required) return { action: reference.name, resource: '*', context };
  const resource = nameResource(required.name, input);
  if (!resource) throw new Error(`the sandbox cannot name the ${required.name} resource of ${action}`);
  return { action: reference.name, resource, context };
}
