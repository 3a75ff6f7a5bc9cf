/**
 * IAM for the AWS API port: each call becomes `<service>:<Operation>` on the resource the reference
 * says it is authorized against, with the condition keys the stack's policies use.
 */

import { type EcrState, policyDocument } from '../aws/ecr.js';
import type { Authorizer } from '../aws/protocol.js';
import type { SecretsManagerSandbox } from '../aws/secrets.js';
import { apiRequest, type IamDirectory } from './directory.js';
import type { PolicyDocument } from './policy.js';

export function apiAuthorizer(
  iam: IamDirectory,
  where: { region: string; account: string; secrets: SecretsManagerSandbox; ecr?: EcrState },
): Authorizer {
  const { region, account } = where;
  const secretArn = (id: string) => {
    try {
      return where.secrets.findAny(id).arn;
    } catch {
      return id.startsWith('arn:') ? id : `arn:aws:secretsmanager:${region}:${account}:secret:${id}`;
    }
  };
  // A secret's own policy, as a repository's: weighed on the calls that name it.
  const secretPolicies = (id: string): PolicyDocument[] => {
    try {
      const text = where.secrets.findAny(id).resourcePolicy;
      return text === undefined ? [] : [policyDocument(text)];
    } catch {
      return [];
    }
  };
  return (service, operation, input, accessKeyId) => {
    const nameResource = (type: string, body: Record<string, unknown>): string | undefined => {
      switch (`${service.name}:${type.toLowerCase()}`) {
        case 'ecr:repository':
          // A call that names no repository (DescribeRepositories listing all) is on every one.
          return `arn:aws:ecr:${region}:${account}:repository/${typeof body.repositoryName === 'string' ? body.repositoryName : '*'}`;
        case 'secretsmanager:secret':
          return secretArn(String(body.SecretId ?? body.Name ?? ''));
        default:
          return undefined;
      }
    };
    const context: Record<string, string> = {};
    if (service.name === 'cloudwatch' && typeof input.Namespace === 'string')
      context['cloudwatch:namespace'] = input.Namespace;
    if (service.name === 'secretsmanager' && typeof input.SecretId === 'string')
      context['secretsmanager:SecretId'] = secretArn(input.SecretId);
    const request = apiRequest(service.name, operation, input, nameResource, context);
    // A repository's or a secret's own policy is weighed for the API calls on it too (an explicit
    // Deny there refuses even a caller of the account whose identity policy allows).
    const repositoryName = service.name === 'ecr' ? input.repositoryName : undefined;
    const resourcePolicies =
      typeof repositoryName === 'string' && request.resource !== '*' && where.ecr
        ? where.ecr.repositoryPolicies(repositoryName)
        : service.name === 'secretsmanager' && typeof input.SecretId === 'string'
          ? secretPolicies(input.SecretId)
          : [];
    iam.authorize(accessKeyId, request, 'AccessDeniedException', resourcePolicies);
  };
}
