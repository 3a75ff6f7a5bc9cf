/**
 * `serverless package` as a user runs it (the real osls CLI, no AWS credentials), into a directory
 * of its own: its exit code and everything it printed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function serverlessPackage(
  args: string[],
  options: { config?: string } = {},
): Promise<{ code: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-package-'));
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_REGION: 'us-east-1' };
  for (const key of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'KEEPER_CONFIG',
  ])
    delete env[key];
  if (options.config) env.KEEPER_CONFIG = options.config;
  return run('npx', ['serverless', 'package', '--package', join(dir, 'out'), ...args], { env }).then(
    () => ({ code: 0, output: '' }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      output: `${error.stdout}${error.stderr}`,
    }),
  );
}
