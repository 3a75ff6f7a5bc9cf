/**
 * The real osls CLI as a user runs it, with no AWS credentials: `serverless package` into a
 * directory of its own, or any other command (`print`); its exit code and everything it printed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServerlessOptions {
  config?: string;
  /** Variables to set, or to unset (undefined), over the test's environment. */
  env?: Record<string, string | undefined>;
}

export async function serverless(
  args: string[],
  options: ServerlessOptions = {},
): Promise<{ code: number; output: string }> {
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
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return run('npx', ['serverless', ...args], { env }).then(
    ({ stdout, stderr }) => ({ code: 0, output: `${stdout}${stderr}` }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      output: `${error.stdout}${error.stderr}`,
    }),
  );
}

export async function serverlessPackage(
  args: string[],
  options: ServerlessOptions = {},
): Promise<{ code: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-package-'));
  return serverless(['package', '--package', join(dir, 'out'), ...args], options);
}
