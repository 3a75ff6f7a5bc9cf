/**
 * Who is calling, and may they: the sandbox's IAM. Each principal has its own access key (the SDK
 * signs with it; the sandbox reads it from the SigV4 Authorization header) and identity policies.
 * Every AWS API request is checked as AWS checks it: the action, the resource it is authorized
 * against (from the Service Authorization Reference: "*" for actions without a resource type), and
 * the request's condition keys. A denial is AccessDeniedException with AWS's message.
 *
 * Enforcement is a setting (`enforce`); an unknown access key is refused while it is on, as AWS
 * refuses an unknown key.
 */
import { randomBytes } from 'node:crypto';
import { AwsError } from '../aws/protocol.js';
import { type AuthorizationRequest, evaluate, type PolicyDocument } from './policy.js';
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
    principal: Omit<Principal, 'accessKeyId' | 'secretAccessKey'>,
    accessKeyId?: string,
  ): Principal {
    const full: Principal = {
      ...principal,
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

  /** A role with these identity policies, as a Lambda function assumes it (one session). */
  addRole(roleName: string, policies: PolicyDocument[], session = roleName): Principal {
    return this.add({
      name: roleName,
      arn: `arn:${this.partition}:iam::${this.account}:role/${roleName}`,
      callerArn: `arn:${this.partition}:sts::${this.account}:assumed-role/${roleName}/${session}`,
      policies,
    });
  }

  principal(accessKeyId: string): Principal | undefined {
    return this.byKey.get(accessKeyId);
  }

  /** Whether the caller may; throws AccessDeniedException (AWS's message) when not. */
  authorize(accessKeyId: string, request: AuthorizationRequest, errorType = 'AccessDeniedException'): void {
    if (!this.enforce) return;
    const principal = this.byKey.get(accessKeyId);
    if (!principal)
      throw new AwsError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    const decision = evaluate(principal.policies, request);
    if (decision === 'allowed') return;
    this.denials.push({ ...request, principal: principal.name });
    const why =
      decision === 'explicit-deny'
        ? 'with an explicit deny in an identity-based policy'
        : `because no identity-based policy allows the ${request.action} action`;
    throw new AwsError(
      errorType,
      `User: ${principal.callerArn} is not authorized to perform: ${request.action} on resource: ${request.resource} ${why}`,
    );
  }

  /** Like `authorize`, as a yes/no. */
  allows(accessKeyId: string, request: AuthorizationRequest): boolean {
    if (!this.enforce) return true;
    const principal = this.byKey.get(accessKeyId);
    return principal !== undefined && evaluate(principal.policies, request) === 'allowed';
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
