/**
 * npm run sandbox [-- --empty] [--pat-expires-in-days N] [--state-dir DIR]
 *                    [--ecr-recheck head|get] [--index-children all|requested]
 *                    [--pull-time-refresh daily|every-pull] [--upstream-prefix-scope ecr-only|any]
 * Starts the sandbox, prints `export KEY=value` lines for a shell, the CLI or
 * `serverless invoke local`, and keeps running until interrupted. The last four choose how it plays
 * what AWS does not document (docs/sandbox.md); each default is the stricter.
 */
import { parseArgs } from 'node:util';
import { type SandboxOptions, startSandbox } from './index.js';

const { values } = parseArgs({
  options: {
    empty: { type: 'boolean', default: false },
    'pat-expires-in-days': { type: 'string' },
    'state-dir': { type: 'string' },
    'ecr-recheck': { type: 'string' },
    'index-children': { type: 'string' },
    'pull-time-refresh': { type: 'string' },
    'upstream-prefix-scope': { type: 'string' },
  },
});

/** One of `allowed`, or exit 2 naming the option and what it takes. */
function choice<T extends string>(option: string, allowed: readonly T[]): T | undefined {
  const value = values[option as keyof typeof values];
  if (value === undefined) return undefined;
  if (allowed.includes(value as T)) return value as T;
  process.stderr.write(`sandbox: --${option} takes ${allowed.join(' or ')}, not "${String(value)}"\n`);
  process.exit(2);
}

const settings: SandboxOptions = {
  ecrRecheck: choice('ecr-recheck', ['head', 'get']),
  indexChildren: choice('index-children', ['all', 'requested']),
  pullTimeRefresh: choice('pull-time-refresh', ['daily', 'every-pull']),
  upstreamPrefixScope: choice('upstream-prefix-scope', ['ecr-only', 'any']),
};
const sandbox = await startSandbox({
  ...settings,
  empty: values.empty,
  stateDir: values['state-dir'],
  seed: {
    patExpiresInDays: values['pat-expires-in-days'] ? Number(values['pat-expires-in-days']) : undefined,
  },
});
for (const [key, value] of Object.entries(sandbox.env)) process.stdout.write(`export ${key}=${value}\n`);
process.stderr.write(
  `# sandbox running: AWS APIs ${sandbox.urls.aws}, ECR registry ${sandbox.urls.registry}, ` +
    `Docker Hub ${sandbox.urls.dockerHub}, Hub API ${sandbox.urls.hubApi}` +
    (sandbox.seeded
      ? `; Docker Hub user ${sandbox.seeded.username}, secret ecr-pullthroughcache/docker-hub`
      : '; empty') +
    '\n# Ctrl-C to stop\n',
);
const stop = async () => {
  await sandbox.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
