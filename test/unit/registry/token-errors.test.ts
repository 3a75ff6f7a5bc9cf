/** What a refused login says: only a 401 or 403 is the credentials being refused. */
import { describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../lib/registry/client.js';

/** A registry whose manifests ask for a bearer token, and a token endpoint answering `status`. */
const registry =
  (status: number, body: string): typeof fetch =>
  async (input) =>
    String(input).startsWith('https://auth.test/')
      ? new Response(body, { status, headers: { 'content-type': 'application/json' } })
      : new Response(null, {
          status: 401,
          headers: { 'www-authenticate': 'Bearer realm="https://auth.test/token",service="registry.test"' },
        });

describe('token endpoint errors', () => {
  it.each([
    [
      401,
      '{"details":"incorrect username or password"}',
      'auth',
      true,
      /refused the credentials \(HTTP 401: incorrect username or password\)/,
    ],
    [403, '{}', 'auth', true, /refused the credentials \(HTTP 403\)/],
    [
      429,
      '{"details":"too many failed login attempts"}',
      'rate-limited',
      false,
      /throttled the login \(HTTP 429: too many failed login attempts\)/,
    ],
    [500, '{"message":"boom"}', 'server', false, /token endpoint failed \(HTTP 500\)/],
    [503, 'unavailable', 'server', false, /token endpoint failed \(HTTP 503\)/],
    [400, '{"details":"invalid scope"}', 'auth', false, /refused the request \(HTTP 400: invalid scope\)/],
  ] as const)('HTTP %i: %s', async (status, body, kind, credentialsRejected, message) => {
    const client = new RegistryClient({
      baseUrl: 'https://registry.test',
      credentials: { username: 'keeper', password: 'not-a-real-secret' },
      fetch: registry(status, body),
      attempts: 1,
    });
    const error = await client.headManifest('library/node', '22').catch((e: unknown) => e);
    expect(error).toMatchObject({ kind, message: expect.stringMatching(message) });
    expect((error as { details: { credentialsRejected?: boolean } }).details.credentialsRejected).toBe(
      credentialsRejected,
    );
    if (!credentialsRejected) expect((error as Error).message).not.toMatch(/refused the credentials/);
  });
});
