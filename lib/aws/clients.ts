/**
 * The one place AWS clients are built. Region, endpoints and credentials come from the options,
 * else from the environment given (the SDK's own variables: AWS_REGION, AWS_ENDPOINT_URL and the
 * per-service AWS_ENDPOINT_URL_*, the credential chain), which is how the Lambda default and the
 * CLI reach AWS; the cycle and the tests hand the sandbox's endpoint and credentials in directly.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECRClient } from '@aws-sdk/client-ecr';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DeadlineError, errorMessage } from '../runtime/errors.js';
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

type Sendable = { send(command: object, options?: { abortSignal?: AbortSignal }): Promise<unknown> };

/**
 * The client as it is, except that a call made without an abort signal gets one that fires at
 * `until`: a call still hanging then fails in time, as a DeadlineError naming it, instead of running
 * into Lambda's timeout with nothing said. Calls that carry their own signal (the pre-warm's) keep it.
 */
export function boundedClient<C extends Sendable>(client: C, until: number, service: string): C {
  return new Proxy(client, {
    get(target, property) {
      if (property !== 'send') return Reflect.get(target, property, target);
      return (command: object, options?: { abortSignal?: AbortSignal }) => {
        if (options?.abortSignal) return target.send(command, options);
        // AbortSignal.timeout takes whole milliseconds only.
        const signal = AbortSignal.timeout(Math.max(0, Math.floor(until - Date.now())));
        return Promise.resolve(target.send(command, { ...options, abortSignal: signal })).catch(
          (error: unknown) => {
            if (!signal.aborted) throw error;
            const call = command.constructor.name.replace(/Command$/, '');
            throw new DeadlineError(`${service} ${call} cut short at the invocation's deadline`, {
              cause: new Error(errorMessage(error)),
            });
          },
        );
      };
    },
  });
}

/**
 * The invocation's AWS clients (whichever of ecr, secrets and cloudwatch `deps` has), each bounded:
 * the work's calls end a tenth of the budget (at most 2 s) before the deadline, to publish the
 * metrics, log and return; CloudWatch's (the metrics, published last) a fortieth (at most 0.5 s)
 * before it, to log and return.
 */
export function boundedByDeadline(
  deps: Partial<AwsClients>,
  invocation: { deadline: number; budgetMs: number },
): Partial<AwsClients> {
  const { deadline, budgetMs } = invocation;
  const work = deadline - Math.min(2_000, budgetMs / 10);
  const publish = deadline - Math.min(500, budgetMs / 40);
  const out: Partial<AwsClients> = {};
  if (deps.ecr) out.ecr = boundedClient(deps.ecr, work, 'ECR');
  if (deps.secrets) out.secrets = boundedClient(deps.secrets, work, 'Secrets Manager');
  if (deps.cloudwatch) out.cloudwatch = boundedClient(deps.cloudwatch, publish, 'CloudWatch');
  return out;
}
