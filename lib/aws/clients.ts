/**
 * The one place AWS clients are built. Region, endpoints and credentials come from the options,
 * else from the environment given (the SDK's own variables: AWS_REGION, AWS_ENDPOINT_URL and the
 * per-service AWS_ENDPOINT_URL_*, the credential chain), which is how the Lambda default and the
 * CLI reach AWS; the cycle and the tests hand the sandbox's endpoint and credentials in directly.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECRClient } from '@aws-sdk/client-ecr';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
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
  return {
    ecr: new ECRClient(config),
    secrets: new SecretsManagerClient(config),
    cloudwatch: new CloudWatchClient(config),
  };
}
