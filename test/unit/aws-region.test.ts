/** The region, as the AWS CLI resolves it, and never a silent default. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandDeps } from '../../cli/deps.js';
import { RegionError, resolveRegion } from '../../lib/aws/region.js';
import { parseConfig } from '../../lib/config/load.js';

const configFile = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'aws-config-')), 'config');
  writeFileSync(path, text);
  return path;
};
const AWS_CONFIG = configFile(`[default]
region = us-west-2

[profile eu]
output = json
region = eu-west-1

[profile none]
output = json
`);

describe('resolveRegion', () => {
  it.each<[string, NodeJS.ProcessEnv, string | undefined, string]>([
    ['the flag first', { AWS_REGION: 'us-east-2', AWS_CONFIG_FILE: AWS_CONFIG }, 'ap-south-1', 'ap-south-1'],
    [
      'AWS_REGION',
      { AWS_REGION: 'us-east-2', AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: AWS_CONFIG },
      undefined,
      'us-east-2',
    ],
    [
      'AWS_DEFAULT_REGION',
      { AWS_DEFAULT_REGION: 'ca-central-1', AWS_CONFIG_FILE: AWS_CONFIG },
      undefined,
      'ca-central-1',
    ],
    ['the profile’s region', { AWS_PROFILE: 'eu', AWS_CONFIG_FILE: AWS_CONFIG }, undefined, 'eu-west-1'],
    ['the default profile’s region', { AWS_CONFIG_FILE: AWS_CONFIG }, undefined, 'us-west-2'],
  ])('%s', (_name, env, flag, region) => {
    expect(resolveRegion(env, flag).region).toBe(region);
  });

  it('says how to set one when there is none, instead of a silent us-east-1', () => {
    expect(() => resolveRegion({ AWS_PROFILE: 'none', AWS_CONFIG_FILE: AWS_CONFIG })).toThrow(RegionError);
    expect(() => resolveRegion({ AWS_CONFIG_FILE: '/nonexistent' })).toThrow(
      /pass --region, set AWS_REGION \(or AWS_DEFAULT_REGION\), or set region in profile "default"/,
    );
  });

  it('the CLI’s AWS clients use the profile’s region', async () => {
    const config = parseConfig('rules:\n  - { prefix: quay, upstream: quay }\n');
    const deps = commandDeps(config, {
      env: { AWS_PROFILE: 'eu', AWS_CONFIG_FILE: AWS_CONFIG },
      aws: { credentials: { accessKeyId: 'a', secretAccessKey: 'b' } },
    });
    expect(await deps.ecr.config.region()).toBe('eu-west-1');
  });
});
