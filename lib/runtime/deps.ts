/**
 * What every handler is built from besides its AWS clients: the config, a logger, `fetch`, a clock
 * and the endpoints. The Lambda entry point builds these once per container from its environment
 * (lib/runtime/lambda.ts); the CLI, the nightly cycle and the tests build their own. Nothing in
 * lib/ reads or writes `process.env` to find them.
 */
import type { KeeperConfig } from '../config/load.js';
import { type Endpoints, REAL_ENDPOINTS } from '../registry/upstreams.js';
import { createLogger, type Logger } from './logger.js';

export interface Runtime {
  config: KeeperConfig;
  logger: Logger;
  fetch: typeof fetch;
  /** The clock, ms since the epoch. */
  now: () => number;
  endpoints: Endpoints;
}

/** A runtime with the real network, clock and endpoints; override what differs. */
export function createRuntime(
  config: KeeperConfig,
  overrides: Partial<Omit<Runtime, 'config'>> = {},
): Runtime {
  return {
    config,
    logger: overrides.logger ?? createLogger(),
    fetch: overrides.fetch ?? ((input, init) => fetch(input, init)),
    now: overrides.now ?? (() => Date.now()),
    endpoints: overrides.endpoints ?? REAL_ENDPOINTS,
  };
}
