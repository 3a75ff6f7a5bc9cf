/**
 * npm run sandbox [-- --empty] [--pat-expires-in-days N] [--state-dir DIR]
 * Starts the sandbox, prints `export KEY=value` lines for a shell, the CLI or
 * `serverless invoke local`, and keeps running until interrupted.
 */
import { parseArgs } from 'node:util';
import { startSandbox } from './index.js';

const { values } = parseArgs({
  options: {
    empty: { type: 'boolean', default: false },
    'pat-expires-in-days': { type: 'string' },
    'state-dir': { type: 'string' },
  },
});

const sandbox = await startSandbox({
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
