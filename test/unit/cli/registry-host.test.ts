/** Which registry the CLI points references at when no --registry is given. */
import type { ECRClient } from '@aws-sdk/client-ecr';
import { describe, expect, it } from 'vitest';
import { registryHost } from '../../../cli/deps.js';
import { parseConfig } from '../../../lib/config/load.js';

const RULE = 'rules:\n  - prefix: quay\n    upstream: quay\n    template: {}\n';
/** An ECR client whose GetAuthorizationToken names `account`'s registry, as ECR does for the caller. */
const ecrOf = (account: string) =>
  ({
    send: async () => ({
      authorizationData: [{ proxyEndpoint: `https://${account}.dkr.ecr.eu-west-1.amazonaws.com` }],
    }),
  }) as unknown as ECRClient;

describe('registryHost', () => {
  it("is the caller's registry, as ECR gives it", async () => {
    const config = parseConfig(`${RULE}access:\n  accounts: ['222222222222']\n`);
    await expect(registryHost({ deps: () => ({ ecr: ecrOf('123456789012'), config }) })).resolves.toBe(
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    );
  });

  it('refuses the registry of an account access: lets pull (CI’s own holds no cache), saying to pass --registry', async () => {
    const config = parseConfig(`${RULE}access:\n  accounts: ['222222222222']\n`);
    await expect(registryHost({ deps: () => ({ ecr: ecrOf('222222222222'), config }) })).rejects.toThrow(
      "these credentials are account 222222222222's, one that access: lets pull through the cache, and its registry holds no cache: pass --registry <the cache's account>.dkr.ecr.<region>.amazonaws.com",
    );
  });

  it('takes --registry as given, asking nothing', async () => {
    const config = parseConfig(RULE);
    const ecr = { send: async () => Promise.reject(new Error('asked')) } as unknown as ECRClient;
    await expect(registryHost({ registry: 'r.example', deps: () => ({ ecr, config }) })).resolves.toBe(
      'r.example',
    );
  });
});
