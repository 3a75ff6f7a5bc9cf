/**
 * One registry-client suite, run against the sandbox's Docker Hub (token auth) and against the
 * real CNCF distribution registry (Basic auth), so the sandbox cannot drift from a real registry.
 */
import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../lib/registry/client.js';
import { RegistryError } from '../../lib/registry/errors.js';
import { buildImage } from '../../sandbox/dockerhub/images.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { pushImage } from './support/push.js';
import { type RealRegistry, realRegistryAvailable, startRealRegistry } from './support/real-registry.js';

interface Target {
  baseUrl: string;
  credentials: { username: string; password: string };
  /** Publishes an image under repository:tag and returns the top digest. */
  publish(repository: string, tag: string, platforms: string[], layerSizes?: number[]): Promise<string>;
  stop(): Promise<void>;
}

async function sandboxTarget(): Promise<Target> {
  const sandbox: Sandbox = await startSandbox({ seed: { images: [] } });
  return {
    baseUrl: sandbox.urls.dockerHub,
    credentials: { username: sandbox.seeded!.username, password: sandbox.seeded!.pat.token },
    publish: async (repository, tag, platforms, layerSizes) =>
      sandbox.hub.publish(repository, tag, { platforms, layerSizes }),
    stop: () => sandbox.stop(),
  };
}

async function realTarget(): Promise<Target> {
  const registry: RealRegistry = await startRealRegistry();
  const authorization = `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}`;
  return {
    baseUrl: registry.url,
    credentials: { username: registry.username, password: registry.password },
    publish: async (repository, tag, platforms, layerSizes) => {
      const image = buildImage(repository, tag, 0, { platforms, layerSizes });
      await pushImage(registry.url, authorization, repository, tag, image);
      return image.top.digest;
    },
    stop: () => registry.stop(),
  };
}

const targets: Array<[string, () => Promise<Target>, boolean]> = [
  ['sandbox Docker Hub', sandboxTarget, true],
  ['real distribution registry', realTarget, realRegistryAvailable()],
];

describe.each(targets)('registry client against the %s', (_name, start, available) => {
  let target: Target;
  let multiDigest: string;
  let singleDigest: string;

  beforeAll(async () => {
    if (!available) return;
    target = await start();
    multiDigest = await target.publish('library/multi', '1.0', ['linux/amd64', 'linux/arm64']);
    singleDigest = await target.publish('library/single', '2.0', ['linux/amd64'], [70_000, 3000]);
  });
  afterAll(async () => {
    await target?.stop();
  });

  const client = () =>
    new RegistryClient({ baseUrl: target.baseUrl, credentials: target.credentials, baseDelayMs: 1 });

  it.runIf(available)(
    'a run-long abort signal does not collect a listener per request (Node’s fetch keeps its own until GC)',
    async () => {
      const run = new AbortController();
      const c = new RegistryClient({
        baseUrl: target.baseUrl,
        credentials: target.credentials,
        baseDelayMs: 1,
        signal: run.signal,
      });
      for (let i = 0; i < 40; i++) {
        await c.headManifest('library/multi', '1.0');
        await c.getManifest('library/single', '2.0');
      }
      expect(getEventListeners(run.signal, 'abort').length).toBeLessThan(5);
      // …and still cuts a request short.
      run.abort();
      await expect(c.headManifest('library/multi', '1.0')).rejects.toMatchObject({ kind: 'aborted' });
    },
  );

  it.runIf(available)(
    'HEAD gives the same digest and media type as GET, for an index and for an image',
    async () => {
      const c = client();
      const headIndex = await c.headManifest('library/multi', '1.0');
      const getIndex = await c.getManifest('library/multi', '1.0');
      expect(headIndex.digest).toBe(multiDigest);
      expect(getIndex.digest).toBe(multiDigest);
      expect(headIndex.mediaType).toBe('application/vnd.oci.image.index.v1+json');
      expect(getIndex.json.manifests?.map((m) => m.platform?.architecture)).toEqual(['amd64', 'arm64']);
      const headSingle = await c.headManifest('library/single', '2.0');
      expect(headSingle).toMatchObject({
        digest: singleDigest,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      });
    },
  );

  it.runIf(available)('pulls a child manifest by digest and verifies it', async () => {
    const c = client();
    const index = await c.getManifest('library/multi', '1.0');
    const childDigest = index.json.manifests![1]!.digest;
    const child = await c.getManifest('library/multi', childDigest);
    expect(child.digest).toBe(childDigest);
    expect(child.json.layers).toHaveLength(2);
  });

  it.runIf(available)('streams every blob of an image, verifying its digest and size', async () => {
    const c = client();
    const manifest = await c.getManifest('library/single', '2.0');
    const blobs = [manifest.json.config!, ...manifest.json.layers!];
    for (const blob of blobs) {
      await expect(c.fetchBlob('library/single', blob.digest)).resolves.toEqual({ bytes: blob.size });
    }
    expect(blobs.map((b) => b.size)).toContain(70_000);
  });

  it.runIf(available)('reports an unknown tag as not-found', async () => {
    await expect(client().headManifest('library/single', 'nope')).rejects.toMatchObject({
      kind: 'not-found',
    });
    await expect(client().getManifest('library/single', 'nope')).rejects.toMatchObject({ kind: 'not-found' });
  });

  it.runIf(available)('reports an unknown blob as not-found', async () => {
    const missing = `sha256:${'0'.repeat(64)}`;
    await expect(client().fetchBlob('library/single', missing)).rejects.toMatchObject({ kind: 'not-found' });
  });

  it.runIf(available)('reports wrong credentials as an auth error after a single attempt', async () => {
    let requests = 0;
    const counting: typeof fetch = (input, init) => {
      requests++;
      return fetch(input, init);
    };
    const bad = new RegistryClient({
      baseUrl: target.baseUrl,
      credentials: { username: target.credentials.username, password: 'wrong-password' },
      fetch: counting,
      baseDelayMs: 1,
    });
    const error = await bad.headManifest('library/single', '2.0').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).kind).toBe('auth');
    expect(requests).toBeLessThanOrEqual(2);
  });

  it.runIf(available)('logs in with valid credentials and refuses invalid ones', async () => {
    await expect(client().login('library/single')).resolves.toBeUndefined();
    const bad = new RegistryClient({
      baseUrl: target.baseUrl,
      credentials: { username: target.credentials.username, password: 'nope' },
    });
    await expect(bad.login('library/single')).rejects.toMatchObject({ kind: 'auth' });
  });
});

