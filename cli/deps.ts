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
import { KeeperError } from '../lib/runtime/errors.js';
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

/**
 * The cache's registry host: --registry, else the account's, as ECR gives it. Run from an account
 * `access:` lets pull through the cache (CI's, not the cache's), ECR would give that account's own
 * registry, which holds no cache: refused, saying to pass --registry.
 */
export async function registryHost(options: {
  registry?: string;
  deps: () => Pick<CommandDeps, 'ecr' | 'config'>;
}): Promise<string> {
  if (options.registry) return options.registry;
  const { ecr, config } = options.deps();
  const auth = await ecr.send(new GetAuthorizationTokenCommand({}));
  const host = new URL(auth.authorizationData![0]!.proxyEndpoint!).host;
  const account = host.split('.')[0]!;
  if (config.access?.accounts.includes(account))
    throw new KeeperError(
      `these credentials are account ${account}'s, one that access: lets pull through the cache, and its registry holds no cache: pass --registry <the cache's account>.dkr.ecr.<region>.amazonaws.com`,
    );
  return host;
}
