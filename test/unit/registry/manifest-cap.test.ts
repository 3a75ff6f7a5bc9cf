/** A manifest over 4 MiB (the OCI distribution spec's suggested limit) is refused, announced or not. */
import { describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../lib/registry/client.js';

const big = Buffer.alloc(5 * 1024 * 1024, 0x20);
const registry =
  (announce: boolean): typeof fetch =>
  async () =>
    new Response(big, {
      status: 200,
      headers: {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        ...(announce ? { 'content-length': String(big.length) } : {}),
      },
    });

describe('manifest size cap', () => {
  it.each([
    ['with its size announced', true],
    ['streamed without a length', false],
  ])('refuses a 5 MiB manifest %s, with a clear cause', async (_name, announce) => {
    const client = new RegistryClient({
      baseUrl: 'https://registry.test',
      fetch: registry(announce),
      attempts: 1,
    });
    await expect(client.getManifest('library/node', '22')).rejects.toMatchObject({
      kind: 'protocol',
      message: expect.stringMatching(/over the 4194304-byte limit/),
    });
  });
});
