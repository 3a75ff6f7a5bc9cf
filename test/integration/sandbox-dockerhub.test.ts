/** The Docker Hub stand-in: pull accounting, rate limits, PAT states, the Hub API, faults, and the client's reactions. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../lib/registry/client.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';

let sandbox: Sandbox;
const DAY = 86_400_000;

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(() => sandbox.stop());
beforeEach(() => sandbox.faults.clear());

const hubClient = (password = sandbox.seeded!.pat.token) =>
  new RegistryClient({
    baseUrl: sandbox.urls.dockerHub,
    credentials: { username: sandbox.seeded!.username, password },
    baseDelayMs: 1,
  });

describe('pull accounting', () => {
  it('HEAD is free and reports the quota; a GET of an image manifest counts one pull', async () => {
    const client = hubClient();
    const before = await client.headManifest('library/redis', '7');
    expect(before.rateLimit).toMatchObject({
      limit: 200,
      windowSeconds: 21_600,
      source: sandbox.seeded!.username,
    });
    const again = await client.headManifest('library/redis', '7');
    expect(again.rateLimit?.remaining).toBe(before.rateLimit?.remaining);
    await client.getManifest('library/redis', '7');
    const after = await client.headManifest('library/redis', '7');
    expect(after.rateLimit!.remaining).toBe(before.rateLimit!.remaining - 1);
  });

  it('a multi-platform pull costs one pull per platform (the index itself is free)', async () => {
    const client = hubClient();
    const start = (await client.headManifest('library/golang', '1.24')).rateLimit!.remaining;
    const index = await client.getManifest('library/golang', '1.24');
    for (const child of index.json.manifests!) await client.getManifest('library/golang', child.digest);
    expect((await client.headManifest('library/golang', '1.24')).rateLimit!.remaining).toBe(start - 2);
  });

  it('answers 429 TOOMANYREQUESTS when the quota is spent, and the client does not retry it', async () => {
    sandbox.hub.setRemaining(sandbox.seeded!.username, 0);
    const before = sandbox.hub.manifestRequests.length;
    const error = await hubClient()
      .getManifest('library/redis', '7')
      .catch((e) => e);
    expect(error).toMatchObject({ kind: 'rate-limited', details: { status: 429, code: 'TOOMANYREQUESTS' } });
    expect(sandbox.hub.manifestRequests.length - before).toBe(1);
    sandbox.hub.setRemaining(sandbox.seeded!.username, 150);
  });

  it('moving a tag (an upstream release) changes its digest', async () => {
    const before = sandbox.hub.digestOf('library/busybox', '1.36');
    const after = sandbox.hub.release('library/busybox', '1.36');
    expect(after).not.toBe(before);
    expect((await hubClient().headManifest('library/busybox', '1.36')).digest).toBe(after);
  });
});

describe('personal access tokens at the token realm', () => {
  it("an expired PAT is refused with Docker Hub's body, once", async () => {
    const user = sandbox.hubAccounts.users.get(sandbox.seeded!.username)!;
    const pat = sandbox.hubAccounts.createPat(
      user,
      'old',
      ['repo:public_read'],
      new Date(sandbox.clock.now() - DAY).toISOString(),
    );
    const error = await hubClient(pat.token)
      .headManifest('library/redis', '7')
      .catch((e) => e);
    expect(error).toMatchObject({
      kind: 'auth',
      details: { status: 401, code: 'personal access token is expired' },
    });
  });

  it('a deactivated PAT is refused', async () => {
    const user = sandbox.hubAccounts.users.get(sandbox.seeded!.username)!;
    const pat = sandbox.hubAccounts.createPat(user, 'revoked', ['repo:public_read']);
    pat.is_active = false;
    await expect(hubClient(pat.token).login('library/redis')).rejects.toMatchObject({ kind: 'auth' });
  });

  it('repeated failed logins are throttled per username', async () => {
    sandbox.hubAccounts.addUser('victim', 'right-password');
    // A client asks no more once refused, so each attempt is a client of its own (a run each).
    const wrong = () =>
      new RegistryClient({
        baseUrl: sandbox.urls.dockerHub,
        credentials: { username: 'victim', password: 'wrong' },
      });
    for (let i = 0; i < 5; i++)
      await expect(wrong().login('library/redis')).rejects.toMatchObject({ kind: 'auth' });
    await expect(wrong().login('library/redis')).rejects.toMatchObject({ kind: 'rate-limited' });
    const good = new RegistryClient({
      baseUrl: sandbox.urls.dockerHub,
      credentials: { username: 'victim', password: 'right-password' },
    });
    await expect(good.login('library/redis')).rejects.toMatchObject({ kind: 'rate-limited' });
    sandbox.clock.advance(11 * 60_000);
    await expect(good.login('library/redis')).resolves.toBeUndefined();
  });

  it('an unknown repository is a 401 auth error, as Docker Hub cannot tell it from a private one', async () => {
    await expect(hubClient().headManifest('library/does-not-exist', '1')).rejects.toMatchObject({
      kind: 'auth',
    });
  });
});

describe('the Hub API', () => {
  const api = (path: string, init: RequestInit = {}) => fetch(`${sandbox.urls.hubApi}${path}`, init);
  const jwt = async (secret: string) => {
    const res = await api('/v2/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: sandbox.seeded!.username, secret }),
    });
    return ((await res.json()) as { access_token: string }).access_token;
  };

  it('creates, lists, deactivates and deletes PATs with a password login', async () => {
    const auth = {
      authorization: `Bearer ${await jwt(sandbox.seeded!.password)}`,
      'content-type': 'application/json',
    };
    const created = await api('/v2/access-tokens', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        token_label: 'test',
        scopes: ['repo:public_read'],
        expires_at: '2027-01-01T00:00:00Z',
      }),
    });
    expect(created.status).toBe(201);
    const pat = (await created.json()) as { uuid: string; token: string; expires_at: string };
    expect(pat.token).toMatch(/^dckr_pat_/);
    const list = (await (await api('/v2/access-tokens?page_size=100', { headers: auth })).json()) as {
      results: Array<{ uuid: string; token?: string }>;
    };
    expect(list.results.find((p) => p.uuid === pat.uuid)).toBeDefined();
    expect(list.results.every((p) => p.token === undefined)).toBe(true);
    const patched = await api(`/v2/access-tokens/${pat.uuid}`, {
      method: 'PATCH',
      headers: auth,
      body: JSON.stringify({ is_active: false }),
    });
    expect(((await patched.json()) as { is_active: boolean }).is_active).toBe(false);
    expect((await api(`/v2/access-tokens/${pat.uuid}`, { method: 'DELETE', headers: auth })).status).toBe(
      204,
    );
    expect((await api(`/v2/access-tokens/${pat.uuid}`, { headers: auth })).status).toBe(404);
  });

  it.each([
    ['empty', ''],
    ['over 100 characters', 'x'.repeat(101)],
  ])('refuses a token_label that is %s, as the Hub API schema does (400)', async (_name, token_label) => {
    const created = await api('/v2/access-tokens', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await jwt(sandbox.seeded!.password)}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ token_label, scopes: ['repo:public_read'] }),
    });
    expect(created.status).toBe(400);
  });

  it('refuses to manage PATs with a JWT minted from a PAT (403)', async () => {
    const auth = { authorization: `Bearer ${await jwt(sandbox.seeded!.pat.token)}` };
    expect((await api('/v2/access-tokens', { headers: auth })).status).toBe(403);
  });
});

describe('fault injection', () => {
  it('upstream 500s are retried with backoff until they pass', async () => {
    sandbox.faults.add({ match: 'hub:GET /v2/library/nginx/manifests', status: 500, times: 2 });
    const manifest = await hubClient().getManifest('library/nginx', '1.27');
    expect(manifest.digest).toBe(sandbox.hub.digestOf('library/nginx', '1.27'));
  });

  it('a dropped connection is a network error, retried', async () => {
    sandbox.faults.add({ match: 'hub:HEAD /v2/library/nginx/manifests', drop: true, times: 1 });
    await expect(hubClient().headManifest('library/nginx', '1.27')).resolves.toMatchObject({
      digest: sandbox.hub.digestOf('library/nginx', '1.27'),
    });
  });

  it('persistent 500s end as a server error after the bounded attempts', async () => {
    const fault = sandbox.faults.add({ match: 'hub:HEAD /v2/library/postgres/manifests', status: 503 });
    await expect(hubClient().headManifest('library/postgres', '17')).rejects.toMatchObject({
      kind: 'server',
    });
    expect(fault.hits).toBe(4);
  });

  it('injected latency delays an answer', async () => {
    sandbox.faults.add({ match: 'hub:HEAD /v2/library/ubuntu/manifests', latencyMs: 120, times: 1 });
    const client = hubClient();
    await client.login('library/ubuntu');
    const started = performance.now();
    await client.headManifest('library/ubuntu', '24.04');
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
  });
});
