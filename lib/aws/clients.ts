/**
 * The one place AWS clients are built. Endpoints follow the SDK's own rules (AWS_ENDPOINT_URL,
 * AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_CLOUDWATCH), which is
 * how the sandbox is reached; `endpoint` overrides them all, for tests.
 *
 * Handlers take only the shared client they use (`sharedEcr()`…), so each bundle carries only
 * the SDK clients its function needs.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECRClient } from '@aws-sdk/client-ecr';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export interface AwsClients {
  ecr: ECRClient;
  secrets: SecretsManagerClient;
  cloudwatch: CloudWatchClient;
}

export interface AwsClientOptions {
  region?: string;
  endpoint?: string;
  /** Attempts per call, adaptive retry mode (client-side rate limiting for Describe* throttling). */
  maxAttempts?: number;
}

export function awsClientConfig(options: AwsClientOptions = {}) {
  return {
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 5,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  };
}

export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const config = awsClientConfig(options);
  return {
    ecr: new ECRClient(config),
    secrets: new SecretsManagerClient(config),
    cloudwatch: new CloudWatchClient(config),
  };
}

// One client of each kind per Lambda container, created on first use.
let ecr: ECRClient | undefined;
let secrets: SecretsManagerClient | undefined;
let cloudwatch: CloudWatchClient | undefined;

export const sharedEcr = (): ECRClient => (ecr ??= new ECRClient(awsClientConfig()));
export const sharedSecrets = (): SecretsManagerClient =>
  (secrets ??= new SecretsManagerClient(awsClientConfig()));
export const sharedCloudWatch = (): CloudWatchClient =>
  (cloudwatch ??= new CloudWatchClient(awsClientConfig()));

/** Drops the shared clients (the CLI and tests point them at a new endpoint between runs). */
export function resetSharedClients(): void {
  ecr = secrets = cloudwatch = undefined;
}
