import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
/**
 * What a cache-keeper command works with: the runtime (config, logger, fetch, clock, endpoints) and
 * the AWS clients. Built from the environment by default (the SDK's own variables, plus
 * KEEPER_UPSTREAM_REGISTRIES and KEEPER_DOCKERHUB_API_URL); tests and embedders hand in their own.
 */
import { type AwsClientOptions, type AwsClients, createAwsClients } from '../lib/aws/clients.js';
import { resolveRegion } from '../lib/aws/region.js';
import type { KeeperConfig } from '../lib/config/load.js';
import { type Endpoints, endpointsFromEnv } from '../lib/registry/upstreams.js';
import { createRuntime, type Runtime } from '../lib/runtime/deps.js';
import { createLogger } from '../lib/runtime/logger.js';

export interface CliSetup {
  env?: NodeJS.ProcessEnv;
  /** --region */
  region?: string;
  /** AWS client options (endpoint, region, credentials); else the SDK reads the environment. */
  aws?: AwsClientOptions;
  endpoints?: Endpoints;
  fetch?: typeof fetch;
}

export type CommandDeps = Runtime & AwsClients;

export function commandDeps(config: KeeperConfig, setup: CliSetup = {}): CommandDeps {
  const env = setup.env ?? process.env;
  return {
    // Commands print reports; the logger is for the library's own warnings, on stderr.
    ...createRuntime(config, {
      logger: createLogger({
        level: env.LOG_LEVEL ?? 'warn',
        write: (line) => process.stderr.write(`${line}\n`),
      }),
      endpoints: setup.endpoints ?? endpointsFromEnv(env),
      ...(setup.fetch ? { fetch: setup.fetch } : {}),
    }),
    ...createAwsClients(
      { ...setup.aws, region: setup.region ?? setup.aws?.region ?? resolveRegion(env).region },
      env,
    ),
  };
}

/** The cache's registry host: --registry, else the account's, as ECR gives it. */
export async function registryHost(options: { registry?: string; deps: () => CommandDeps }): Promise<string> {
  if (options.registry) return options.registry;
  const auth = await options.deps().ecr.send(new GetAuthorizationTokenCommand({}));
  return new URL(auth.authorizationData![0]!.proxyEndpoint!).host;
}
