/** Pre-warm against the sandbox: first and second nights, upstream releases, quota, faults, deadline, repair. */
import { readFileSync } from 'node:fs';
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { DescribeSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.js';
import { createPrewarmHandler } from '../../handlers/prewarm.js';
import type { AwsClients } from '../../lib/aws/clients.js';
import { cacheRepositoryName, resolveImage } from '../../lib/config/images.js';
import { type KeeperConfig, loadConfig, parseConfig } from '../../lib/config/load.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import { auditNight, bucketOf, LAYERS_VERIFIED_TAG } from '../../lib/prewarm/layer-audit.js';
import { formatPrewarm, type PrewarmReport } from '../../lib/prewarm/report.js';
import { runPrewarm } from '../../lib/prewarm/run.js';
import { RegistryClient } from '../../lib/registry/client.js';
import { sleep } from '../../lib/runtime/retry.js';
import { type AlarmState, alarmStateAfter } from '../../sandbox/aws/cloudwatch.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { captureIo } from '../support/cli-io.js';
import { guardrailPolicy } from '../support/guardrail.js';
import { lambdaContext } from '../support/lambda.js';
import { deployedAlarms } from './support/deployed-alarms.js';
import { type SandboxDeps, sandboxDeps } from './support/sandbox-deps.js';

let sandbox: Sandbox;
let aws: AwsClients;
let kit: SandboxDeps;

beforeEach(async () => {
  sandbox = await startSandbox();
  kit = sandboxDeps(sandbox);
  aws = kit.aws;
  await reconcile(aws, loadConfig('keeper.config.yaml'));
});
afterEach(async () => {
  await sandbox.stop();
});
const prewarmHandler = (event: unknown, context = lambdaContext('prewarm', { remainingMs: 900_000 })) =>
  createPrewarmHandler(kit.as('prewarm'))(event, context);

const upstreamGets = () => sandbox.hub.manifestRequests.filter((r) => r.method === 'GET');
const withPrewarm = (config: KeeperConfig, patch: Partial<KeeperConfig['prewarm']>): KeeperConfig => ({
  ...config,
  prewarm: { ...config.prewarm, ...patch },
});
const warm = (config: KeeperConfig = loadConfig('keeper.config.yaml'), deadline = Date.now() + 600_000) =>
  runPrewarm(config.prewarm.images, { ...kit.as('prewarm'), config, deadline });
/** The URL a fetch was called with. */
const urlOf = (input: string | URL | Request) => String(input instanceof Request ? input.url : input);
const statuses = (report: PrewarmReport) => Object.fromEntries(report.images.map((i) => [i.image, i.status]));

describe('nightly pre-warm', () => {
  it('before reconcile has made the rule: each image fails naming the missing rule, and no pull is spent', async () => {
    await sandbox.stop();
    sandbox = await startSandbox();
    kit = sandboxDeps(sandbox);
    const config = loadConfig('keeper.config.yaml');
    const report = await warm(withPrewarm(config, { images: config.prewarm.images.slice(0, 1) }));
    expect(report.images[0]).toMatchObject({ status: 'failed', step: 'pull-manifest', cause: 'not-found' });
    expect(report.images[0]!.reason).toMatch(
      /no pull-through cache rule has the prefix "docker-hub" \(cache-keeper plan shows it; reconcile creates it\)/,
    );
    expect(sandbox.hub.pulls).toHaveLength(0);
  });

  // Whether ECR fetches an index's children at once or as asked: the same night both ways, since the
  // seeded images have only configured platforms.
  it.each(['all', 'requested'] as const)(
    'the first night warms every image with its blobs; the second spends no upstream pull (index children: %s)',
    async (indexChildren) => {
      if (indexChildren !== 'all') {
        await sandbox.stop();
        sandbox = await startSandbox({ indexChildren });
        kit = sandboxDeps(sandbox);
        aws = kit.aws;
        await reconcile(aws, loadConfig('keeper.config.yaml'));
      }
      const first = await warm();
      expect(first.counts).toMatchObject({ warmed: 12, failed: 0, deferred: 0 });
      // 5 images for two platforms, 7 for one: what the sandbox's Docker Hub counted, and what the keeper measured.
      expect(first.upstreamPulls.estimated).toBe(17);
      expect(sandbox.hub.pulls).toHaveLength(17);
      expect(first.upstreamPulls.measured).toBe(17);
      expect(first.dockerHub).toMatchObject({ limit: 200, remaining: 183 });

      const node = sandbox.ecr.repositories.get('docker-hub/library/node')!;
      const expectedBlobs = [...node.images.values()]
        .filter((i) => i.manifest.mediaType.includes('manifest'))
        .flatMap((i) => {
          const doc = JSON.parse(i.manifest.bytes.toString());
          return [doc.config.digest, ...doc.layers.map((l: { digest: string }) => l.digest)];
        });
      expect(expectedBlobs.length).toBeGreaterThan(0);
      for (const digest of expectedBlobs) expect(node.blobs.has(digest)).toBe(true);
      expect(first.images[0]!.cacheReference).toBe(
        `${new URL(sandbox.urls.registry).host}/docker-hub/library/node:22-alpine`,
      );

      const getsBefore = upstreamGets().length;
      const second = await warm();
      expect(second.counts).toMatchObject({ skipped: 12, warmed: 0 });
      expect(upstreamGets().length).toBe(getsBefore);
      expect(second.upstreamPulls).toEqual({ estimated: 0, measured: 0 });
    },
  );

  it("after three upstream releases: stale-pending within ECR's 24 h, then exactly those three re-pulled", async () => {
    await warm();
    const released = ['library/nginx', 'library/redis', 'library/node'];
    sandbox.hub.release('library/nginx', '1.27');
    sandbox.hub.release('library/redis', '7');
    sandbox.hub.release('library/node', '22-alpine');
    const getsBefore = upstreamGets().length;

    const early = await warm();
    expect(early.counts).toMatchObject({ 'stale-pending': 3, skipped: 9 });
    expect(statuses(early)['nginx:1.27']).toBe('stale-pending');
    expect(upstreamGets().length).toBe(getsBefore);
    expect(early.upstreamPulls).toEqual({ estimated: 0, measured: 0 });

    sandbox.clock.advanceHours(25);
    const late = await warm();
    expect(late.counts).toMatchObject({ warmed: 3, skipped: 9 });
    expect(
      late.images
        .filter((i) => i.status === 'warmed')
        .map((i) => i.image)
        .sort(),
    ).toEqual(['nginx:1.27', 'node:22-alpine', 'redis:7']);
    expect(
      [
        ...new Set(
          upstreamGets()
            .slice(getsBefore)
            .map((g) => g.repository),
        ),
      ].sort(),
    ).toEqual(released.sort());
    expect(late.upstreamPulls.measured).toBe(4);
  });

  it('defers instead of spending the reserve when Docker Hub is near it', async () => {
    sandbox.hub.setRemaining(sandbox.seeded!.username, 25);
    const config = withPrewarm(loadConfig('keeper.config.yaml'), { concurrency: 1 });
    const report = await warm(config);
    expect(sandbox.hub.remaining(sandbox.seeded!.username)).toBeGreaterThanOrEqual(20);
    expect(report.counts.deferred).toBeGreaterThan(0);
    expect(report.counts.failed).toBe(0);
    expect(report.images.find((i) => i.status === 'deferred')?.reason).toMatch(/kept in reserve for CI/);
  });

  it('honours the per-run pull budget', async () => {
    const report = await warm(
      withPrewarm(loadConfig('keeper.config.yaml'), { concurrency: 1, maxUpstreamPullsPerRun: 5 }),
    );
    expect(report.upstreamPulls.estimated).toBeLessThanOrEqual(5);
    expect(
      report.images
        .filter((i) => i.status === 'deferred')
        .every((i) => /run budget of 5/.test(i.reason ?? '')),
    ).toBe(true);
  });

  it('an upstream 429 mid-run stops upstream work and defers the rest; nothing is retried in a loop', async () => {
    // Another client of the account empties the quota just as golang is pulled: Docker Hub answers 429.
    let pullsBeforeLimit = -1;
    const fault = sandbox.faults.add({
      match: 'hub:GET /v2/library/golang/manifests',
      before: () => {
        pullsBeforeLimit = sandbox.hub.pulls.length;
        sandbox.hub.setRemaining(sandbox.seeded!.username, 0);
      },
    });
    // Images are checked and pulled a few at a time: whatever was pulled before the 429 is warmed,
    // everything else deferred with the 429 as its reason, and no pull is spent after it.
    const report = await warm(withPrewarm(loadConfig('keeper.config.yaml'), { concurrency: 1 }));
    expect(statuses(report)['golang:1.24']).toBe('deferred');
    expect(report.counts.warmed).toBeGreaterThan(0);
    expect(report.counts.warmed + report.counts.deferred).toBe(12);
    for (const line of report.images.filter((i) => i.status === 'deferred'))
      expect(line.reason, line.image).toMatch(/429/);
    expect(sandbox.hub.pulls.length).toBe(pullsBeforeLimit);
    expect(report.stoppedUpstream).toMatch(/429/);
    expect(fault.hits).toBe(1);
  });

  it('persistent upstream 500s fail that image only, with the step and cause', async () => {
    sandbox.faults.add({ match: 'hub:GET /v2/library/redis/manifests', status: 500 });
    const report = await warm();
    const redis = report.images.find((i) => i.image === 'redis:7')!;
    expect(redis).toMatchObject({ status: 'failed', step: 'pull-manifest', cause: 'upstream-5xx' });
    expect(report.counts).toMatchObject({ warmed: 11, failed: 1 });
  });

  it('a token rotated while the night runs: the refused login reads the secret again and the night goes on', async () => {
    await warm(); // the first night: every image cached
    const id = 'ecr-pullthroughcache/docker-hub';
    const user = sandbox.hubAccounts.users.get(sandbox.seeded!.username)!;
    let heads = 0;
    const rotateMidway = async (input: string | URL | Request, init?: RequestInit) => {
      if (
        urlOf(input).startsWith(sandbox.urls.dockerHub) &&
        (init?.method ?? 'GET') === 'HEAD' &&
        ++heads === 4
      ) {
        // A rotation lands: a new token becomes AWSCURRENT, the old one is deactivated, and the
        // registry tokens the run holds run out.
        const fresh = sandbox.hubAccounts.createPat(user, 'rotated', ['repo:public_read'], null);
        await aws.secrets.send(
          new PutSecretValueCommand({
            SecretId: id,
            SecretString: JSON.stringify({ username: user.username, accessToken: fresh.token }),
          }),
        );
        sandbox.seeded!.pat.is_active = false;
        sandbox.clock.advance(301_000);
      }
      return fetch(input, init);
    };
    const config = loadConfig('keeper.config.yaml');
    const night = await runPrewarm(config.prewarm.images, {
      ...kit.as('prewarm'),
      config,
      deadline: Date.now() + 600_000,
      fetch: rotateMidway as typeof fetch,
    });
    expect(heads).toBeGreaterThan(4);
    expect(night.counts).toMatchObject({ skipped: 12, failed: 0 });
    expect(sandbox.hub.pulls).toHaveLength(17); // the first night's only
    // The retired token's one refused renewal; the new one logs in past Docker Hub's throttle.
    expect(sandbox.hubAccounts.failedLoginCount(user.username)).toBe(1);
  });

  it('an expired PAT fails every image with cause auth after a single login attempt', async () => {
    sandbox.seeded!.pat.expires_at = new Date(sandbox.clock.now() - 1000).toISOString();
    const logins = sandbox.faults.add({ match: 'hub:GET /token' });
    const report = await warm();
    expect(report.counts.failed).toBe(12);
    expect(report.images.every((i) => i.cause === 'auth' && i.step === 'upstream-check')).toBe(true);
    expect(report.images[0]!.reason).toMatch(/personal access token is expired/);
    expect(logins.hits).toBe(1);
    expect(sandbox.hub.pulls).toHaveLength(0);
  });

  it('an unknown image fails as not found, the others warm', async () => {
    const config = parseConfig(
      'rules:\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\nprewarm:\n  images: [alpine:3.20, does-not-exist:1, busybox:1.36, "busybox:no-such-tag"]\n',
    );
    const report = await warm(config);
    expect(statuses(report)).toEqual({
      'alpine:3.20': 'warmed',
      'does-not-exist:1': 'failed',
      'busybox:1.36': 'warmed',
      'busybox:no-such-tag': 'failed',
    });
    expect(report.images[1]).toMatchObject({ cause: 'not-found', step: 'upstream-check' });
    expect(report.images[3]).toMatchObject({ cause: 'not-found', step: 'upstream-check' });
  });

  it('a rule with an upstream prefix: images warm into <prefix>/<rest>, as ECR maps them, and stay unchanged', async () => {
    const config = parseConfig(
      'rules:\n  - { prefix: official, upstream: docker-hub, upstreamPrefix: library, credentialSecret: ecr-pullthroughcache/docker-hub }\nprewarm:\n  images: [alpine:3.20, busybox:1.36]\n',
    );
    // An ECR that takes an upstream prefix on a Docker Hub rule (AWS documents it for ECR upstreams).
    await sandbox.stop();
    sandbox = await startSandbox({ upstreamPrefixScope: 'any' });
    // The stack's roles as they would be deployed for this config (their resources follow its prefixes).
    const stack = sandboxDeps(sandbox, config);
    await reconcile(stack.aws, config);
    const night = () =>
      runPrewarm(config.prewarm.images, { ...stack.as('prewarm'), deadline: Date.now() + 600_000 });
    const first = await night();
    expect(statuses(first), JSON.stringify(first.images)).toEqual({
      'alpine:3.20': 'warmed',
      'busybox:1.36': 'warmed',
    });
    expect(first.images[0]!.cacheReference).toBe(
      `${new URL(sandbox.urls.registry).host}/official/alpine:3.20`,
    );
    // What ECR fetched for official/alpine is Docker Hub's library/alpine: the image the keeper checked.
    expect(sandbox.ecr.repositories.get('official/alpine')?.images.size).toBeGreaterThan(0);
    expect(sandbox.ecr.repositories.has('official/library/alpine')).toBe(false);
    const second = await night();
    expect(second.counts).toMatchObject({ skipped: 2, failed: 0 });
    expect(second.upstreamPulls).toEqual({ estimated: 0, measured: 0 });
  });

  it('a Quay rule beside the Docker Hub one: its image is checked and pulled at Quay, spending none of Docker Hub’s pulls', async () => {
    const config = parseConfig(
      'rules:\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\n  - { prefix: quay, upstream: quay }\nprewarm:\n  platforms: [linux/amd64, linux/arm64]\n  images: [alpine:3.20, quay.io/prometheus/node-exporter:v1.9.0]\n',
    );
    await sandbox.stop();
    sandbox = await startSandbox({ upstreamStandIns: ['quay.io'] });
    const quay = sandbox.standIns['quay.io']!;
    quay.publish('prometheus/node-exporter', 'v1.9.0', { platforms: ['linux/amd64', 'linux/arm64'] });
    const stack = sandboxDeps(sandbox, config);
    await reconcile(stack.aws, config);
    const night = () =>
      runPrewarm(config.prewarm.images, { ...stack.as('prewarm'), deadline: Date.now() + 600_000 });
    const hubPulls = sandbox.hub.pulls.length;
    const first = await night();
    expect(statuses(first), JSON.stringify(first.images)).toEqual({
      'alpine:3.20': 'warmed',
      'quay.io/prometheus/node-exporter:v1.9.0': 'warmed',
    });
    expect(first.images[1]!.cacheReference).toBe(
      `${new URL(sandbox.urls.registry).host}/quay/prometheus/node-exporter:v1.9.0`,
    );
    // Two platforms pulled from Quay; Docker Hub spent only alpine's.
    expect(quay.pulls.map((p) => p.repository)).toEqual([
      'prometheus/node-exporter',
      'prometheus/node-exporter',
    ]);
    expect(sandbox.hub.pulls.slice(hubPulls).every((p) => p.repository === 'library/alpine')).toBe(true);
    expect(first.upstreamPulls).toEqual({ estimated: 4, measured: 4 });
    // Docker Hub's quota, as the report gives it, is what alpine spent there and nothing of Quay's.
    expect(first.dockerHub?.remaining).toBe(first.dockerHub!.limit - 2);

    // The next night, Quay moves its tag: only that image is pulled again.
    sandbox.clock.advanceHours(25);
    quay.release('prometheus/node-exporter', 'v1.9.0');
    const second = await night();
    expect(statuses(second)).toEqual({
      'alpine:3.20': 'skipped',
      'quay.io/prometheus/node-exporter:v1.9.0': 'warmed',
    });
    expect(quay.pulls).toHaveLength(4);
  });

  it('two rules drawing on one Docker Hub account share its quota: together they keep the reserve, and measure once', async () => {
    const bitnami = ['redis:7', 'nginx:1', 'postgres:17', 'kafka:3'];
    const config = parseConfig(
      `rules:\n  - { prefix: official, upstream: docker-hub, upstreamPrefix: library, credentialSecret: ecr-pullthroughcache/docker-hub }\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\nprewarm:\n  reserveUpstreamPulls: 20\n  platforms: [linux/amd64, linux/arm64]\n  images: [node:22-alpine, python:3.13-slim, golang:1.24, alpine:3.20, ${bitnami.map((i) => `bitnami/${i}`).join(', ')}]\n`,
    );
    /** A first night of the eight images (four through each rule) with `remaining` pulls left. */
    const firstNight = async (remaining: number) => {
      await sandbox.stop();
      sandbox = await startSandbox({ upstreamPrefixScope: 'any' });
      for (const image of bitnami) {
        const [name, tag] = image.split(':');
        sandbox.hub.publish(`bitnami/${name}`, tag!, { platforms: ['linux/amd64', 'linux/arm64'] });
      }
      const stack = sandboxDeps(sandbox, config);
      await reconcile(stack.aws, config);
      sandbox.hub.setRemaining(sandbox.seeded!.username, remaining);
      return runPrewarm(config.prewarm.images, { ...stack.as('prewarm'), deadline: Date.now() + 600_000 });
    };

    // Plenty left: both rules' images warmed, and the pulls measured once (16, not each rule's view of them).
    const plenty = await firstNight(100);
    expect(plenty.counts.warmed).toBe(8);
    expect(plenty.upstreamPulls).toEqual({ estimated: 16, measured: 16 });

    // Six above the reserve: three two-platform images in all, whichever rule they go through.
    const tight = await firstNight(26);
    expect(tight.counts).toMatchObject({ warmed: 3, deferred: 5 });
    expect(sandbox.hub.remaining(sandbox.seeded!.username)).toBe(20);
  });

  it.each([
    ['Docker Hub’s 429', 'limit'],
    ['Docker Hub down', 'outage'],
  ] as const)(
    '%s stops the night’s work at Docker Hub only: Quay’s image is still checked and warmed',
    async (_case, trouble) => {
      const seed = loadConfig('keeper.config.yaml');
      const config = parseConfig(
        `rules:\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\n  - { prefix: quay, upstream: quay }\nprewarm:\n  platforms: [linux/amd64, linux/arm64]\n  concurrency: 1\n  images: [${[...seed.prewarm.images.map((i) => i.original), 'quay.io/prometheus/node-exporter:v1.9.0'].join(', ')}]\n`,
      );
      await sandbox.stop();
      sandbox = await startSandbox({ upstreamStandIns: ['quay.io'] });
      const quay = sandbox.standIns['quay.io']!;
      quay.publish('prometheus/node-exporter', 'v1.9.0', { platforms: ['linux/amd64'] });
      const stack = sandboxDeps(sandbox, config);
      await reconcile(stack.aws, config);
      const night = (images = config.prewarm.images) =>
        runPrewarm(images, { ...stack.as('prewarm'), deadline: Date.now() + 600_000 });
      // Quay's image is cached; a day later it moved, and the Docker Hub images are new to the cache.
      expect((await night(config.prewarm.images.slice(-1))).counts.warmed).toBe(1);
      sandbox.clock.advanceHours(25);
      quay.release('prometheus/node-exporter', 'v1.9.0');
      if (trouble === 'limit')
        // Another client empties the quota as the first image is pulled: Docker Hub answers 429.
        sandbox.faults.add({
          match: 'hub:GET /v2/library/node/manifests',
          before: () => sandbox.hub.setRemaining(sandbox.seeded!.username, 0),
        });
      else sandbox.faults.add({ match: 'hub:', status: 503 });
      // Quay's image comes last in the night's order, checked after Docker Hub's trouble is known.
      const second = await night();
      const quayLine = second.images.find((i) => i.image.startsWith('quay.io/'))!;
      expect(quayLine, JSON.stringify(quayLine)).toMatchObject({ status: 'warmed' });
      expect(quay.pulls).toHaveLength(2);
      // Docker Hub's images: what was not reached waits for the next night.
      expect(second.counts.deferred).toBeGreaterThan(0);
      expect(second.stoppedUpstream).toMatch(/^registry-1\.docker\.io[: ]/);
    },
  );

  // Whether ECR, pulling an index through the cache, fetches every child manifest from upstream (each
  // one a Docker Hub pull) or only those a client asks for is not documented: both ways.
  it.each([
    ['all', 3],
    ['requested', 1],
  ] as const)(
    'an image with more platforms upstream than configured, ECR fetching %s children: counted as it may spend, never less',
    async (indexChildren, spentAtHub) => {
      const config = parseConfig(
        'rules:\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\nprewarm:\n  platforms: [linux/amd64]\n  images: [library/wide:1]\n',
      );
      await sandbox.stop();
      sandbox = await startSandbox({ indexChildren });
      sandbox.hub.publish('library/wide', '1', { platforms: ['linux/amd64', 'linux/arm64', 'linux/s390x'] });
      const stack = sandboxDeps(sandbox, config);
      await reconcile(stack.aws, config);
      const report = await runPrewarm(config.prewarm.images, {
        ...stack.as('prewarm'),
        deadline: Date.now() + 600_000,
      });
      expect(statuses(report)).toEqual({ 'library/wide:1': 'warmed' });
      expect(sandbox.hub.pulls).toHaveLength(spentAtHub);
      // The estimate is what ECR may have fetched: every child of the index, whichever ECR does.
      expect(report.images[0]!.upstreamPulls).toBe(3);
      expect(report.upstreamPulls).toEqual({ estimated: 3, measured: spentAtHub });
      // The configured platform is in the cache either way.
      const repo = sandbox.ecr.repositories.get('docker-hub/library/wide')!;
      expect(repo.images.size).toBe(1 + spentAtHub);
    },
  );

  it.each([
    ['all', 4],
    ['requested', 2],
  ] as const)(
    'an image with build attestations beside its platforms (as Docker Hub official images carry), ECR fetching %s children: its platforms warmed, counted as it may spend, unchanged the next night',
    async (indexChildren, spentAtHub) => {
      const config = parseConfig(
        'rules:\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\nprewarm:\n  platforms: [linux/amd64, linux/arm64]\n  images: [library/attested:1]\n',
      );
      await sandbox.stop();
      sandbox = await startSandbox({ indexChildren });
      sandbox.hub.publish('library/attested', '1', {
        platforms: ['linux/amd64', 'linux/arm64'],
        attestations: true,
      });
      const stack = sandboxDeps(sandbox, config);
      await reconcile(stack.aws, config);
      const night = () =>
        runPrewarm(config.prewarm.images, { ...stack.as('prewarm'), deadline: Date.now() + 600_000 });
      const first = await night();
      expect(statuses(first)).toEqual({ 'library/attested:1': 'warmed' });
      // Whether Docker Hub counts an attestation manifest's GET as a pull is not documented: the
      // estimate counts every child, and what the sandbox counted is measured.
      expect(first.upstreamPulls).toEqual({ estimated: 4, measured: spentAtHub });
      // Both platforms' layers are in the cache; the attestations' are left to whoever asks.
      const repo = sandbox.ecr.repositories.get('docker-hub/library/attested')!;
      expect(repo.blobs.size).toBe(6);
      sandbox.clock.advanceHours(25);
      const pulls = sandbox.hub.pulls.length;
      const second = await night();
      expect(statuses(second)).toEqual({ 'library/attested:1': 'skipped' });
      expect(sandbox.hub.pulls).toHaveLength(pulls);
    },
  );

  it('an unchanged image whose configured platform the cache lacks (CI pulled one): the fetch is a counted pull, held to the reserve', async () => {
    await sandbox.stop();
    // ECR fetching each child when first asked: the arm64 manifest comes from Docker Hub then.
    sandbox = await startSandbox({ indexChildren: 'requested' });
    const config = withPrewarm(loadConfig('keeper.config.yaml'), {
      images: [resolveImage(loadConfig('keeper.config.yaml'), 'node:22-alpine')],
    });
    kit = sandboxDeps(sandbox, config);
    await reconcile(kit.aws, config);
    // CI pulls the image for amd64 only, through the cache.
    const auth = (await kit.aws.ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!;
    const ci = new RegistryClient({
      baseUrl: auth.proxyEndpoint!,
      credentials: { basic: auth.authorizationToken! },
    });
    const index = await ci.getManifest('docker-hub/library/node', '22-alpine');
    await ci.getManifest(
      'docker-hub/library/node',
      index.json.manifests!.find((m) => m.platform?.architecture === 'amd64')!.digest,
    );
    expect(sandbox.hub.pulls).toHaveLength(1);
    const night = () =>
      runPrewarm(config.prewarm.images, { ...kit.as('prewarm'), config, deadline: Date.now() + 600_000 });

    // 20 left, 20 kept for CI: fetching arm64 would break the reserve.
    sandbox.hub.setRemaining('keeper-ci', 20);
    const held = await night();
    expect(held.images[0]).toMatchObject({ status: 'deferred', upstreamPulls: 0 });
    expect(held.images[0]!.reason).toMatch(/20 pulls left; pulling needs 1 and 20 are kept in reserve/);
    expect(sandbox.hub.pulls).toHaveLength(1);

    // Docker Hub refusing that fetch (429 through the cache) defers the image and stops upstream work: no alarm.
    sandbox.hub.setRemaining('keeper-ci', 100);
    const refusal = sandbox.faults.add({
      match: 'hub:GET /v2/library/node/manifests/sha256:',
      status: 429,
      times: 1,
    });
    const limited = await night();
    expect(refusal.hits).toBe(1);
    expect(limited.images[0]).toMatchObject({ status: 'deferred', cause: 'upstream-429', upstreamPulls: 0 });
    expect(limited.stoppedUpstream).toMatch(/429/);
    expect(limited.counts.failed).toBe(0);

    const report = await night();
    expect(report.images[0]).toMatchObject({ status: 'warmed', upstreamPulls: 1 });
    expect(report.images[0]!.reason).toMatch(/1 platform manifest\(s\) fetched through the cache/);
    expect(report.upstreamPulls).toEqual({ estimated: 1, measured: 1 });
    expect(sandbox.hub.pulls).toHaveLength(2);
  });

  it('a quota read after one of the run’s own pulls, but answered before it, does not give that pull back', async () => {
    const config = parseConfig(
      'rules:\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\nprewarm:\n  platforms: [linux/amd64]\n  reserveUpstreamPulls: 20\n  images: [library/early:1, library/late:1]\n',
    );
    await sandbox.stop();
    sandbox = await startSandbox();
    for (const name of ['early', 'late']) sandbox.hub.publish(`library/${name}`, '1');
    const stack = sandboxDeps(sandbox, config);
    await reconcile(stack.aws, config);
    // late's HEAD is answered at once (21 left) but its answer takes 1.5 s to arrive: early is pulled
    // meanwhile, and late's answer still says 21.
    const slowAnswer = sandbox.faults.add({ match: 'hub:HEAD /v2/library/late/', answerLatencyMs: 1500 });
    sandbox.hub.setRemaining('keeper-ci', 21);
    const report = await runPrewarm(config.prewarm.images, {
      ...stack.as('prewarm'),
      deadline: Date.now() + 600_000,
    });
    expect(slowAnswer.hits).toBeGreaterThan(0);
    expect(statuses(report)).toEqual({ 'library/early:1': 'warmed', 'library/late:1': 'deferred' });
    expect(report.images[1]!.reason).toMatch(/20 pulls left; pulling needs 1 and 20 are kept in reserve/);
    expect(sandbox.hub.remaining('keeper-ci')).toBe(20);
  });

  it('new multi-platform images are reserved at the widest index this upstream served tonight, so the reserve holds', async () => {
    const config = parseConfig(
      'rules:\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\nprewarm:\n  platforms: [linux/amd64]\n  concurrency: 1\n  reserveUpstreamPulls: 20\n  images: [library/wide1:1, library/wide2:1, library/wide3:1]\n',
    );
    await sandbox.stop();
    sandbox = await startSandbox();
    for (const name of ['wide1', 'wide2', 'wide3'])
      sandbox.hub.publish(`library/${name}`, '1', {
        platforms: ['linux/amd64', 'linux/arm64', 'linux/s390x'],
      });
    const stack = sandboxDeps(sandbox, config);
    await reconcile(stack.aws, config);
    // In this order (latencies with room for a loaded machine): wide1 is pulled (3 pulls: ECR fetches
    // every child); wide2 is checked after that, and its pull is slow; wide3 is checked while wide2's
    // pull is in flight.
    sandbox.faults.add({ match: 'hub:HEAD /v2/library/wide2/', latencyMs: 500 });
    sandbox.faults.add({ match: 'registry:GET /v2/docker-hub/library/wide2/manifests/1', latencyMs: 2000 });
    sandbox.faults.add({ match: 'hub:HEAD /v2/library/wide3/', latencyMs: 1200 });
    sandbox.hub.setRemaining('keeper-ci', 27);
    const report = await runPrewarm(config.prewarm.images, {
      ...stack.as('prewarm'),
      deadline: Date.now() + 600_000,
    });
    // wide2 was held at 3 (what wide1 showed), so wide3 saw 24 - 3 in flight and could not take 3 more.
    expect(statuses(report)).toEqual({
      'library/wide1:1': 'warmed',
      'library/wide2:1': 'warmed',
      'library/wide3:1': 'deferred',
    });
    expect(report.images[2]!.reason).toMatch(/21 pulls left; pulling needs 3 and 20 are kept in reserve/);
    expect(sandbox.hub.remaining('keeper-ci')).toBe(21);
  });

  it.each(['all', 'requested'] as const)(
    'the first new multi-platform images of a night go one at a time until a pull shows how wide they are, so the reserve holds (index children: %s)',
    async (indexChildren) => {
      const names = ['fresh1', 'fresh2', 'fresh3', 'fresh4'];
      const config = parseConfig(
        `rules:\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\nprewarm:\n  platforms: [linux/amd64]\n  reserveUpstreamPulls: 20\n  images: [${names.map((n) => `library/${n}:1`).join(', ')}]\n`,
      );
      await sandbox.stop();
      sandbox = await startSandbox({ indexChildren });
      for (const name of names)
        sandbox.hub.publish(`library/${name}`, '1', {
          platforms: ['linux/amd64', 'linux/arm64', 'linux/s390x'],
        });
      const stack = sandboxDeps(sandbox, config);
      await reconcile(stack.aws, config);
      sandbox.hub.setRemaining('keeper-ci', 27);
      // Every check runs at once and every HEAD says 27 left; nothing has shown an index's width yet.
      const report = await runPrewarm(config.prewarm.images, {
        ...stack.as('prewarm'),
        deadline: Date.now() + 600_000,
      });
      // The first is pulled alone (3 pulls counted); the next is held at 3 (24 - 3 = 21), the rest would
      // break the reserve.
      expect(report.counts).toMatchObject({ warmed: 2, deferred: 2, failed: 0 });
      expect(report.upstreamPulls.estimated).toBe(6);
      for (const image of report.images.filter((i) => i.status === 'deferred'))
        expect(image.reason).toMatch(/21 pulls left; pulling needs 3 and 20 are kept in reserve/);
      expect(sandbox.hub.remaining('keeper-ci')).toBe(indexChildren === 'all' ? 21 : 25);
    },
  );

  it('a moved multi-platform image is reserved as many pulls as its cached index has platforms, so the reserve holds', async () => {
    const config = parseConfig(
      'rules:\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\nprewarm:\n  platforms: [linux/amd64]\n  reserveUpstreamPulls: 20\n  images: [library/wide:1]\n',
    );
    await sandbox.stop();
    sandbox = await startSandbox();
    sandbox.hub.publish('library/wide', '1', { platforms: ['linux/amd64', 'linux/arm64', 'linux/s390x'] });
    const stack = sandboxDeps(sandbox, config);
    await reconcile(stack.aws, config);
    const night = (dryRun = false) =>
      runPrewarm(config.prewarm.images, { ...stack.as('prewarm'), dryRun, deadline: Date.now() + 600_000 });
    // Not cached yet: how many platforms ECR will fetch is not known before the pull.
    const firstPlan = await night(true);
    expect(firstPlan.images[0]).toMatchObject({
      reason: 'not cached: at least 1 Docker Hub pull(s)',
      upstreamPullsAtLeast: true,
    });
    expect(formatPrewarm(firstPlan)).toMatch(
      /1 image\(s\) would be pulled, spending at least 1 Docker Hub pull\(s\)/,
    );
    expect((await night()).counts.warmed).toBe(1);

    sandbox.clock.advanceHours(25);
    sandbox.hub.release('library/wide', '1');
    // The cached index has 3 platforms: the move is planned as 3 pulls, not the 1 configured.
    const planned = await night(true);
    expect(planned.images[0]).toMatchObject({ status: 'would-pull', upstreamPulls: 3 });
    expect(planned.images[0]!.reason).toMatch(/^moved from \w{12}: 3 Docker Hub pull\(s\)$/);
    expect(planned.images[0]!.upstreamPullsAtLeast).toBeUndefined();
    expect(formatPrewarm(planned)).toMatch(/would be pulled, spending 3 Docker Hub pull\(s\)/);
    // 22 left with 20 kept for CI: 3 would break the reserve, so the image waits for another night.
    sandbox.hub.setRemaining('keeper-ci', 22);
    const pulls = sandbox.hub.pulls.length;
    const report = await night();
    expect(report.images[0]).toMatchObject({ status: 'deferred' });
    expect(report.images[0]!.reason).toMatch(/22 pulls left; pulling needs 3 and 20 are kept in reserve/);
    expect(sandbox.hub.pulls.length).toBe(pulls);
  });

  it("an ECR throttling burst is absorbed by the SDK's adaptive retry", async () => {
    const burst = sandbox.faults.add({
      match: 'ecr:DescribeImages',
      awsError: 'ThrottlingException',
      times: 6,
    });
    const report = await warm();
    expect(burst.hits).toBe(6);
    expect(report.counts.warmed).toBe(12);
  });

  it('starts no image when the Lambda time left is below the safety margin', async () => {
    const report = await warm(loadConfig('keeper.config.yaml'), Date.now() + 10_000);
    expect(report.counts.deferred).toBe(12);
    expect(report.images[0]!.reason).toMatch(/Lambda time left/);
  });

  it('checks four times and pulls twice as many images at once as it transfers (prewarm.concurrency)', async () => {
    const config = withPrewarm(loadConfig('keeper.config.yaml'), { concurrency: 2 });
    sandbox.faults.add({ match: 'hub:', latencyMs: 20 });
    // What is in flight, per kind of request, counted in images.
    const inFlight = {
      check: new Map<string, number>(),
      pull: new Map<string, number>(),
      blob: new Map<string, number>(),
    };
    const most = { check: 0, pull: 0, blob: 0 };
    const kindOf = (url: string, method: string) =>
      method === 'HEAD'
        ? 'check'
        : /\/blobs\//.test(url)
          ? 'blob'
          : /\/manifests\/(?!sha256:)/.test(url) && url.includes('/docker-hub/')
            ? 'pull'
            : undefined;
    const counting: typeof fetch = async (input, init) => {
      const url = urlOf(input);
      const kind = kindOf(url, init?.method ?? 'GET');
      const image = /\/v2\/(?:docker-hub\/)?(.+?)\/(?:manifests|blobs)\//.exec(url)?.[1] ?? url;
      if (!kind) return fetch(input, init);
      const map = inFlight[kind];
      map.set(image, (map.get(image) ?? 0) + 1);
      most[kind] = Math.max(most[kind], map.size);
      try {
        const res = await fetch(input, init);
        if (kind === 'blob') await res.clone().arrayBuffer();
        return res;
      } finally {
        const left = (map.get(image) ?? 1) - 1;
        if (left) map.set(image, left);
        else map.delete(image);
      }
    };
    const report = await runPrewarm(config.prewarm.images, {
      ...kit.as('prewarm'),
      config,
      fetch: counting,
      deadline: Date.now() + 600_000,
    });
    expect(report.counts.warmed).toBe(12);
    expect(most.blob).toBe(2);
    expect(most.pull).toBeGreaterThan(2);
    expect(most.pull).toBeLessThanOrEqual(4);
    expect(most.check).toBeGreaterThan(4);
    expect(most.check).toBeLessThanOrEqual(8);
  });

  it('no image’s checks wait for another image’s transfer', async () => {
    // One transfer at a time, and debian's layers crawl: every other image is still checked meanwhile.
    const config = withPrewarm(loadConfig('keeper.config.yaml'), { concurrency: 1 });
    sandbox.faults.add({ match: 'registry:GET /v2/docker-hub/library/debian/blobs', latencyMs: 1_500 });
    const checked = new Map<string, number>(); // image → when its upstream HEAD answered
    let debianDone = 0;
    const report = await runPrewarm(config.prewarm.images, {
      ...kit.as('prewarm'),
      config,
      deadline: Date.now() + 600_000,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        const url = urlOf(input);
        if (init?.method === 'HEAD' && !checked.has(url)) checked.set(url, Date.now());
        return res;
      },
      onImage: (result) => {
        if (result.image.startsWith('debian')) debianDone = Date.now();
      },
    });
    expect(report.counts.warmed).toBe(12);
    expect(checked.size).toBe(12);
    expect(Math.max(...checked.values())).toBeLessThan(debianDone);
  });

  it('the cache lookups do not wait for the Docker Hub login', async () => {
    // The token realm answers only once every repository's DescribeImages has been sent (or, if the
    // lookups wait for the login, after a few seconds, and the test fails).
    const config = loadConfig('keeper.config.yaml');
    const repositories = new Set(config.prewarm.images.map((i) => cacheRepositoryName(i))).size;
    const lookups = () => sandbox.awsCalls.get('ecr:DescribeImages') ?? 0;
    let lookupsBeforeLogin: number | undefined;
    const report = await runPrewarm(config.prewarm.images, {
      ...kit.as('prewarm'),
      config,
      deadline: Date.now() + 600_000,
      fetch: async (input, init) => {
        const url = new URL(urlOf(input));
        if (url.pathname === '/token') {
          for (let waited = 0; lookups() < repositories && waited < 3_000; waited += 10) await sleep(10);
          lookupsBeforeLogin ??= lookups();
        }
        return fetch(input, init);
      },
    });
    expect(report.counts.warmed).toBe(12);
    expect(lookupsBeforeLogin).toBe(repositories);
  });

  it('manifest-only warms no blob; a later full run fills the layers in without any upstream pull', async () => {
    const config = loadConfig('keeper.config.yaml');
    await warm(withPrewarm(config, { mode: 'manifest-only' }));
    expect(sandbox.ecr.repositories.get('docker-hub/library/debian')!.blobs.size).toBe(0);
    const pullsBefore = sandbox.hub.pulls.length;
    const full = await warm(config);
    expect(full.counts.warmed).toBe(12);
    expect(full.images.every((i) => /missing layer/.test(i.reason ?? ''))).toBe(true);
    expect(sandbox.hub.pulls.length).toBe(pullsBefore);
    expect(sandbox.ecr.repositories.get('docker-hub/library/debian')!.blobs.size).toBeGreaterThan(0);
  });
});

describe('an image the cache archived', () => {
  it('is reported archived, not failed, and no pull is spent on it', async () => {
    const config = loadConfig('keeper.config.yaml');
    const one = withPrewarm(config, { images: config.prewarm.images.slice(0, 1) });
    expect((await warm(one)).counts.warmed).toBe(1);
    // A lifecycle rule moved it to the archive storage class (nobody but the keeper pulled it).
    for (const image of sandbox.ecr.repositories.get('docker-hub/library/node')!.images.values())
      image.storageClass = 'ARCHIVE';
    const pullsBefore = sandbox.hub.pulls.length;
    const report = await warm(one);
    expect(report.images[0]).toMatchObject({ status: 'archived' });
    expect(report.images[0]!.reason).toMatch(/archive storage class/);
    expect(report.counts.failed).toBe(0);
    expect(sandbox.hub.pulls.length).toBe(pullsBefore);
  });
});

describe("a repository whose own policy refuses the pre-warm role (a guardrail's explicit Deny)", () => {
  it.each([
    ['its pulls', ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], 'pull-manifest', 'ecr:BatchGetImage'],
    ['its reads', ['ecr:DescribeImages'], 'cache-lookup', 'ecr:DescribeImages'],
  ])(
    'refusing %s: that image fails in AWS words naming the action and the policy, the others are unaffected, nothing spent',
    async (_name, actions, step, action) => {
      const config = loadConfig('keeper.config.yaml');
      expect((await warm(config)).counts.failed).toBe(0);
      sandbox.ecr.repositories.get('docker-hub/library/redis')!.repositoryPolicy = guardrailPolicy(actions);
      // It moved upstream, and ECR's 24 hours are past: the night would pull it.
      sandbox.hub.release('library/redis', '7');
      sandbox.clock.advanceHours(25);
      const pullsBefore = sandbox.hub.pulls.length;
      const report = await warm(config);
      expect(report.counts).toMatchObject({ failed: 1, warmed: 0 });
      const redis = report.images.find((i) => i.image === 'redis:7')!;
      expect(redis).toMatchObject({ status: 'failed', step, upstreamPulls: 0 });
      expect(redis.reason).toMatch(
        new RegExp(
          `not authorized to perform: ${action} on resource: arn:aws:ecr:us-east-1:123456789012:repository/docker-hub/library/redis with an explicit deny in a resource-based policy`,
        ),
      );
      expect(sandbox.hub.pulls.length).toBe(pullsBefore);
    },
  );
});

