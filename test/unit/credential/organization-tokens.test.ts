/** What an organization access token minted for the cache may reach, for the scopes the config names. */
import { describe, expect, it } from 'vitest';
import { oatResources } from '../../../lib/dockerhub/hub-api.js';

const publicPull = { type: 'TYPE_REPO', path: '*/*/public', scopes: ['scope-image-pull'] };
const orgPull = { type: 'TYPE_REPO', path: 'acme-org/*', scopes: ['scope-image-pull'] };

describe('oatResources', () => {
  it.each<[string[], object[]]>([
    [['repo:public_read'], [publicPull]],
    [['repo:read'], [publicPull, orgPull]],
    [
      ['repo:public_read', 'repo:read'],
      [publicPull, orgPull],
    ],
    // Pull is all a cache does: write or admin scopes give the token no more than pulls.
    [['repo:write'], [publicPull, orgPull]],
    [['repo:admin'], [publicPull, orgPull]],
  ])('%j: %j', (scopes, resources) => {
    expect(oatResources('acme-org', scopes)).toEqual(resources);
  });
});
