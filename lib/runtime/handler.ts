/**
 * The wrapper every Lambda handler goes through (middy): parses the event, loads the config once
 * per container, gives the logic a logger and a deadline, logs start/end/failure as JSON with
 * secrets redacted, and rethrows errors with their cause so Lambda marks the invocation failed.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { KeeperConfig } from '../config/load.js';
import { readResolvedConfig } from '../config/resolved.js';
import { createLogger, type Logger } from './logger.js';

export interface HandlerDeps {
  config: KeeperConfig;
  logger: Logger;
  /** Absolute time (ms) by which the invocation must have returned its report. */
  deadline: number;
  lambda: Context;
}

let cachedConfig: KeeperConfig | undefined;

/**
 * The resolved config: KEEPER_RESOLVED_CONFIG (relative paths from the bundle's directory in
 * Lambda), else keeper.resolved.json beside the bundle or in the working directory.
 */
export function resolvedConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const path = env.KEEPER_RESOLVED_CONFIG ?? 'keeper.resolved.json';
  const root = env.LAMBDA_TASK_ROOT;
  return root && !isAbsolute(path) && existsSync(join(root, path)) ? join(root, path) : path;
}

export function containerConfig(): KeeperConfig {
  cachedConfig ??= readResolvedConfig(resolvedConfigPath());
  return cachedConfig;
}

/** Forget the cached config (the CLI and tests switch configs between runs). */
export function resetContainerConfig(): void {
  cachedConfig = undefined;
}

export function keeperHandler<TEvent, TResult>(
  name: string,
  parseEvent: (event: unknown) => TEvent,
  run: (event: TEvent, deps: HandlerDeps) => Promise<TResult>,
) {
  const baseLogger = createLogger({ context: { function: name } });
  return middy<unknown, TResult, Error, Context>().handler(async (rawEvent, lambda) => {
    const logger = baseLogger.child({ requestId: lambda?.awsRequestId });
    const started = Date.now();
    const remaining =
      typeof lambda?.getRemainingTimeInMillis === 'function' ? lambda.getRemainingTimeInMillis() : 900_000;
    try {
      const event = parseEvent(rawEvent);
      const deps: HandlerDeps = { config: containerConfig(), logger, deadline: started + remaining, lambda };
      logger.info(`${name} started`);
      const result = await run(event, deps);
      logger.info(`${name} finished`, { durationMs: Date.now() - started });
      return result;
    } catch (error) {
      logger.error(`${name} failed`, { error, durationMs: Date.now() - started });
      throw error;
    }
  });
}
