/** How the one registry client presents each kind of credential on its first request. */
import { describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../lib/registry/client.js';

const digest = `sha256:${'a'.repeat(64)}`;

/** A registry that wants Basic: 401 with a Basic challenge unless the request carries it. */
function basicRegistry(seen: Array<string | null>): typeof fetch {
  return async (_url, init) => {
    const auth = new Headers(init?.headers).get('authorization');
    seen.push(auth);
    if (!auth)
      return new Response(null, { status: 401, headers: { 'www-authenticate': 'Basic realm="ecr"' } });
    return new Response(null, {
      status: 200,
      headers: { 'docker-content-digest': digest, 'content-type': 'application/vnd.oci.image.index.v1+json' },
    });
  };
}

describe('registry credentials', () => {
  it('a ready-made Basic token (ECR) goes on the first request: concurrent first requests meet no 401', async () => {
    const seen: Array<string | null> = [];
    const client = new RegistryClient({
      baseUrl: 'https://cache.test',
      credentials: { basic: 'QVdTOnRva2Vu' },
      fetch: basicRegistry(seen),
    });
    await Promise.all([1, 2, 3].map(() => client.headManifest('docker-hub/library/node', '22')));
    expect(seen).toEqual(['Basic QVdTOnRva2Vu', 'Basic QVdTOnRva2Vu', 'Basic QVdTOnRva2Vu']);
  });

  it('a username and password wait for the challenge (Docker Hub wants a bearer token, not Basic)', async () => {
    const seen: Array<string | null> = [];
    const client = new RegistryClient({
      baseUrl: 'https://registry.test',
      credentials: { username: 'keeper', password: 'pat-value' },
      fetch: basicRegistry(seen),
    });
    await client.headManifest('library/node', '22');
    expect(seen[0]).toBeNull();
    expect(seen[1]).toMatch(/^Basic /);
  });
});
