/**
 * The sandbox's ECR pulling through from a real registry (the CNCF distribution registry, Debian's
 * `docker-registry`, standing in for Quay's public images): the sandbox's own upstream fetch is held
 * to what a real registry answers, and the pre-warm to digests a real registry computes.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/load.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import type { PrewarmReport } from '../../lib/prewarm/report.js';
import { runPrewarm } from '../../lib/prewarm/run.js';
import { buildImage } from '../../sandbox/dockerhub/images.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { cacheLogin } from './support/cache-login.js';
import { pushImage } from './support/push.js';
import { type RealRegistry, realRegistryAvailable, startRealRegistry } from './support/real-registry.js';
import { sandboxDeps } from './support/sandbox-deps.js';

const skopeoAvailable = spawnSync('skopeo', ['--version']).status === 0;
const MULTI = ['prometheus/node-exporter', 'v1.9.0'] as const;
const SINGLE = ['prometheus/alertmanager', 'v0.28.0'] as const;
const config = parseConfig(
  `rules:\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\n  - { prefix: quay, upstream: quay }\nprewarm:\n  platforms: [linux/amd64, linux/arm64]\n  images: [quay.io/${MULTI.join(':')}, quay.io/${SINGLE.join(':')}]\n`,
);
const byImage = (report: PrewarmReport) =>
  Object.fromEntries(
    report.images.map((i) => [i.image.replace('quay.io/', ''), [i.status, i.upstreamDigest]]),
  );

describe.skipIf(!realRegistryAvailable())('pull-through from a real registry upstream', () => {
  let real: RealRegistry;
  let sandbox: Sandbox;

  /** Pushes generation `generation` of an image to the real registry; returns its top digest. */
  const publish = async (
    [repository, tag]: readonly [string, string],
    generation: number,
    platforms: string[],
  ) => {
    const image = buildImage(repository, tag, generation, { platforms, layerSizes: [4096, 1024] });
    await pushImage(real.url, undefined, repository, tag, image);
    return image.top.digest;
  };

  beforeAll(async () => {
    real = await startRealRegistry({ anonymous: true });
    sandbox = await startSandbox({ externalUpstreams: { 'quay.io': real.url } });
  });
  afterAll(async () => {
    await sandbox?.stop();
    await real?.stop();
  });

  it('warms what the real registry serves, leaves it the next night, and warms a tag moved there', async () => {
    const multi = await publish(MULTI, 0, ['linux/amd64', 'linux/arm64']);
    const single = await publish(SINGLE, 0, ['linux/amd64']);
    const stack = sandboxDeps(sandbox, config);
    await reconcile(stack.aws, config);
    const night = () =>
      runPrewarm(config.prewarm.images, { ...stack.as('prewarm'), deadline: Date.now() + 120_000 });

    const first = await night();
    expect(byImage(first), JSON.stringify(first.images)).toEqual({
      [MULTI.join(':')]: ['warmed', multi],
      [SINGLE.join(':')]: ['warmed', single],
    });
    // The cache holds what the real registry computed, the index and both platforms' manifests.
    const cached = sandbox.ecr.repositories.get(`quay/${MULTI[0]}`)!;
    expect([...cached.images.keys()]).toContain(multi);
    expect(cached.images.size).toBe(3);

    sandbox.clock.advanceHours(25);
    const second = await night();
    expect(second.counts).toMatchObject({ skipped: 2, failed: 0 });

    // A new build pushed to the same tag: the next night pulls it through, and the cache serves it.
    const moved = await publish(MULTI, 1, ['linux/amd64', 'linux/arm64']);
    sandbox.clock.advanceHours(25);
    const third = await night();
    expect(byImage(third)[MULTI.join(':')]).toEqual(['warmed', moved]);
    expect(byImage(third)[SINGLE.join(':')]![0]).toBe('skipped');
    expect(cached.tagToDigest.get(MULTI[1])).toBe(moved);

    // What a real client gets from the cache is what the real registry serves, byte for byte, and
    // every blob it copies hashes to its digest (skopeo checks).
    if (!skopeoAvailable) return console.warn('skipping the skopeo copy: skopeo not found');
    const { host, creds } = await cacheLogin(sandboxDeps(sandbox, config).aws.ecr);
    const cache = `docker://${host}/quay/${MULTI.join(':')}`;
    const upstream = `docker://${new URL(real.url).host}/${MULTI.join(':')}`;
    const skopeo = (...args: string[]) => promisify(execFile)('skopeo', args, { maxBuffer: 1 << 24 });
    const raw = async (ref: string, ...auth: string[]) =>
      (await skopeo('inspect', '--raw', '--tls-verify=false', ...auth, ref)).stdout;
    expect(await raw(cache, '--creds', creds)).toBe(await raw(upstream));
    const out = mkdtempSync(join(tmpdir(), 'keeper-real-upstream-'));
    await skopeo('copy', '--all', '--src-tls-verify=false', '--src-creds', creds, cache, `oci:${out}:copy`);
  });
});