describe('a template with immutable tags', () => {
  it('a moved tag is not pulled again: ECR keeps the cached one, and nothing is spent on it', async () => {
    const immutable = parseConfig(
      readFileSync('keeper.config.yaml', 'utf8').replace(
        'imageTagMutability: MUTABLE',
        'imageTagMutability: IMMUTABLE',
      ),
    );
    await reconcile(aws, immutable);
    const one = withPrewarm(immutable, { images: immutable.prewarm.images.slice(0, 1) });
    expect((await warm(one)).counts.warmed).toBe(1);
    sandbox.hub.release('library/node', '22-alpine');
    sandbox.clock.advanceHours(25);
    const pullsBefore = sandbox.hub.pulls.length;
    const report = await warm(one);
    expect(report.images[0]).toMatchObject({ status: 'skipped', upstreamPulls: 0 });
    expect(report.images[0]!.reason).toMatch(/tags are immutable in this repository/);
    expect(report.upstreamPulls.estimated).toBe(0);
    expect(sandbox.hub.pulls.length).toBe(pullsBefore);
  });
});

describe('layer checks on unchanged nights', () => {
  // The keeper's clock is the sandbox's (as Lambda's and ECR's agree), pinned to a night chosen per test.
  const DAY = 86_400_000;
  const config = loadConfig('keeper.config.yaml');
  const references = config.prewarm.images.map((i) => `${cacheRepositoryName(i)}:${i.tag}`);
  const auditedOn = (night: number) => references.filter((r) => auditNight(r, night));
  /** A night, from today on, on which the weekly audit picks `wanted` images (0: none, >0: some). */
  const nightWhere = (wanted: (n: number) => boolean) => {
    for (let d = 0; d < 7; d++) {
      const night = Math.floor(sandbox.clock.now() / DAY) * DAY + d * DAY + 3_600_000;
      if (wanted(auditedOn(night).length)) return night;
    }
    throw new Error('no such night in a week');
  };
  const warmOn = (night: number) => {
    sandbox.clock.advance(night - sandbox.clock.now());
    const now = () => sandbox.clock.now();
    return runPrewarm(config.prewarm.images, {
      ...kit.as('prewarm'),
      config,
      deadline: now() + 600_000,
      now,
    });
  };
  const layerChecks = () => sandbox.awsCalls.get('ecr:BatchCheckLayerAvailability') ?? 0;
  /** That night fills debian's missing layers in, after `checks` layer checks, without a pull. */
  const expectDebianFilled = async (night: number, checks = 1) => {
    const before = layerChecks();
    const report = await warmOn(night);
    const debian = report.images.find((i) => i.image.startsWith('debian'))!;
    expect(debian, debian.reason).toMatchObject({
      status: 'warmed',
      reason: expect.stringMatching(/missing layer\(s\) filled in/),
    });
    expect(layerChecks() - before).toBe(checks);
    expect(report.upstreamPulls.estimated).toBe(0);
  };
  /** A client of the cache (CI, say) pulling by tag through the registry endpoint. */
  const cacheClient = async () => {
    const auth = (await aws.ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!;
    return new RegistryClient({
      baseUrl: auth.proxyEndpoint!,
      credentials: { basic: auth.authorizationToken! },
    });
  };

  it('after a whole night, the next checks no layers except the weekly audit’s', async () => {
    const quiet = nightWhere((n) => n === 0);
    const audit = nightWhere((n) => n > 0) + 7 * DAY;
    const cold = await warmOn(quiet - 14 * DAY);
    // The mark is the start of the run: anything the cache received during it is checked next night.
    const mark = await kit.aws.secrets.send(
      new DescribeSecretCommand({ SecretId: 'ecr-pullthroughcache/docker-hub' }),
    );
    expect(mark.Tags?.find((t) => t.Key === LAYERS_VERIFIED_TAG)?.Value).toBe(cold.startedAt);
    // The night after pulling them: what the cache received during the last run is exactly what that
    // run pulled in, whole; nothing is checked.
    let before = layerChecks();
    const next = await warmOn(quiet - 7 * DAY);
    expect(next.counts).toMatchObject({ skipped: 12 });
    expect(next.images.every((i) => /which pulled this digest in/.test(i.reason ?? ''))).toBe(true);
    expect(layerChecks() - before).toBe(0);

    before = layerChecks();
    const unchanged = await warmOn(quiet);
    expect(unchanged.counts).toMatchObject({ skipped: 12 });
    expect(unchanged.images.every((i) => /layers verified by the run of/.test(i.reason ?? ''))).toBe(true);
    expect(layerChecks()).toBe(before);

    before = layerChecks();
    const audited = await warmOn(audit);
    expect(layerChecks() - before).toBe(auditedOn(audit).length);
    expect(audited.images.filter((i) => i.reason === 'unchanged').length).toBe(auditedOn(audit).length);
  });

  it('a digest the cache received while a run ran, but not from it, is checked the next night', async () => {
    const quiet = nightWhere((n) => n === 0);
    await warmOn(quiet - 14 * DAY);
    // As an unchanged night ends, debian moves upstream and a client pulls its manifest through the
    // cache (ECR's last check of the tag is a week old): a new digest, no layers, received in the window.
    let tagWrites = 0;
    let pulled: Promise<unknown> | undefined;
    sandbox.faults.add({
      match: 'secretsmanager:TagResource',
      latencyMs: 500,
      before: () => {
        if (++tagWrites !== 2) return; // the first takes the lease, the second records the night
        sandbox.hub.release('library/debian', 'bookworm-slim');
        pulled = cacheClient().then((c) => c.getManifest('docker-hub/library/debian', 'bookworm-slim'));
      },
    });
    const unchanged = await warmOn(quiet - 7 * DAY);
    await pulled;
    sandbox.faults.clear();
    expect(unchanged.counts).toMatchObject({ skipped: 12 });

    await expectDebianFilled(quiet);
  });

  it('a whole run of a few images by hand moves no mark: what it did not look at is still checked', async () => {
    const quiet = nightWhere((n) => n === 0);
    await warmOn(quiet - 14 * DAY);
    // Two days later debian moves and a client pulls its manifest through the cache: no layers.
    sandbox.clock.advance(quiet - 12 * DAY - sandbox.clock.now());
    sandbox.hub.release('library/debian', 'bookworm-slim');
    await (await cacheClient()).getManifest('docker-hub/library/debian', 'bookworm-slim');
    // Then someone warms alpine by hand: a whole run, but of one image.
    sandbox.clock.advance(quiet - 10 * DAY - sandbox.clock.now());
    const byHand = await runPrewarm([resolveImage(config, 'alpine:3.20')], {
      ...kit.as('prewarm'),
      config,
      deadline: sandbox.clock.now() + 600_000,
      now: () => sandbox.clock.now(),
    });
    expect(byHand.images).toHaveLength(1);
    // The cold night's mark stands. What it pulled in is whole, but debian's old digest is gone from
    // the cache's tags, so the images of debian's part of the fingerprint are checked with it.
    const sameBucketAsDebian = references.filter(
      (r) => bucketOf(r) === bucketOf('docker-hub/library/debian:bookworm-slim'),
    );
    await expectDebianFilled(quiet, sameBucketAsDebian.length);
  });

  it('an image a run left without its layers is checked, and filled in, on the next night that reaches it', async () => {
    const quiet = nightWhere((n) => n === 0);
    await warmOn(quiet - 14 * DAY);
    await warmOn(quiet - 7 * DAY);
    // A release of debian, whose layers are cut short by the deadline: its manifest is cached, its layers are not.
    sandbox.hub.release('library/debian', 'bookworm-slim');
    sandbox.faults.add({ match: 'registry:GET /v2/docker-hub/library/debian/blobs', latencyMs: 20_000 });
    sandbox.clock.advance(quiet - DAY - sandbox.clock.now());
    const cut = await createPrewarmHandler({
      ...kit.as('prewarm'),
      config: withPrewarm(config, { safetyMarginSeconds: 1 }),
      now: () => sandbox.clock.now(),
    })({}, lambdaContext('prewarm', { remainingMs: 8_000 }));
    const debianCut = cut.images.find((i) => i.image.startsWith('debian'))!;
    expect(debianCut, debianCut.reason).toMatchObject({ status: 'deferred', step: 'pull-blobs' });
    sandbox.faults.clear();
    // A night too short to reach any image moves no mark: nothing it left behind is taken as whole.
    sandbox.clock.advance(quiet - DAY / 2 - sandbox.clock.now());
    const short = await runPrewarm(config.prewarm.images, {
      ...kit.as('prewarm'),
      config,
      deadline: sandbox.clock.now() + 5_000,
      now: () => sandbox.clock.now(),
    });
    expect(short.counts.deferred).toBe(12);

    await expectDebianFilled(quiet);
  }, 30_000);
});

describe('a night Docker Hub is down', () => {
  const context = lambdaContext('prewarm', { remainingMs: 900_000 });
  const metric = (name: string) => sandbox.cloudwatch.latest('EcrCacheKeeper', name);
  const run = async (event: unknown = {}) => (await prewarmHandler(event, context)) as PrewarmReport;

  it.each([
    ['answering 503', { status: 503 }],
    ['not answering at all', { drop: true }],
  ])(
    '(%s): what the cache holds is unverified, not failed, so no alarm fires; a new image fails',
    async (_how, fault) => {
      await run();
      sandbox.clock.advanceHours(25);
      sandbox.faults.add({ match: 'hub:', ...fault });
      const report = await run({ images: ['node:22-alpine', 'python:3.13-slim', 'busybox:1.37'] });
      expect(statuses(report)).toEqual({
        'node:22-alpine': 'unverified',
        'python:3.13-slim': 'unverified',
        'busybox:1.37': 'failed',
      });
      expect(report.images.find((i) => i.image === 'node:22-alpine')).toMatchObject({
        step: 'upstream-check',
        reason: expect.stringMatching(/; the cache still serves [0-9a-f]{12}, checked again next night$/),
      });
      expect([metric('PrewarmImagesFailed'), metric('PrewarmImagesUnverified')]).toEqual([1, 2]);
      expect(sandbox.hub.pulls).toHaveLength(17); // the first night's
    },
  );

  it('its token endpoint throttling the login (429) stops the night at Docker Hub: nothing fails, no failure alarm', async () => {
    await run();
    sandbox.clock.advanceHours(25);
    sandbox.faults.add({ match: 'hub:GET /token', status: 429 });
    const report = await run({ images: ['node:22-alpine', 'busybox:1.37'] });
    expect(statuses(report)).toEqual({ 'node:22-alpine': 'deferred', 'busybox:1.37': 'deferred' });
    expect(report.stoppedUpstream).toMatch(/^registry-1\.docker\.io: upstream login throttled/);
    expect(report.images[0]!.reason).toMatch(
      /^not checked: registry-1\.docker\.io: upstream login throttled/,
    );
    expect(metric('PrewarmImagesFailed')).toBe(0);
  });

  it('Secrets Manager failing to give the credential (a 5xx past its retries) stops the night at Docker Hub: deferred, not failed', async () => {
    await run();
    sandbox.clock.advanceHours(25);
    const quick = sandboxDeps(sandbox, 'keeper.config.yaml', { maxAttempts: 2 });
    sandbox.faults.add({ match: 'secretsmanager:GetSecretValue', awsError: 'InternalServiceError' });
    const report = await createPrewarmHandler(quick.as('prewarm'))({ images: ['node:22-alpine'] }, context);
    expect(statuses(report)).toEqual({ 'node:22-alpine': 'deferred' });
    expect(report.stoppedUpstream).toMatch(
      /^registry-1\.docker\.io: credential secret ecr-pullthroughcache\/docker-hub could not be read for now \(InternalServiceError\)/,
    );
    expect(metric('PrewarmImagesFailed')).toBe(0);
  });

  it('three nights in which no run checks a single image (the lease never taken) fire the "no progress" alarm, as deployed; a night that checks clears it', async () => {
    const alarm = deployedAlarms().find((a) => a.MetricName === 'PrewarmImagesChecked');
    expect(alarm, 'an alarm on PrewarmImagesChecked in the packaged template').toBeDefined();
    const quick = sandboxDeps(sandbox, 'keeper.config.yaml', { maxAttempts: 2 });
    let state: AlarmState = 'INSUFFICIENT_DATA';
    const nights: number[][] = [];
    const night = async () => {
      const from = sandbox.cloudwatch.datums.length;
      const report = await createPrewarmHandler(quick.as('prewarm'))({}, context);
      nights.push(
        sandbox.cloudwatch.datums
          .slice(from)
          .filter((d) => d.metricName === 'PrewarmImagesChecked')
          .flatMap((d) => d.values),
      );
      if (nights.length >= alarm!.EvaluationPeriods) state = alarmStateAfter(alarm!, nights, state);
      sandbox.clock.advanceHours(24);
      return report;
    };
    // Secrets Manager refuses the lease's tags (an SCP, the secret's 50-tag limit…): nothing is
    // checked, every image deferred; two nights are not yet an alarm, the third is.
    sandbox.faults.add({ match: 'secretsmanager:TagResource', awsError: 'InternalServiceError' });
    for (let n = 1; n <= 3; n++) {
      const report = await night();
      expect(report.counts.deferred, `night ${n}`).toBe(report.images.length);
    }
    expect(nights).toEqual([[0], [0], [0]]);
    expect(state).toBe('ALARM');
    sandbox.faults.clear();
    await night();
    expect(state).toBe('OK');
  });

  it('stops asking it after five checks in a row fail: the rest are deferred, not hammered', async () => {
    const config = withPrewarm(loadConfig('keeper.config.yaml'), { concurrency: 1 });
    await warm(config);
    sandbox.clock.advanceHours(25);
    sandbox.faults.add({ match: 'hub:', status: 503 });
    const heads = sandbox.faults.add({ match: /^hub:HEAD \/v2\/.+\/manifests\// }); // counts them
    const report = await warm(config);
    // Four checks at a time (concurrency 1): those under way when the fifth failure lands finish.
    const checked = report.images.filter((i) => i.status === 'unverified');
    const deferred = report.images.filter((i) => i.status === 'deferred');
    expect(checked.length).toBeGreaterThanOrEqual(5);
    expect(checked.length).toBeLessThanOrEqual(8);
    expect(checked.length + deferred.length).toBe(12);
    expect(report.counts.failed).toBe(0);
    expect(report.stoppedUpstream).toBe(
      'registry-1.docker.io failed 5 checks in a row (HTTP 503): not asked again tonight',
    );
    for (const line of deferred)
      expect(line.reason).toBe(
        'not checked: registry-1.docker.io failed 5 checks in a row (HTTP 503): not asked again tonight',
      );
    // Each check is tried 4 times; the deferred images cost nothing.
    expect(heads.hits).toBeLessThanOrEqual(checked.length * 4);
  });
});

describe("a night ECR itself fails (past the SDK's and the client's retries)", () => {
  const context = lambdaContext('prewarm', { remainingMs: 900_000 });
  const metric = (name: string) => sandbox.cloudwatch.latest('EcrCacheKeeper', name);

  it.each([
    [
      'DescribeImages answering 500',
      { match: 'ecr:DescribeImages', awsError: 'ServerException' },
      'cache-lookup',
    ],
    ['its registry answering 500', { match: 'registry:GET /v2/', status: 500 }, 'pull-blobs'],
    ['its registry not answering', { match: 'registry:GET /v2/', drop: true }, 'pull-blobs'],
  ] as const)(
    '(%s): what the cache holds is unverified, not failed, so the failure alarm stays quiet',
    async (_how, fault, step) => {
      const quick = sandboxDeps(sandbox, 'keeper.config.yaml', { maxAttempts: 2 });
      const images = ['node:22-alpine', 'python:3.13-slim'];
      await createPrewarmHandler(quick.as('prewarm'))({ images }, context);
      // A day later, with the layers' weekly check due, so the unchanged night reads the registry.
      sandbox.clock.advanceHours(24 * 8);
      sandbox.faults.add(fault);
      const report = await createPrewarmHandler(quick.as('prewarm'))({ images }, context);
      expect(statuses(report), JSON.stringify(report.images)).toEqual({
        'node:22-alpine': 'unverified',
        'python:3.13-slim': 'unverified',
      });
      expect(report.images[0]).toMatchObject({
        step,
        reason: expect.stringMatching(/checked again next night$/),
      });
      expect([metric('PrewarmImagesFailed'), metric('PrewarmImagesUnverified')]).toEqual([0, 2]);
    },
  );

  it("its registry's 503 (how ECR answers for upstream: a blob cut short or sent with other bytes) still fails: CI cannot pull what the cache lacks either", async () => {
    const quick = sandboxDeps(sandbox, 'keeper.config.yaml', { maxAttempts: 2 });
    await createPrewarmHandler(quick.as('prewarm'))({ images: ['node:22-alpine'] }, context);
    sandbox.clock.advanceHours(24 * 8);
    sandbox.faults.add({ match: 'registry:GET /v2/', status: 503 });
    const report = await createPrewarmHandler(quick.as('prewarm'))({ images: ['node:22-alpine'] }, context);
    expect(report.images[0]).toMatchObject({ status: 'failed', step: 'pull-blobs', cause: 'upstream-5xx' });
  });
});

describe('the prewarm handler', () => {
  const context = lambdaContext('prewarm', { remainingMs: 900_000 });

  it('warms an override list and publishes the outcome metrics', async () => {
    const report = await prewarmHandler({ images: ['alpine:3.20', 'busybox:1.36'] }, context);
    expect(report.counts.warmed).toBe(2);
    expect(sandbox.cloudwatch.latest('EcrCacheKeeper', 'PrewarmImagesWarmed')).toBe(2);
    expect(sandbox.cloudwatch.latest('EcrCacheKeeper', 'PrewarmImagesFailed')).toBe(0);
    expect(sandbox.cloudwatch.latest('EcrCacheKeeper', 'UpstreamPullsSpent')).toBe(3);
    expect(sandbox.cloudwatch.latest('EcrCacheKeeper', 'DockerHubPullsRemaining')).toBe(197);
    await expect(prewarmHandler({ images: ['node@sha256:abc'] }, context)).rejects.toThrow(/pins a digest/);
    await expect(prewarmHandler({ image: 'x' }, context)).rejects.toThrow(/unknown key "image"/);
  });
});

describe('the failure reports, through the handler, with their metrics', () => {
  const context = lambdaContext('prewarm', { remainingMs: 900_000 });
  const metric = (name: string) => sandbox.cloudwatch.latest('EcrCacheKeeper', name);
  const run = async (event: unknown = {}) => (await prewarmHandler(event, context)) as PrewarmReport;

  it('upstream 429: deferred, not failed', async () => {
    sandbox.faults.add({
      match: 'hub:GET /v2/library/golang/manifests',
      before: () => sandbox.hub.setRemaining(sandbox.seeded!.username, 0),
    });
    const report = await run();
    expect(metric('PrewarmImagesDeferred')).toBe(report.counts.deferred);
    expect(report.counts.deferred).toBeGreaterThan(0);
    expect(metric('PrewarmImagesFailed')).toBe(0);
  });

  it('upstream 500s: that image failed, the rest warmed', async () => {
    sandbox.faults.add({ match: 'hub:GET /v2/library/redis/manifests', status: 500 });
    await run();
    expect([metric('PrewarmImagesFailed'), metric('PrewarmImagesWarmed')]).toEqual([1, 11]);
  });

  it('expired PAT: every image failed, no pull spent', async () => {
    sandbox.seeded!.pat.expires_at = new Date(sandbox.clock.now() - 1000).toISOString();
    await run();
    expect([metric('PrewarmImagesFailed'), metric('UpstreamPullsSpent')]).toEqual([12, 0]);
  });

  it('unknown images: failed, the others warmed', async () => {
    await run({ images: ['alpine:3.20', 'does-not-exist:1', 'busybox:no-such-tag'] });
    expect([metric('PrewarmImagesFailed'), metric('PrewarmImagesWarmed')]).toEqual([2, 1]);
  });

  it('ECR throttling burst: everything warmed', async () => {
    sandbox.faults.add({ match: 'ecr:DescribeImages', awsError: 'ThrottlingException', times: 4 });
    await run();
    expect([metric('PrewarmImagesWarmed'), metric('PrewarmImagesFailed')]).toEqual([12, 0]);
  });
});

describe('a report that is never lost, and one spend per image', () => {
  const registryGets = (path: string) =>
    sandbox.faults.add({ match: `registry:GET /v2/docker-hub/library/${path}` });
  const ecrRateExceeded = { errors: [{ code: 'TOOMANYREQUESTS', message: 'Rate exceeded' }] };

  it('ECR throttling its registry (429 Rate exceeded) is waited out, not taken for Docker Hub’s limit', async () => {
    sandbox.faults.add({
      match: 'registry:GET /v2/docker-hub/library/node/manifests/22-alpine',
      status: 429,
      body: ecrRateExceeded,
      times: 2,
    });
    const report = await warm();
    expect(report.stoppedUpstream).toBeUndefined();
    expect(report.counts).toMatchObject({ warmed: 12, failed: 0, deferred: 0 });
  });

  it('ECR throttling that persists leaves the image unverified (no alarm), and the others go on', async () => {
    sandbox.faults.add({
      match: 'registry:GET /v2/docker-hub/library/node/manifests/22-alpine',
      status: 429,
      body: ecrRateExceeded,
    });
    const report = await warm();
    expect(statuses(report)['node:22-alpine']).toBe('unverified');
    expect(report.counts).toMatchObject({ warmed: 11, failed: 0, unverified: 1 });
    expect(report.stoppedUpstream).toBeUndefined();
  });

  it('a pull through the cache that fails upstream (503) is not sent again in the same run', async () => {
    sandbox.faults.add({ match: 'hub:GET /v2/library/redis/manifests', status: 503 });
    const gets = registryGets('redis/manifests/7');
    const report = await warm();
    expect(statuses(report)['redis:7']).toBe('failed');
    expect(gets.hits).toBe(1);
  });

  it('the same image written three ways is warmed once, and the report says which entries were merged', async () => {
    const images = [
      'node:22-alpine',
      'docker.io/library/node:22-alpine',
      'index.docker.io/library/node:22-alpine',
    ];
    const report = (await prewarmHandler({ images })) as PrewarmReport;
    expect(report.images).toHaveLength(1);
    expect(report.merged?.map((m) => m.image)).toEqual(images.slice(1));
    expect(report.upstreamPulls.estimated).toBe(2);
    expect(sandbox.hub.pulls).toHaveLength(2);
  });

  it('refuses an override list longer than the config allows', async () => {
    const images = Array.from({ length: 1001 }, (_, i) => `img${i}:1`);
    await expect(prewarmHandler({ images })).rejects.toThrow(/at most 1000/);
  });

  it('a slow request near the deadline is cut short: the report and its metrics still go out in time', async () => {
    // 20 s of latency on one image's layers, with 8 s of Lambda time left.
    sandbox.faults.add({ match: 'registry:GET /v2/docker-hub/library/debian/blobs', latencyMs: 20_000 });
    const started = Date.now();
    const handler = createPrewarmHandler({
      ...kit.as('prewarm'),
      config: withPrewarm(loadConfig('keeper.config.yaml'), { safetyMarginSeconds: 1 }),
    });
    const report = await handler({}, lambdaContext('prewarm', { remainingMs: 8_000 }));
    expect(Date.now() - started).toBeLessThan(8_000);
    const debian = report.images.find((i) => i.image.startsWith('debian'))!;
    expect(debian, debian.reason).toMatchObject({ status: 'deferred', cause: 'deadline' });
    expect(report.counts.warmed).toBe(11);
    expect(report.metrics, JSON.stringify(report.metrics)).toEqual({ published: true });
    expect(sandbox.cloudwatch.latest('EcrCacheKeeper', 'PrewarmImagesDeferred')).toBe(1);
    expect(kit.logs.some((e) => e.message === 'prewarm report')).toBe(true);
  }, 30_000);

  it('throttled PutMetricData never costs the report: it is returned, and the failure logged', async () => {
    sandbox.faults.add({ match: 'cloudwatch:PutMetricData', awsError: 'ThrottlingException' });
    const report = (await prewarmHandler({ images: ['alpine:3.20'] })) as PrewarmReport;
    expect(report.counts.warmed).toBe(1);
    expect(report.metrics).toMatchObject({
      published: false,
      error: expect.stringMatching(/ThrottlingException|injected/),
    });
    expect(kit.logs.some((e) => e.message === 'prewarm metrics not published')).toBe(true);
  }, 30_000);

  it('after Docker Hub’s 429, the pulls-spent figure is what this run spent, not what others took', async () => {
    sandbox.faults.add({
      match: 'hub:GET /v2/library/golang/manifests',
      before: () => sandbox.hub.setRemaining(sandbox.seeded!.username, 0),
    });
    const report = await warm(withPrewarm(loadConfig('keeper.config.yaml'), { concurrency: 1 }));
    const spentHere = sandbox.hub.pulls.length;
    expect(report.upstreamPulls.measured ?? report.upstreamPulls.estimated).toBe(spentHere);
  });

  it('CI spending the same account’s pulls while the night runs is not counted as the night’s', async () => {
    // As golang is pulled, CI (another client of the account) takes 60 pulls; no 429 follows.
    const user = sandbox.seeded!.username;
    sandbox.faults.add({
      match: 'hub:GET /v2/library/golang/manifests',
      times: 1,
      before: () => sandbox.hub.setRemaining(user, sandbox.hub.remaining(user)! - 60),
    });
    const report = await prewarmHandler({});
    expect(report.counts.warmed).toBe(12);
    // The counter fell by 77; this run spent 17, which is what it reports and publishes.
    expect(sandbox.hub.pulls).toHaveLength(17);
    expect(report.upstreamPulls).toEqual({ estimated: 17 });
    expect(sandbox.cloudwatch.latest('EcrCacheKeeper', 'UpstreamPullsSpent')).toBe(17);
  });
});

describe('one pre-warm at a time', () => {
  it('two runs started together spend the night’s pulls once: the second finds the lease and warms nothing', async () => {
    const config = loadConfig('keeper.config.yaml');
    // Each run's token requests: the refused one may read while it asks for the lease, but sends no credential.
    const runCountingLogins = async () => {
      let logins = 0;
      const report = await runPrewarm(config.prewarm.images, {
        ...kit.as('prewarm'),
        config,
        deadline: Date.now() + 600_000,
        fetch: (input, init) => {
          if (new URL(urlOf(input)).pathname === '/token') logins++;
          return fetch(input, init);
        },
      });
      return { report, logins };
    };
    const [a, b] = await Promise.all([runCountingLogins(), runCountingLogins()]);
    const [ran, refused] = a.report.lease ? [b, a] : [a, b];
    expect(ran.report.counts.warmed).toBe(12);
    expect(ran.logins).toBe(1);
    expect(refused.logins).toBe(0);
    expect(refused.report.lease).toMatchObject({ held: false });
    expect(
      refused.report.images.every((i) => i.status === 'deferred' && /holds the lease/.test(i.reason ?? '')),
    ).toBe(true);
    expect(sandbox.hub.pulls).toHaveLength(17);
    // Released at the end: the next night runs.
    expect((await warm(config)).lease).toBeUndefined();
  });

  it('without a Docker Hub rule the lease is on the first rule credential: a second run is still kept out', async () => {
    const config = parseConfig(
      'rules:\n  - { prefix: quay, upstream: quay }\n  - { prefix: ghcr, upstream: ghcr, credentialSecret: ecr-pullthroughcache/ghcr }\nprewarm:\n  images: [quay.io/prometheus/node-exporter:v1.9.0]\n',
    );
    await sandbox.stop();
    sandbox = await startSandbox({ upstreamStandIns: ['quay.io'] });
    sandbox.standIns['quay.io']!.publish('prometheus/node-exporter', 'v1.9.0');
    sandbox.secrets.create('ecr-pullthroughcache/ghcr', '{"username":"u","accessToken":"t"}');
    const stack = sandboxDeps(sandbox, config);
    await reconcile(stack.aws, config);
    const { setTags } = await import('../../lib/credential/metadata.js');
    await setTags(stack.aws.secrets, 'ecr-pullthroughcache/ghcr', {
      'prewarm-lease': `other-run ${new Date(Date.now() + 600_000).toISOString()}`,
    });
    // As the stack's pre-warm role: its policy lets it hold the lease there.
    const night = () =>
      runPrewarm(config.prewarm.images, { ...stack.as('prewarm'), deadline: Date.now() + 600_000 });
    const refused = await night();
    expect(refused.lease).toMatchObject({ held: false });
    expect(refused.images[0]).toMatchObject({
      status: 'deferred',
      reason: expect.stringMatching(/holds the lease/),
    });
    expect(sandbox.standIns['quay.io']!.pulls).toHaveLength(0);
    await setTags(stack.aws.secrets, 'ecr-pullthroughcache/ghcr', { 'prewarm-lease': '' });
    expect((await night()).counts.warmed).toBe(1);
  });

  it('a lease that cannot be read keeps the run from starting, and says so: no other run is blamed', async () => {
    const { DeleteSecretCommand } = await import('@aws-sdk/client-secrets-manager');
    await aws.secrets.send(
      new DeleteSecretCommand({
        SecretId: 'ecr-pullthroughcache/docker-hub',
        ForceDeleteWithoutRecovery: true,
      }),
    );
    const report = await warm();
    expect(report.lease).toMatchObject({ held: false, unreadable: expect.stringMatching(/does not exist/) });
    expect(report.lease?.by).toBeUndefined();
    for (const line of report.images) {
      expect(line.status).toBe('deferred');
      expect(line.reason).toMatch(
        /^the pre-warm lease could not be read \(secret ecr-pullthroughcache\/docker-hub: does not exist/,
      );
      expect(line.reason).not.toMatch(/another pre-warm run/);
    }
    expect(sandbox.hub.pulls).toHaveLength(0);
  });

  it('a lease left by a crashed run expires with its deadline', async () => {
    const { setTags } = await import('../../lib/credential/metadata.js');
    await setTags(aws.secrets, 'ecr-pullthroughcache/docker-hub', {
      'prewarm-lease': `crashed-run ${new Date(Date.now() - 1000).toISOString()}`,
    });
    expect((await warm()).counts.warmed).toBe(12);
  });
});

describe('prewarm --dry-run', () => {
  it('says which images would spend pulls and how many, pulls nothing, and a run then spends exactly that', async () => {
    await warm();
    for (const [repository, tag] of [
      ['library/node', '22-alpine'],
      ['library/python', '3.13-slim'],
    ])
      sandbox.hub.release(repository!, tag!);
    sandbox.clock.advanceHours(25);
    const pullsBefore = sandbox.hub.pulls.length;
    const io = captureIo();
    expect(await runCli(['prewarm', '--dry-run'], io.io, kit.cli)).toBe(0);
    expect(sandbox.hub.pulls.length).toBe(pullsBefore);
    const text = io.out.join('\n');
    expect(text).toMatch(/↓ node:22-alpine\s+would-pull/);
    expect(text).toMatch(/↓ python:3.13-slim\s+would-pull/);
    const predicted = Number(/spending (\d+) Docker Hub pull/.exec(text)?.[1]);
    expect(text).toMatch(/2 image\(s\) would be pulled/);
    const night = await warm();
    expect(night.upstreamPulls.estimated).toBe(predicted);
    expect(sandbox.hub.pulls.length - pullsBefore).toBe(predicted);
  });
});
