/**
 * A registry's refusal says why: ECR's registry endpoint answers a denied pull with IAM's own words
 * (which action, which resource, which kind of policy), and the report must carry them.
 */
import { describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../lib/registry/client.js';

const answering =
  (status: number, body: string): typeof fetch =>
  async () =>
    new Response(body, { status, headers: { 'content-type': 'application/json' } });
const client = (status: number, body: string) =>
  new RegistryClient({ baseUrl: 'https://registry.test', fetch: answering(status, body), attempts: 1 });
const denial =
  'User: arn:aws:sts::1:assumed-role/prewarm/s is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:1:repository/docker-hub/library/redis with an explicit deny in a resource-based policy';

describe('a refused request', () => {
  it.each<[string, number, string, RegExp]>([
    [
      "ECR's denial, in IAM's words",
      403,
      JSON.stringify({ errors: [{ code: 'DENIED', message: denial }] }),
      /\[DENIED\]: access denied \(HTTP 403\): User: .* is not authorized to perform: ecr:BatchGetImage on resource: .*repository\/docker-hub\/library\/redis with an explicit deny in a resource-based policy$/,
    ],
    [
      "Docker Hub's, in its own",
      401,
      JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }),
      /\[UNAUTHORIZED\]: access denied \(HTTP 401\): authentication required$/,
    ],
    [
      "S3's refusal of a layer download (ECR's storage, behind a VPC endpoint's policy), in its XML",
      403,
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>R</RequestId></Error>',
      /\[AccessDenied\]: access denied \(HTTP 403\): Access Denied$/,
    ],
    ['a body that says nothing', 403, '{}', /: access denied \(HTTP 403\)$/],
    ['a body that is not JSON', 403, '<html>Forbidden</html>', /: access denied \(HTTP 403\)$/],
    [
      'a long message, cut',
      403,
      JSON.stringify({ errors: [{ code: 'DENIED', message: `${'x'.repeat(2000)}` }] }),
      /: access denied \(HTTP 403\): x{500}…$/,
    ],
  ])('%s', async (_name, status, body, message) => {
    const refused = await client(status, body)
      .getManifest('docker-hub/library/redis', '7')
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ kind: 'auth', message: expect.stringMatching(message) });
  });
});
