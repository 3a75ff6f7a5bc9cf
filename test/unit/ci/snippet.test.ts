import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CI_SYSTEMS, ciSnippet, registryRegion } from '../../../lib/ci/snippet.js';

const host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const example = `${host}/docker-hub/library/node:22`;

describe('ci-snippet', () => {
  it.each(CI_SYSTEMS)(
    '%s: valid YAML that logs in to the account’s registry in its region and pulls through it',
    (system) => {
      const text = ciSnippet(system, { registryHost: host, example });
      const doc = parse(text);
      expect(doc).toBeTypeOf('object');
      expect(text).toContain(`docker pull ${example}`);
      expect(text).toContain('ecr:BatchImportUpstreamImage');
      expect(text).toMatch(/eu-west-1/);
    },
  );

  it('github-actions assumes a role in the registry’s account and logs in with amazon-ecr-login', () => {
    const doc = parse(ciSnippet('github-actions', { registryHost: host, example }));
    expect(doc.permissions['id-token']).toBe('write');
    expect(doc.jobs.build.steps[0].with).toEqual({
      'role-to-assume': 'arn:aws:iam::123456789012:role/YOUR-CI-ROLE',
      'aws-region': 'eu-west-1',
    });
    expect(doc.jobs.build.steps[1].uses).toMatch(/^aws-actions\/amazon-ecr-login@/);
  });

  it.each([
    [host, 'eu-west-1'],
    ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn', 'cn-north-1'],
    ['123456789012.dkr.ecr-fips.us-east-1.amazonaws.com', 'us-east-1'],
  ])('%s is in %s', (h, region) => expect(registryRegion(h)).toBe(region));

  it('refuses a host that is not an ECR registry, saying what it expects', () => {
    expect(() => registryRegion('r.example')).toThrow(/"r\.example" is not an ECR registry host/);
  });
});
