/** A request that got no answer says why, as Node's fetch reports it (its cause), not just "fetch failed". */
import { describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../lib/registry/client.js';

/** What Node's fetch (undici) throws: a TypeError "fetch failed" whose cause is the socket's error. */
const fetchFailing =
  (cause: unknown): typeof fetch =>
  async () => {
    throw Object.assign(new TypeError('fetch failed'), { cause });
  };

describe('network errors', () => {
  it.each([
    [
      'connection closed without an answer',
      Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
      'HEAD https://registry.test/v2/library/node/manifests/22: fetch failed (UND_ERR_SOCKET: other side closed)',
    ],
    [
      'name not resolved',
      Object.assign(new Error('getaddrinfo ENOTFOUND registry.test'), { code: 'ENOTFOUND' }),
      'HEAD https://registry.test/v2/library/node/manifests/22: fetch failed (ENOTFOUND: getaddrinfo ENOTFOUND registry.test)',
    ],
    [
      'a cause without a code',
      new Error('connect timeout'),
      'HEAD https://registry.test/v2/library/node/manifests/22: fetch failed (connect timeout)',
    ],
    ['no cause at all', undefined, 'HEAD https://registry.test/v2/library/node/manifests/22: fetch failed'],
  ])('%s', async (_case, cause, message) => {
    const client = new RegistryClient({
      baseUrl: 'https://registry.test',
      fetch: fetchFailing(cause),
      attempts: 1,
    });
    await expect(client.headManifest('library/node', '22')).rejects.toMatchObject({
      kind: 'network',
      message,
    });
  });
});
