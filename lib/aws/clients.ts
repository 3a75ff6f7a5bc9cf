/**
 * The one place AWS clients are built. Region, endpoints and credentials come from the options,
 * else from the environment given (the SDK's own variables: AWS_REGION, AWS_ENDPOINT_URL and the
 * per-service AWS_ENDPOINT_URL_*, the credential chain), which is how the Lambda default and the
 * CLI reach AWS; the cycle and the tests hand the sandbox's endpoint and credentials in directly.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECRClient } from '@aws-sdk/client-ecr';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { OPERATION } from '../runtime/errors.js';
import { resolveRegion } from './region.js';

export interface AwsClients {
  ecr: ECRClient;
  secrets: SecretsManagerClient;
  cloudwatch: CloudWatchClient;
}

export interface AwsClientOptions {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per call, adaptive retry mode (client-side rate limiting for Describe* throttling). */
  maxAttempts?: number;
}

export type AwsClientConfig = ReturnType<typeof awsClientConfig>;

export function awsClientConfig(options: AwsClientOptions = {}, env: NodeJS.ProcessEnv = process.env) {
  return {
    region: options.region ?? resolveRegion(env).region,
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 5,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
}

export function createAwsClients(options: AwsClientOptions = {}, env?: NodeJS.ProcessEnv): AwsClients {
  const config = awsClientConfig(options, env);
  return namingFailures({
    ecr: new ECRClient(config),
    secrets: new SecretsManagerClient(config),
    cloudwatch: new CloudWatchClient(config),
  });
}

type MiddlewareClient = {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string; priority: 'high' },
    ): void;
  };
};

const SERVICE_NAMES: Record<string, string> = {
  ecr: 'ECR',
  secrets: 'Secrets Manager',
  cloudwatch: 'CloudWatch',
};

/**
 * Each client's failures name the call that failed (`ECR DescribeImages`), as `awsOperation(error)`
 * reads it: the SDK's errors carry only the service's code and message ("ThrottlingException: Rate
 * exceeded"), which does not say which of a command's calls it was. Added outermost, so it names
 * the failure that is left once the SDK's retries are done. Returns the same clients.
 */
export function namingFailures<Clients extends Partial<Record<string, unknown>>>(clients: Clients): Clients {
  for (const [key, client] of Object.entries(clients)) {
    const stack = (client as Partial<MiddlewareClient> | undefined)?.middlewareStack;
    if (!stack) continue;
    stack.add(
      (next, context) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          if (error instanceof Error && !(OPERATION in error)) {
            const call = (context.commandName ?? '').replace(/Command$/, '');
            Object.defineProperty(error, OPERATION, { value: `${SERVICE_NAMES[key] ?? key} ${call}` });
          }
          throw error;
        }
      },
      { step: 'initialize', name: 'keeperNamesFailures', priority: 'high' },
    );
  }
  return clients;
}