describe('registry client: a bearer token the registry stops accepting', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ seed: { images: [] } });
    sandbox.hub.publish('library/multi', '1.0', { platforms: ['linux/amd64', 'linux/arm64'] });
    sandbox.hub.publish('library/single', '2.0', { platforms: ['linux/amd64'] });
  });
  afterAll(() => sandbox.stop());

  it('is replaced once (a single token request) and the request goes through', async () => {
    const sent: string[] = [];
    const counting: typeof fetch = (input, init) => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      sent.push(`${init?.method ?? 'GET'} ${url.pathname}`);
      return fetch(input, init);
    };
    const c = new RegistryClient({
      baseUrl: sandbox.urls.dockerHub,
      credentials: { username: sandbox.seeded!.username, password: sandbox.seeded!.pat.token },
      fetch: counting,
      baseDelayMs: 1,
    });
    await c.login(['library/multi', 'library/single']);
    await c.headManifest('library/multi', '1.0');
    expect(sent.filter((s) => s === 'GET /token')).toHaveLength(1);
    // The registry's tokens last 300 s by its own clock; ours has not seen them expire.
    sandbox.clock.advance(301_000);
    sent.length = 0;
    const head = await c.headManifest('library/single', '2.0');
    expect(head.digest).toBe(sandbox.hub.digestOf('library/single', '2.0'));
    expect(sent).toEqual([
      'HEAD /v2/library/single/manifests/2.0',
      'GET /token',
      'HEAD /v2/library/single/manifests/2.0',
    ]);
    // The new token serves the next request as it is.
    sent.length = 0;
    await c.headManifest('library/single', '2.0');
    expect(sent).toEqual(['HEAD /v2/library/single/manifests/2.0']);
  });
});

describe('registry client: credentials refused when a token is renewed', () => {
  it('sends one failed login, however many requests were renewing at once, and none after it', async () => {
    const sandbox = await startSandbox({ seed: { images: [] } });
    try {
      const repositories = Array.from({ length: 8 }, (_, i) => `library/app${i}`);
      for (const r of repositories) sandbox.hub.publish(r, '1', { platforms: ['linux/amd64'] });
      const tokenRequests: string[] = [];
      const c = new RegistryClient({
        baseUrl: sandbox.urls.dockerHub,
        credentials: { username: sandbox.seeded!.username, password: sandbox.seeded!.pat.token },
        fetch: (input, init) => {
          if (new URL(String(input)).pathname === '/token') tokenRequests.push(String(input));
          return fetch(input, init);
        },
        baseDelayMs: 1,
      });
      await c.login(repositories);
      // A rotation retires the token, and the registry's tokens run out: eight requests renew at once.
      sandbox.seeded!.pat.is_active = false;
      sandbox.clock.advance(301_000);
      tokenRequests.length = 0;
      const results = await Promise.allSettled(repositories.map((r) => c.headManifest(r, '1')));
      expect(results.every((r) => r.status === 'rejected')).toBe(true);
      for (const r of results)
        expect((r as PromiseRejectedResult).reason).toMatchObject({
          kind: 'auth',
          details: { credentialsRejected: true },
        });
      // Docker Hub counts each refused login toward its per-user throttle, which would then refuse
      // the new token too.
      expect(sandbox.hubAccounts.failedLoginCount(sandbox.seeded!.username)).toBe(1);
      expect(tokenRequests).toHaveLength(1);
      await expect(c.headManifest(repositories[0]!, '1')).rejects.toMatchObject({ kind: 'auth' });
      expect(tokenRequests).toHaveLength(1);
    } finally {
      await sandbox.stop();
    }
  });
});
