/**
 * The region the stack is deployed to, when neither --region nor AWS_REGION / AWS_DEFAULT_REGION
 * give it: the region of the profile whose credentials serverless deploys with (the real osls CLI,
 * `serverless print`, no AWS). A different profile's region would put the stack where `plan` and the
 * credentials do not look.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serverless } from './support/serverless-package.js';

function awsConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-aws-config-'));
  const file = join(dir, 'config');
  writeFileSync(
    file,
    ['[default]', 'region = us-west-2', '', '[profile prod]', 'region = eu-west-2', ''].join('\n'),
  );
  return file;
}

const noRegion = { AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined };
const printRegion = (args: string[], env: Record<string, string | undefined>) =>
  serverless(['print', '--path', 'provider.region', ...args], { env: { ...noRegion, ...env } });

describe('the stack region from a profile', () => {
  it.each([
    ['no profile named: the default profile', [], {}, 'us-west-2'],
    ['--aws-profile prod', ['--aws-profile', 'prod'], {}, 'eu-west-2'],
    ['AWS_PROFILE=prod', [], { AWS_PROFILE: 'prod' }, 'eu-west-2'],
    [
      'AWS_PROD_PROFILE=prod with --stage prod',
      ['--stage', 'prod'],
      { AWS_PROD_PROFILE: 'prod' },
      'eu-west-2',
    ],
    ['--region over any profile', ['--aws-profile', 'prod', '--region', 'ap-south-1'], {}, 'ap-south-1'],
  ])(
    '%s → %s',
    async (_, args, env, region) => {
      const printed = await printRegion(args, { AWS_CONFIG_FILE: awsConfig(), ...env });
      expect(printed.code, printed.output).toBe(0);
      expect(printed.output.trim().split('\n').at(-1)).toBe(region);
    },
    60_000,
  );

  it('no region anywhere: one line naming the ways to set it and the profile it read, no stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keeper-aws-empty-'));
    const printed = await printRegion(['--aws-profile', 'ci'], { AWS_CONFIG_FILE: join(dir, 'config') });
    expect(printed.code).not.toBe(0);
    expect(printed.output).toContain(
      `no AWS region: pass --region, set AWS_REGION (or AWS_DEFAULT_REGION), or set region in profile "ci" of ${join(dir, 'config')}`,
    );
    expect(printed.output).not.toMatch(/^\s+at /m);
  }, 60_000);
});
