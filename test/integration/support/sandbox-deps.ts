/**
 * What a test hands the keeper to work against a sandbox: AWS clients, the runtime (config, a
 * logger whose entries are kept, the sandbox's endpoints), and the CLI's setup. Nothing is written
 * to `process.env`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliSetup } from '../../../cli/deps.js';
import { type AwsClients, createAwsClients } from '../../../lib/aws/clients.js';
import { type KeeperConfig, loadConfig } from '../../../lib/config/load.js';
import { createRuntime, type Runtime } from '../../../lib/runtime/deps.js';
import { createLogger, memorySink } from '../../../lib/runtime/logger.js';
import type { Sandbox } from '../../../sandbox/index.js';

export interface SandboxDeps {
  config: KeeperConfig;
  aws: AwsClients;
  /** Runtime and clients together: what every handler factory takes. */
  deps: Runtime & AwsClients;
  /** Every log entry the keeper wrote, as data. */
  logs: ReturnType<typeof memorySink>['entries'];
  /** For `runCli(argv, io, cli)`. */
  cli: CliSetup;
  /** The same runtime with the AWS clients of the stack's role for `fn`: its policy enforced. */
  as(fn: string): Runtime & AwsClients;
}

export function sandboxDeps(
  sandbox: Sandbox,
  config: KeeperConfig | string = 'keeper.config.yaml',
  options: { maxAttempts?: number; role?: string } = {},
): SandboxDeps {
  const resolved = typeof config === 'string' ? loadConfig(config) : config;
  const sink = memorySink();
  // As the stack's role for a function (its policy enforced), or as the sandbox's administrator.
  const clientOptions = options.role
    ? sandbox.roleClientOptions(options.role, resolved)
    : sandbox.clientOptions;
  const aws = createAwsClients({
    ...clientOptions,
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  });
  return {
    config: resolved,
    aws,
    deps: {
      ...createRuntime(resolved, { logger: createLogger({ sink }), endpoints: sandbox.endpoints }),
      ...aws,
    },
    logs: sink.entries,
    cli: { aws: sandbox.clientOptions, endpoints: sandbox.endpoints, env: { ...process.env } },
    as(fn) {
      return {
        ...this.deps,
        ...createAwsClients({
          ...sandbox.roleClientOptions(fn, resolved),
          ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
        }),
      };
    },
  };
}

/** Writes a config to a temporary file and returns its path. */
export function configFile(yaml: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'keeper-config-')), 'keeper.config.yaml');
  writeFileSync(path, yaml);
  return path;
}
