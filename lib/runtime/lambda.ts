/**
 * The Lambda default: the one place a handler's dependencies come from the environment. Built on
 * the first invocation and kept for the container's life: the resolved config (written by
 * `serverless package`), the AWS clients (region and endpoints as the SDK reads them), the logger
 * to stdout (CloudWatch Logs), the endpoints, the real `fetch` and clock.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Context } from 'aws-lambda';
import { type AwsClientConfig, awsClientConfig, namingFailures } from '../aws/clients.js';
import { readResolvedConfig } from '../config/resolved.js';
import { endpointsFromEnv } from '../registry/upstreams.js';
import { createRuntime, type Runtime } from './deps.js';
import type { LambdaHandler } from './handler.js';
import { createLogger } from './logger.js';

/**
 * The resolved config: KEEPER_RESOLVED_CONFIG (relative paths from the bundle's directory in
 * Lambda), else keeper.resolved.json beside the bundle or in the working directory.
 */
export function resolvedConfigPath(env: NodeJS.ProcessEnv): string {
  const path = env.KEEPER_RESOLVED_CONFIG ?? 'keeper.resolved.json';
  const root = env.LAMBDA_TASK_ROOT;
  return root && !isAbsolute(path) && existsSync(join(root, path)) ? join(root, path) : path;
}

/** The runtime a Lambda container gets from its environment. */
export function lambdaRuntime(env: NodeJS.ProcessEnv = process.env): Runtime {
  return createRuntime(readResolvedConfig(resolvedConfigPath(env)), {
    logger: createLogger({ level: env.LOG_LEVEL }),
    endpoints: endpointsFromEnv(env),
  });
}

/**
 * The exported `handler` of a Lambda function: builds `make`'s dependencies once per container,
 * `clients` giving the AWS clients (and settings) this function uses, so each bundle carries only
 * the SDK clients its function needs. A failure to build is logged and fails the invocation; the
 * next invocation tries again.
 */
export function lambdaEntry<TResult, Deps extends Runtime>(
  name: string,
  make: (deps: Deps) => LambdaHandler<TResult>,
  clients: (aws: AwsClientConfig, env: NodeJS.ProcessEnv) => Omit<Deps, keyof Runtime>,
): LambdaHandler<TResult> {
  let built: LambdaHandler<TResult> | undefined;
  return async (event: unknown, context: Context) => {
    if (!built) {
      const env = process.env;
      try {
        const runtime = lambdaRuntime(env);
        built = make({ ...runtime, ...namingFailures(clients(awsClientConfig({}, env), env)) } as Deps);
      } catch (error) {
        createLogger({ level: env.LOG_LEVEL, context: { function: name } }).error(`${name} failed`, {
          error,
        });
        throw error;
      }
    }
    return built(event, context);
  };
}
