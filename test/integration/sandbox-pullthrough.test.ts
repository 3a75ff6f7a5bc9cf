/** The sandbox's ECR registry endpoint: pull-through behaviour (as the ECR user guide documents it). */
import {
  CreatePullThroughCacheRuleCommand,
  CreateRepositoryCreationTemplateCommand,
  DescribeImagesCommand,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lib/aws/clients.js';
import { loadConfig } from '../../lib/config/load.js';
import { RegistryClient } from '../../lib/registry/client.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';

let sandbox: Sandbox;
let ecrClient: () => Promise<RegistryClient>;

beforeAll(async () => {
  sandbox = await startSandbox();
  const aws = createAwsClients(sandbox.clientOptions);
  await aws.ecr.send(
    new CreatePullThroughCacheRuleCommand({
      ecrRepositoryPrefix: 'docker-hub',
      upstreamRegistryUrl: 'registry-1.docker.io',
      credentialArn: sandbox.seeded!.secretArn,
    }),
  );
  await aws.ecr.send(
    new CreateRepositoryCreationTemplateCommand({
      prefix: 'docker-hub',
      appliedFor: ['PULL_THROUGH_CACHE'],
      imageTagMutability: 'MUTABLE',
    }),
  );
  ecrClient = async () => {
    const auth = (await aws.ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!;
    return new RegistryClient({
      baseUrl: auth.proxyEndpoint!,
      credentials: { basic: auth.authorizationToken! },
      baseDelayMs: 1,
      attempts: 1,
    });
  };
  (globalThis as { aws?: typeof aws }).aws = aws;
});
afterAll(() => sandbox.stop());
beforeEach(() => sandbox.faults.clear());

describe('pull-through cache', () => {
  it('the first pull by tag fetches upstream; the next within 24 h does not touch upstream', async () => {
    const client = await ecrClient();
    const first = await client.getManifest('docker-hub/library/debian', 'bookworm-slim');
    expect(first.digest).toBe(sandbox.hub.digestOf('library/debian', 'bookworm-slim'));
    const upstreamBefore = sandbox.hub.manifestRequests.length;
    await client.getManifest('docker-hub/library/debian', 'bookworm-slim');
    expect(sandbox.hub.manifestRequests.length).toBe(upstreamBefore);
  });

  it('a moved tag is served stale until 24 h have passed, then refreshed', async () => {
    const client = await ecrClient();
    const old = (await client.getManifest('docker-hub/library/ubuntu', '24.04')).digest;
    const released = sandbox.hub.release('library/ubuntu', '24.04');
    expect((await client.headManifest('docker-hub/library/ubuntu', '24.04')).digest).toBe(old);
    sandbox.clock.advanceHours(24);
    // ECR auth tokens last 12 hours: a day later the caller needs a new one.
    expect((await (await ecrClient()).getManifest('docker-hub/library/ubuntu', '24.04')).digest).toBe(
      released,
    );
  });

  it('a pull by digest of an uncached image fails', async () => {
    const client = await ecrClient();
    const digest = sandbox.hub.digestOf('library/postgres', '17')!;
    await expect(client.getManifest('docker-hub/library/postgres', digest)).rejects.toMatchObject({
      kind: 'not-found',
    });
  });

  it('imports blobs only when they are first requested, through a redirect to storage', async () => {
    const client = await ecrClient();
    const manifest = await client.getManifest('docker-hub/library/redis', '7');
    const repo = sandbox.ecr.repositories.get('docker-hub/library/redis')!;
    expect(repo.blobs.size).toBe(0);
    for (const layer of manifest.json.layers!)
      await client.fetchBlob('docker-hub/library/redis', layer.digest);
    expect(repo.blobs.size).toBe(manifest.json.layers!.length);
  });

  it('refuses a blob upstream sends with other bytes or cuts off (503), and stores it only once whole', async () => {
    const client = await ecrClient();
    const index = await client.getManifest('docker-hub/library/golang', '1.24');
    const child = await client.getManifest('docker-hub/library/golang', index.json.manifests![0]!.digest);
    const layer = child.json.layers![0]!.digest;
    const route = `hub:GET /v2/library/golang/blobs/${layer}`;
    const repo = sandbox.ecr.repositories.get('docker-hub/library/golang')!;
    sandbox.faults.add({ match: route, status: 200, body: { not: 'the layer' }, times: 1 });
    await expect(client.fetchBlob('docker-hub/library/golang', layer)).rejects.toMatchObject({
      details: { status: 503 },
    });
    sandbox.faults.add({ match: route, drop: true, times: 1 });
    await expect(client.fetchBlob('docker-hub/library/golang', layer)).rejects.toMatchObject({
      details: { status: 503 },
    });
    expect(repo.blobs.has(layer)).toBe(false);
    await client.fetchBlob('docker-hub/library/golang', layer);
    expect(repo.blobs.has(layer)).toBe(true);
  });

  it('an upstream failure on an uncached image surfaces as ECR reports it, with a FAILED event', async () => {
    sandbox.faults.add({ match: 'hub:HEAD /v2/library/nginx/manifests', status: 503 });
    const client = await ecrClient();
    await expect(client.getManifest('docker-hub/library/nginx', '1.27')).rejects.toMatchObject({
      kind: 'server',
      details: { status: 503 },
    });
    expect(sandbox.ecrRegistry.events.at(-1)?.detail).toMatchObject({
      'sync-status': 'FAILED',
      'failure-code': 'UpstreamUnavailable',
      'repository-name': 'docker-hub/library/nginx',
      'image-tag': '1.27',
    });
  });

  it('an unknown upstream repository is access denied (Docker Hub 401), an unknown tag not found', async () => {
    const client = await ecrClient();
    await expect(client.getManifest('docker-hub/nginx', '1.27')).rejects.toMatchObject({
      details: { status: 403 },
    });
    await expect(client.getManifest('docker-hub/library/nginx', 'no-such-tag')).rejects.toMatchObject({
      kind: 'not-found',
    });
  });

  it('already-cached images are still served when upstream is down', async () => {
    const client = await ecrClient();
    const cached = await client.getManifest('docker-hub/library/busybox', '1.36');
    sandbox.clock.advanceHours(25);
    sandbox.faults.add({ match: 'hub:', status: 503 });
    expect((await (await ecrClient()).getManifest('docker-hub/library/busybox', '1.36')).digest).toBe(
      cached.digest,
    );
    expect(sandbox.ecrRegistry.events.at(-1)?.detail['sync-status']).toBe('FAILED');
  });

  it('pulls by an excluded principal do not update the last recorded pull time', async () => {
    const aws = (globalThis as { aws?: ReturnType<typeof createAwsClients> }).aws!;
    // The pre-warm role (its own access key and policy) is registered as an exclusion.
    const config = loadConfig('keeper.config.yaml');
    const prewarmOptions = sandbox.roleClientOptions('prewarm', config);
    sandbox.ecr.exclusions.add(sandbox.iam.principal(prewarmOptions.credentials!.accessKeyId)!.arn);
    const prewarmAws = createAwsClients(prewarmOptions);
    const auth = (await prewarmAws.ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!;
    const client = new RegistryClient({
      baseUrl: auth.proxyEndpoint!,
      credentials: { basic: auth.authorizationToken! },
    });
    await client.getManifest('docker-hub/library/amazoncorretto', '21');
    const details = await aws.ecr.send(
      new DescribeImagesCommand({ repositoryName: 'docker-hub/library/amazoncorretto' }),
    );
    expect(details.imageDetails?.[0]?.lastRecordedPullTime).toBeUndefined();
  });

  it('refuses a request without the GetAuthorizationToken credential', async () => {
    const anonymous = new RegistryClient({ baseUrl: sandbox.urls.registry, attempts: 1 });
    await expect(anonymous.headManifest('docker-hub/library/redis', '7')).rejects.toMatchObject({
      kind: 'auth',
    });
  });
});
